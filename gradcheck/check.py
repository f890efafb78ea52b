"""The public checks: ``check_gradient`` and ``check_layer``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._blocks import (
    BackwardReview,
    NoiseFloor,
    analytic_array,
    apply_findings,
    compare_block,
    error_block,
    finding_block,
)
from ._calls import UserCodeError, call_user, describe_function
from ._crosscheck import scipy_cross_check
from ._estimate import (
    LayerProblem,
    describe_method,
    estimate_gradient,
    validate_options,
)
from ._inputs import (
    compute_dtype_of,
    validate_callable,
    validate_grads,
    validate_inputs,
    validate_nonnegative,
    validate_optional_callable,
)
from ._projection import DEFAULT_DIRECTIONS, projection_block
from .compare import Tolerance, resolve_tolerance
from .diagnostics import (
    finish_report,
    forward_finding,
    nonsmooth_masks,
    repeat_finding,
    with_reset,
)
from .errors import GradcheckError
from .losses import ScalarLoss, make_loss
from .numeric import FloatArray, as_float64_copy, scalar_value
from .report import REPORT_CODES, Block, CrossCheck, Report, combine_status

__all__ = ["check_gradient", "check_layer"]


def check_gradient(
    f: Callable[[FloatArray], object],
    grad: Callable[[FloatArray], ArrayLike],
    x: ArrayLike,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    reset: Callable[[], object] | None = None,
    nondet_tol: float = 0.0,
) -> Report:
    """Compare ``grad(x)`` with central differences of the scalar function ``f``.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``.
    grad : callable
        ``grad(x) -> array`` shaped like ``x``: the analytic gradient.
    x : array_like
        The point; never modified.
    rtol, atol : float, optional
        Tolerances; by default taken from ``x``'s dtype (see
        ``gradcheck.compare``). Each element also gets its finite-difference
        error bound added to ``atol``.
    reset : callable, optional
        Called before every call of ``f`` and ``grad``, e.g. to re-seed the
        random generator of a stochastic ``f``.
    nondet_tol : float
        Largest difference accepted between two calls of ``grad`` on the same
        ``x`` (default 0: they must agree exactly).

    Returns
    -------
    Report
        ``report.passed`` is the verdict; ``str(report)`` explains it.

    Examples
    --------
    >>> import numpy as np
    >>> report = check_gradient(lambda v: np.sum(v**3), lambda v: 3 * v**2,
    ...                         np.array([0.5, -1.0, 2.0]))
    >>> report.status
    'pass'
    """
    validate_callable(f, "f")
    validate_callable(grad, "grad")
    validate_optional_callable(reset, "reset")
    nondet_tol = validate_nonnegative(nondet_tol, "nondet_tol")
    x_array = validate_inputs({"x": x}, differentiated=("x",))["x"]
    x0 = as_float64_copy(x_array)
    dtype = compute_dtype_of(x_array.dtype)
    tolerance = resolve_tolerance(dtype, rtol, atol)
    f, grads_of = with_reset(reset, f, {"x": grad})
    grad = grads_of["x"]

    def loss_of_x(point: FloatArray) -> float:
        return scalar_value(call_user(f, "the function f", point), "f")

    unstable = forward_finding(lambda: loss_of_x(x0.copy()), nondet_tol, dtype)
    if unstable is not None:
        block = finding_block("x", unstable)
        report = _report({"x": block}, describe_function(grad), "f", None)
        return finish_report(report, {"x": x}, ("x",))
    try:
        analytic = call_user(grad, "the gradient function", x_array)
        block = _block_for("x", analytic, x0, loss_of_x, tolerance, dtype)
        if block.analytic is not None:
            again = repeat_finding(
                lambda _: call_user(grad, "the gradient function", x_array),
                None,
                block.analytic,
                nondet_tol,
            )
            apply_findings(block, [] if again is None else [again])
    except UserCodeError as error:
        block = error_block("x", str(error), code="user-code-raised")
    report = _report({"x": block}, describe_function(grad), "f", None)
    _cross_check(report, {"x": loss_of_x}, {"x": x0}, dtype)
    return finish_report(report, {"x": x}, ("x",))


def check_layer(
    forward: Callable[..., ArrayLike],
    grads: Mapping[str, Callable[..., ArrayLike]],
    inputs: Mapping[str, ArrayLike],
    *,
    loss: object = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int | None = None,
    method: str = "auto",
    mode: str = "full",
    precision: str = "central",
    batched: bool | None = None,
    n_directions: int = DEFAULT_DIRECTIONS,
    reset: Callable[[], object] | None = None,
    nondet_tol: float = 0.0,
    nonsmooth: object = None,
) -> Report:
    """Check a layer's backward against finite differences of a scalar loss.

    Parameters
    ----------
    forward : callable
        Called as ``forward(**inputs)``; returns the layer output.
    grads : dict of str to callable
        ``{input_name: fn}``; ``fn(**inputs, grad_output=G)`` returns the
        gradient of the loss w.r.t. ``inputs[input_name]``, e.g.
        ``{"x_input": dense_grad_input}``.
    inputs : dict of str to array_like
        The layer's arguments; never modified.
    loss : None, str, ScalarLoss or callable, optional
        The scalar loss of the output; by default a random-weighted sum. See
        :func:`gradcheck.losses.make_loss`.
    rtol, atol : float, optional
        Tolerances; by default from the inputs' dtype.
    seed : int, optional
        Seed of the loss's random parameters; drawn and reported when omitted.
    method : {"auto", "loop", "batched", "coloured"}
        How the finite differences are evaluated; all of them differentiate
        ``<grad_output, forward(x)>``, whose gradient at the point is the
        loss's (see Note [the loss the differences see]). ``"loop"`` perturbs
        one element per pair of calls; the others contract differences of the
        output with ``grad_output``:
        ``"batched"`` stacks perturbed copies along a new leading axis in one
        call of about 1 MB, ``"coloured"`` perturbs one column of every row at
        once (output row r must depend only on input row r), ``"auto"`` uses
        both where a numerical test on the layer shows they are valid, and
        the loop otherwise.
    mode : {"full", "fast"}
        ``"fast"`` compares ``n_directions`` random projections per input
        (two forward calls each) and runs the full check only to localise a
        failure; its blocks then have no element-wise ``numeric``.
    precision : {"central", "richardson", "complex-step"}
        Central differences (with a large step where the output is affine in
        the input), Richardson extrapolation over three steps with its error
        estimate, or the complex step, accurate to rounding, which allows
        tolerances near 1e-13 but needs a forward that is analytic in complex
        input (refused with a GradcheckError otherwise).
    batched : bool, optional
        Declare whether the forward maps a stack of inputs (a new leading
        axis) to a stack of outputs; detected numerically when omitted.
    n_directions : int
        Random directions per input in fast mode.
    reset : callable, optional
        Called before every call of the forward and the gradients, e.g.
        ``lambda: np.random.seed(0)`` for a layer that draws a random mask.
    nondet_tol : float
        Largest difference accepted between two backward calls with the same
        arguments (default 0: they must agree exactly).
    nonsmooth : callable or dict, optional
        Where the layer has no derivative: ``nonsmooth(inputs, margin)`` returns
        ``{input_name: mask}`` (as ``LayerSpec.nonsmooth``), or a dict of masks.
        Mismatches under a mask are inconclusive instead of failing; without
        it, kinks and ties are detected numerically.

    Returns
    -------
    Report
        ``report.method`` says which estimator each input got.

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.layers import dense_forward, dense_grad_input
    >>> rng = np.random.default_rng(0)
    >>> inputs = {"x_input": rng.normal(size=(4, 3)), "W": rng.normal(size=(3, 2)),
    ...           "b": rng.normal(size=2)}
    >>> check_layer(dense_forward, {"x_input": dense_grad_input}, inputs).status
    'pass'
    """
    validate_callable(forward, "forward")
    validate_options(method, precision, mode, n_directions)
    grad_fns = validate_grads(grads, inputs)
    arrays = validate_inputs(inputs, differentiated=tuple(grad_fns))
    validate_optional_callable(reset, "reset")
    nondet_tol = validate_nonnegative(nondet_tol, "nondet_tol")
    seed = _resolve_seed(seed)
    dtype = compute_dtype_of(*(arrays[name].dtype for name in grad_fns))
    tolerance = resolve_tolerance(dtype, rtol, atol)
    function = _checked_function(forward, grad_fns)
    forward, grad_fns = with_reset(reset, forward, grad_fns)

    try:
        output = _layer_output(forward, arrays)
    except UserCodeError as error:
        blocks = {
            name: error_block(name, str(error), code="user-code-raised")
            for name in grad_fns
        }
        report = _report(blocks, function, "not built", seed)
        return finish_report(report, inputs, tuple(grad_fns))
    scalar_loss = make_loss(loss, output.shape, np.random.default_rng(seed))
    points = {
        name: _numeric_copy(array, name in grad_fns) for name, array in arrays.items()
    }
    precise_output = _precise_output(forward, points, output)
    numeric_dtype = _float_dtype_of(precise_output)
    grad_output = _grad_output(scalar_loss, precise_output, output.dtype)
    # NOTE: the float64 output counts as the first call of the determinism
    # test and as the reference of the forward's jitter, unless it had to
    # fall back to the output at the caller's arrays.
    at_points = None if precise_output is output else precise_output
    unstable = forward_finding(
        lambda: call_user(forward, "the forward", **points),
        nondet_tol,
        numeric_dtype,
        first=at_points,
    )
    if unstable is not None:
        blocks = {name: finding_block(name, unstable) for name in grad_fns}
        report = _report(blocks, function, scalar_loss.name, seed)
        return finish_report(report, inputs, tuple(grad_fns))
    setup = _Setup(
        arrays=arrays,
        points=points,
        grad_output=grad_output,
        tolerance=tolerance,
        numeric_dtype=numeric_dtype,
        masks=nonsmooth_masks(nonsmooth, points, tuple(grad_fns), numeric_dtype),
        review=BackwardReview(
            forward,
            arrays,
            points,
            grad_output,
            nondet_tol,
            dtype,
            numeric_dtype,
            at_points,
        ),
        problem=LayerProblem(
            forward,
            points,
            scalar_loss,
            numeric_dtype,
            method,
            precision,
            batched,
            seed,
        ),
        directions=n_directions if mode == "fast" else 0,
    )

    losses_of = {
        name: _loss_of_input(forward, grad_output, points, name) for name in grad_fns
    }
    blocks = {
        name: _check_input(name, fn, losses_of[name], setup)
        for name, fn in grad_fns.items()
    }
    report = _report(blocks, function, scalar_loss.name, seed)
    report.method = describe_method(setup.problem, setup.directions)
    report.notes.extend(setup.problem.notes)
    _note_precision(report, dtype, numeric_dtype)
    _cross_check(report, losses_of, points, numeric_dtype)
    return finish_report(report, inputs, tuple(grad_fns))


@dataclass(frozen=True)
class _Setup:
    """What every input's check of one ``check_layer`` call shares."""

    arrays: Mapping[str, Any]
    points: Mapping[str, Any]
    grad_output: NDArray[Any]
    tolerance: Tolerance
    numeric_dtype: np.dtype
    masks: Mapping[str, NDArray[np.bool_]]
    review: BackwardReview
    problem: LayerProblem
    directions: int


def _check_input(
    name: str,
    fn: Callable[..., Any],
    loss_of: Callable[[FloatArray], float],
    setup: _Setup,
) -> Block:
    """The analytic gradient of one input, compared, then the backward pre-checks."""
    try:
        analytic = call_user(
            fn,
            f"the gradient for {name!r}",
            **setup.arrays,
            grad_output=setup.grad_output,
        )
        # The noise floor costs backward calls: measured only when a block
        # is compared element by element (not in a passing fast mode).
        floor_of = functools.cache(
            functools.partial(
                setup.review.noise_floor, name, fn, analytic, setup.points[name]
            )
        )
        block = _block_for(
            name,
            analytic,
            setup.points[name],
            loss_of,
            setup.tolerance,
            setup.numeric_dtype,
            setup.problem,
            setup.directions,
            setup.masks.get(name),
            floor_of,
        )
        compared = block.numeric is not None
        setup.review.apply(block, name, fn, floor_of() if compared else None)
    except UserCodeError as error:
        block = error_block(name, str(error), code="user-code-raised")
    return block


def _checked_function(
    forward: Callable[..., Any], grad_fns: Mapping[str, Callable[..., Any]]
) -> str:
    """The report's subject: the one gradient function, or the forward's backward."""
    if len(grad_fns) == 1:
        return describe_function(next(iter(grad_fns.values())))
    return f"backward of {describe_function(forward)}"


def _resolve_seed(seed: int | None) -> int:
    if seed is None:
        return int(np.random.default_rng().integers(0, 2**32))
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)):
        raise GradcheckError(f"seed must be an int or None, got {seed!r}.")
    return int(seed)


def _layer_output(
    forward: Callable[..., Any], arrays: Mapping[str, Any]
) -> NDArray[Any]:
    result = call_user(forward, "the forward", **arrays)
    if isinstance(result, tuple):
        raise GradcheckError(
            f"the forward returned a tuple of {len(result)} items; it must return "
            "the output array alone. For a cache-style forward returning (out, "
            "cache), use gradcheck.adapters.as_layer(forward), which pairs it "
            "with its backward."
        )
    try:
        output = np.asarray(result)
    except ValueError:
        output = np.asarray(result, dtype=object)
    if output.dtype.kind not in "biuf":
        raise GradcheckError(
            f"the forward returned {output.dtype} data; it must return a real array "
            "(if it returns a tuple such as (out, cache), wrap it or use an adapter)."
        )
    if not np.all(np.isfinite(output)):
        raise GradcheckError(
            "the forward returned NaN or inf at the given inputs; check at a point "
            "where the layer is finite."
        )
    return output


def _grad_output(
    scalar_loss: ScalarLoss, precise_output: NDArray[Any], dtype: np.dtype
) -> NDArray[Any]:
    """The loss gradient at the output the numeric side differentiates.

    It is taken at the forward's output on float64 copies, then cast to the
    layer's output dtype: a float32 output rounds small contributions away
    (``100 + 4e-4`` keeps two digits of the ``4e-4``), and a gradient taken
    there would not be the one the finite differences see.
    """
    grad_output = np.asarray(scalar_loss.gradient(precise_output), dtype=np.float64)
    return grad_output.astype(dtype if dtype.kind == "f" else np.dtype(np.float64))


def _numeric_copy(array: NDArray[Any], differentiated: bool) -> NDArray[Any]:
    """float64 copies of float and differentiated inputs; others stay as they are."""
    if differentiated or array.dtype.kind == "f":
        return as_float64_copy(array)
    return np.array(array, copy=True)


def _precise_output(
    forward: Callable[..., Any], points: Mapping[str, Any], output: NDArray[Any]
) -> NDArray[Any]:
    """The forward's output on the float64 copies (``output`` if it fails there)."""
    try:
        precise = np.array(call_user(forward, "the forward", **points), copy=True)
    except UserCodeError:
        return output
    if precise.shape != output.shape or not np.all(np.isfinite(precise)):
        return output
    return precise


def _float_dtype_of(output: NDArray[Any]) -> np.dtype:
    """The dtype the forward computes in when handed float64 copies."""
    return output.dtype if output.dtype.kind == "f" else np.dtype(np.float64)


def _loss_of_input(
    forward: Callable[..., Any],
    grad_output: NDArray[Any],
    points: Mapping[str, Any],
    name: str,
) -> Callable[[FloatArray], float]:
    """``x -> <G, forward(..., name=x, ...)>`` with the other inputs held fixed.

    Note [the loss the differences see]
    -----------------------------------
    ``G`` is the loss gradient at the output, exactly as handed to the
    backward. By the chain rule the gradient of ``<G, forward(x)>`` at ``x0``
    is that of ``loss(forward(x))``, so both sides check the same quantity;
    but the linear form has no cancellation of its own, where a loss such as
    the cross-entropy of large logits computes its small remainder as zero.
    """
    others = dict(points)
    weights = np.asarray(grad_output, dtype=np.float64)

    def loss_of(x: FloatArray) -> float:
        output = np.asarray(call_user(forward, "the forward", **{**others, name: x}))
        if output.shape != weights.shape:
            raise GradcheckError(
                f"the forward returned shape {output.shape} after {name!r} was "
                f"perturbed, but {weights.shape} at the given point; the output "
                "shape must depend only on the input shapes."
            )
        return scalar_value(np.sum(weights * output), "the loss")

    return loss_of


def _block_for(
    name: str,
    analytic_value: Any,
    x0: FloatArray,
    loss_of: Callable[[FloatArray], float],
    tolerance: Tolerance,
    numeric_dtype: np.dtype,
    problem: LayerProblem | None = None,
    n_directions: int = 0,
    nonsmooth_mask: NDArray[np.bool_] | None = None,
    floor_of: Callable[[], NoiseFloor | None] | None = None,
) -> Block:
    analytic = analytic_array(name, analytic_value, x0.shape)
    if isinstance(analytic, Block):
        return analytic

    def full_block() -> Block:
        estimate = estimate_gradient(
            loss_of, x0, numeric_dtype, problem=problem, name=name
        )
        floor = None if floor_of is None else floor_of()
        if floor is not None:
            estimate = floor.widen(estimate, analytic)
        return compare_block(
            name,
            analytic,
            estimate,
            tolerance,
            loss_of,
            x0,
            numeric_dtype,
            nonsmooth_mask,
        )

    if n_directions and problem is not None:
        return projection_block(
            name,
            analytic,
            loss_of,
            x0,
            tolerance,
            numeric_dtype,
            n_directions,
            problem.seed,
            full_block,
        )
    return full_block()


def _report(
    blocks: dict[str, Block], function: str, loss: str, seed: int | None
) -> Report:
    status = combine_status([block.status for block in blocks.values()])
    codes = sorted(
        {
            code
            for block in blocks.values()
            for code in block.codes
            if code in REPORT_CODES
        }
    )
    return Report(
        status=status,
        blocks=blocks,
        warnings=codes,
        function=function,
        loss=loss,
        seed=seed,
    )


def _note_precision(report: Report, dtype: np.dtype, numeric_dtype: np.dtype) -> None:
    if dtype == np.float64:
        return
    import warnings

    from .errors import PrecisionWarning

    code = f"{dtype.name}-input"
    report.warnings.append(code)
    report.notes.append(
        f"{dtype.name} inputs: the numeric side ran in {numeric_dtype.name} on "
        f"copies, and the tolerances are those of {dtype.name}; check in float64 "
        "for the tightest verdict."
    )
    warnings.warn(
        f"{dtype.name} inputs are checked with {dtype.name} tolerances; pass float64 "
        "arrays for a check that resolves smaller errors.",
        PrecisionWarning,
        stacklevel=3,
    )


def _cross_check(
    report: Report,
    losses_of: Mapping[str, Callable[[FloatArray], float]],
    points: Mapping[str, FloatArray],
    numeric_dtype: np.dtype,
) -> None:
    """Add scipy's opinion per block; record a disagreement with the main check."""
    for name, block in report.blocks.items():
        if block.numeric is None or block.analytic is None:
            continue
        rel_error, tolerance, direction = scipy_cross_check(
            name,
            losses_of[name],
            block.analytic,
            points[name],
            numeric_dtype,
            report.seed or 0,
        )
        from ._crosscheck import below_resolution

        scipy_passed = rel_error <= tolerance
        unseen = (
            block.status == "fail"
            and scipy_passed
            and below_resolution(
                block.analytic,
                block.numeric,
                block.max_rel_error,
                tolerance,
                direction,
                report.seed or 0,
            )
        )
        agrees = (
            block.status == "inconclusive"
            or scipy_passed == (block.status == "pass")
            or unseen
        )
        report.cross_checks.append(
            CrossCheck(f"scipy:{name}", rel_error, tolerance, direction, agrees, unseen)
        )
        if not agrees and "cross-check-disagrees" not in report.warnings:
            report.warnings.append("cross-check-disagrees")
            report.notes.append(
                "scipy.optimize.check_grad disagrees with the main verdict; the two "
                "use different differences and steps, so suspect the numerics "
                "(a kink, a tie or noise) as much as the backward."
            )
