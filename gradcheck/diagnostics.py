"""Pre-checks that decide whether a finite-difference comparison means anything.

Each check costs a fixed number of extra calls of the user's forward or
backward, whatever the size of the layer, and returns a :class:`Finding` (or
nothing) that the caller merges into the report.

Note [why each pre-check]
-------------------------
* A forward that changes between two identical calls (a fresh random mask, a
  running statistic) makes central differences measure the noise, not the
  slope; no tolerance rescues that, so the check says "inconclusive".
* A backward that changes between two identical calls either accumulates
  (``+=`` into stale state: the second call returns more) or sums in a
  nondeterministic order. Both are reported apart from a Jacobian mismatch.
* A vector-Jacobian product is linear in ``grad_output``. Testing
  ``b(a g1 + g2) == a b(g1) + b(g2)`` catches a backward that ignores,
  squares or offsets ``grad_output`` for every loss at once.
* Where the forward is affine in an input, ``<G, f(x) - f(0)> == <b(G), x>``
  holds to rounding error: an exact test that needs no step size.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._calls import UserCodeError, call_user
from .compare import LOOSE_RTOL
from .errors import (
    DegenerateLossWarning,
    GradcheckError,
    NondeterminismWarning,
    NonSmoothPointWarning,
)
from .numeric import ROUNDING_SAFETY, FloatArray
from .report import Report, degenerate_advice

__all__ = [
    "Finding",
    "LineProbe",
    "adjoint_finding",
    "backward_findings",
    "finish_report",
    "forward_finding",
    "nonsmooth_masks",
    "probe_line",
    "repeat_finding",
    "routing_finding",
    "with_reset",
]

# Rounding of a sum of k products grows like k * machine_eps in the worst
# case; this many units of the absolute-value scale cover layers up to
# thousands of terms per output (the 128x512 dense layer uses 512).
_ROUNDING_UNITS = 256.0

# Units of the smallest subnormal each term of the adjoint sums may lose.
_SUBNORMAL_UNITS = 2.0**20

# The adjoint test resolves errors this fraction of the element-wise rtol.
ADJOINT_RESOLUTION = 1e-2

# Relative size of the move of grad_output that redraws the backward's rounding.
_NOISE_PROBE = 1e-6

# A forward counts as affine in an input when its second differences are
# below this fraction of its outputs' size; the adjoint bound then adds the
# measured second differences, so near-linear layers cannot fail it.
_AFFINE_FRACTION = 1e-8


@dataclass(frozen=True)
class Finding:
    """What a pre-check found.

    Attributes
    ----------
    code : str
        Short kebab-case code, e.g. ``"stateful-backward"``.
    status : {"fail", "inconclusive", "note"}
        How it changes the block's verdict; a note changes nothing.
    message : str
        One sentence for the report, with the numbers that earned it.
    """

    code: str
    status: str
    message: str


def with_reset(
    reset: Callable[[], object] | None,
    forward: Callable[..., Any],
    grads: Mapping[str, Callable[..., Any]],
) -> tuple[Callable[..., Any], dict[str, Callable[..., Any]]]:
    """Wrap the user's functions: ``reset()`` first, and outputs copied.

    A stochastic layer becomes a fixed function when its generator is
    re-seeded before each evaluation: forward and backward then draw the same
    mask, and the finite differences see one smooth function. The forward's
    output is copied, so a forward that returns a view of its input or a
    buffer it overwrites on the next call cannot change a value the check
    still holds.
    """

    def wrap(fn: Callable[..., Any], copy_output: bool) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if reset is not None:
                call_user(reset, "the reset hook")
            result = fn(*args, **kwargs)
            if copy_output and isinstance(result, np.ndarray):
                return result.copy()
            return result

        return guarded

    guarded_grads = {name: wrap(fn, False) for name, fn in grads.items()}
    if reset is None:
        guarded_grads = dict(grads)
    return wrap(forward, True), guarded_grads


def _as_float(value: Any) -> FloatArray:
    """A private float64 copy: later calls cannot change what was returned."""
    return np.array(value, dtype=np.float64, copy=True)


def _max_difference(first: FloatArray, second: FloatArray) -> float:
    if first.shape != second.shape:
        return float("inf")
    with np.errstate(invalid="ignore"):
        difference = np.abs(first - second)
    return float(np.nanmax(difference)) if difference.size else 0.0


def forward_finding(
    evaluate: Callable[[], Any],
    nondet_tol: float,
    compute_dtype: np.dtype,
    first: Any = None,
) -> Finding | None:
    """Call the forward three times on the same inputs; report if outputs differ.

    Differences of a few units in the last place are rounding noise that the
    finite-difference error bound already allows for. A third call makes a
    stochastic forward that happens to repeat itself once far less likely to
    slip through (a random choice among few values often repeats). ``first``
    is an output the caller already has from the same inputs, which then
    counts as the first of the three.
    """
    try:
        first = _as_float(evaluate() if first is None else first)
        others = [_as_float(evaluate()) for _ in range(2)]
    except UserCodeError as error:
        return Finding("user-code-raised", "fail", f"on a repeated call, {error}")
    difference = max(_max_difference(first, other) for other in others)
    scale = float(np.abs(first).max()) if first.size else 0.0
    noise = 4.0 * float(np.finfo(compute_dtype).eps) * scale
    if difference <= max(nondet_tol, noise):
        return None
    return Finding(
        "nondeterministic-forward",
        "inconclusive",
        f"the forward returned different outputs for the same inputs (largest "
        f"difference {difference:.3e}), so finite differences would measure that "
        "change, not the slope; pass reset= a function that re-seeds its random "
        "generator (e.g. reset=lambda: rng.bit_generator.state.update(...) or "
        "np.random.seed(0)), or make the forward deterministic",
    )


def backward_findings(
    call_backward: Callable[[Any], Any],
    grad_output: NDArray[Any],
    first: FloatArray,
    nondet_tol: float,
    rtol: float,
    noise: float = 0.0,
) -> tuple[list[Finding], float]:
    """Repeat the backward, then test that it is linear in ``grad_output``.

    ``first`` is the gradient the check already has, for ``grad_output``.
    Costs two calls, three when the backward is not repeatable. Also returns
    the size of the gradient for a generic random ``grad_output`` (NaN when
    not measured): the scale of the backward's own rounding even where the
    chosen loss makes the gradient vanish. ``noise`` is the norm of the
    backward's measured rounding (:func:`backward_noise`); the linearity test
    cannot resolve departures below it.
    """
    try:
        repeat = repeat_finding(call_backward, grad_output, first, nondet_tol)
        if repeat is not None:
            return [repeat], float("nan")
        linearity, generic = _linearity_finding(
            call_backward, grad_output, first, rtol, noise
        )
    except UserCodeError as error:
        failure = Finding("user-code-raised", "fail", f"on a repeated call, {error}")
        return [failure], float("nan")
    return ([] if linearity is None else [linearity]), generic


def repeat_finding(
    call_backward: Callable[[Any], Any],
    grad_output: Any,
    first: FloatArray,
    nondet_tol: float,
) -> Finding | None:
    """Call the backward again; tell an accumulating one from a noisy one.

    An accumulating backward adds the same amount on every call, so a third
    call tells it apart from one that merely sums in a varying order. The
    calls are consecutive, so other calls made since ``first`` (such as the
    noise probe) cannot blur the steps; ``first`` still counts as a call.
    """
    first_again = _as_float(call_backward(grad_output))
    if _max_difference(first, first_again) > nondet_tol:
        first = first_again
        second = _as_float(call_backward(grad_output))
    else:
        second = first_again
    difference = _max_difference(first, second)
    if difference <= nondet_tol:
        return None
    third = _as_float(call_backward(grad_output))
    step, next_step = second - first, third - second
    # Equal steps up to the rounding of the gradients themselves.
    rounding = 8.0 * float(np.finfo(np.float64).eps) * float(np.abs(third).max())
    if (
        second.shape == first.shape == third.shape
        and np.any(step != 0)
        and np.allclose(
            next_step, step, rtol=1e-6, atol=1e-12 * np.abs(step).max() + rounding
        )
    ):
        return Finding(
            "stateful-backward",
            "fail",
            f"the backward accumulates: each call adds the same amount again "
            f"(largest change {difference:.3e} per call), as when gradients are "
            "summed into state that is never cleared; reset that state at the "
            "start of every backward",
        )
    return Finding(
        "nondeterministic-backward",
        "fail",
        f"the backward returned different gradients for the same inputs and "
        f"grad_output (largest difference {difference:.3e} > nondet_tol="
        f"{nondet_tol:g}); this is not a Jacobian mismatch: sum in a fixed order, "
        "or pass nondet_tol= the difference you accept",
    )


def _linearity_finding(
    call_backward: Callable[[Any], Any],
    grad_output: NDArray[Any],
    first: FloatArray,
    rtol: float,
    noise: float,
) -> tuple[Finding | None, float]:
    rng = np.random.default_rng(20_240_917)
    scale = float(np.abs(grad_output).max()) or 1.0
    other = (scale * rng.standard_normal(np.shape(grad_output))).astype(
        grad_output.dtype
    )
    mixed = (0.5 * grad_output + other).astype(grad_output.dtype)
    of_other = _as_float(call_backward(other))
    of_mixed = _as_float(call_backward(mixed))
    if not (of_other.shape == of_mixed.shape == first.shape):
        return Finding(
            "nonlinear-backward",
            "fail",
            "the backward returned gradients of different shapes for different "
            "grad_output values",
        ), float("nan")
    generic = float(np.abs(of_other).max()) if of_other.size else 0.0

    expected = 0.5 * first + of_other
    size = np.abs(0.5 * first) + np.abs(of_other) + np.abs(of_mixed)
    residual = float(np.linalg.norm(of_mixed - expected))
    resolution = 16.0 * float(np.finfo(grad_output.dtype).smallest_subnormal)
    # Three backward results enter the residual, each with its own rounding.
    allowed = (
        max(rtol, 1e-12) * float(np.linalg.norm(size))
        + resolution * np.sqrt(size.size)
        + 3.0 * 4.0 * noise
    )
    if residual <= allowed:
        return None, generic
    return _nonlinear_message(first, of_other, of_mixed, residual, allowed), generic


def _nonlinear_message(
    first: FloatArray,
    of_other: FloatArray,
    of_mixed: FloatArray,
    residual: float,
    allowed: float,
) -> Finding:
    same = np.array_equal(first, of_other) and np.array_equal(first, of_mixed)
    if same:
        return Finding(
            "ignores-grad-output",
            "fail",
            "the backward ignores grad_output: three different grad_output "
            "values gave the same gradient. It must apply the chain rule, "
            "multiplying the local derivative by grad_output, and not return "
            "the derivative of the layer output alone",
        )
    return Finding(
        "nonlinear-backward",
        "fail",
        f"the backward is not linear in grad_output: b(0.5*g1 + g2) differs "
        f"from 0.5*b(g1) + b(g2) by {residual:.3e} (allowed {allowed:.3e}); a "
        "correct backward only multiplies grad_output by the Jacobian, so look "
        "for a square, abs, clip or added constant applied to grad_output",
    )


def adjoint_finding(
    output_of: Callable[[FloatArray], Any],
    x0: FloatArray,
    grad_output: NDArray[Any],
    analytic: FloatArray,
    compute_dtype: np.dtype,
    analytic_noise: FloatArray | None = None,
    rtol: float = 0.0,
) -> Finding | None:
    """The exact dot-product test where the forward is affine in ``x0``.

    ``analytic_noise`` is the backward's measured rounding
    (:func:`backward_noise`), which the bound carries into ``<grad, x>``.
    The bound also allows ``ADJOINT_RESOLUTION * rtol`` of ``sum|grad * x|``:
    the test resolves errors a hundred times finer than the element-wise
    tolerance, but not the rounding of gradients recovered from large
    intermediates (an SGD step undone on weights of size one), which no
    probe of the backward sees.

    Returns ``None`` when the forward is not affine in this input (or cannot
    be evaluated at 0 and -x), a note when the test holds, a failure when not.
    """
    try:
        outputs = _affine_outputs(output_of, x0)
    except (UserCodeError, ValueError, FloatingPointError):
        return None
    if outputs is None:
        return None
    y_zero, y_x, slack = outputs

    upstream = np.asarray(grad_output, dtype=np.float64)
    if upstream.shape != y_x.shape:
        return None
    machine_eps = max(
        float(np.finfo(compute_dtype).eps), float(np.finfo(analytic.dtype).eps)
    )
    lhs = float(np.sum(upstream * (y_x - y_zero)))
    rhs = float(np.sum(analytic * x0))
    rounding = _ROUNDING_UNITS * machine_eps
    bound = (
        rounding
        * float(
            np.sum(np.abs(upstream) * (np.abs(y_x) + np.abs(y_zero)))
            + np.sum(np.abs(analytic * x0))
        )
        + float(np.linalg.norm(upstream)) * slack
    )
    if analytic_noise is not None and analytic_noise.shape == x0.shape:
        bound += 4.0 * float(np.sum(analytic_noise * np.abs(x0)))
    bound += ADJOINT_RESOLUTION * rtol * float(np.sum(np.abs(analytic * x0)))
    # Near underflow every product keeps only the digits above the smallest
    # subnormal, so each term of either sum may be off by a few of them.
    bound += (
        _SUBNORMAL_UNITS
        * float(np.finfo(np.float64).smallest_subnormal)
        * (upstream.size + x0.size)
    )
    gap = abs(lhs - rhs)
    text = (
        f"adjoint test (the forward is affine in this input): <G, f(x) - f(0)> = "
        f"{lhs:.12e}, <grad, x> = {rhs:.12e}, difference {gap:.2e}, rounding "
        f"bound {bound:.2e}"
    )
    if gap <= bound:
        return Finding("adjoint-exact", "note", text)
    return Finding("adjoint-mismatch", "fail", text)


def _largest(values: FloatArray) -> float:
    return float(np.max(np.abs(values), initial=0.0))


def _affine_outputs(
    output_of: Callable[[FloatArray], Any], x0: FloatArray
) -> tuple[FloatArray, FloatArray, float] | None:
    """``f(0)``, ``f(x)`` and the measured departure from affinity, if affine.

    Second differences are measured through 0 along ``x`` and at ``x`` along a
    random direction, centred and one-sided. A positively homogeneous layer
    such as ReLU passes the first test alone; the others exclude it.
    """
    rng = np.random.default_rng(7_919)
    direction = rng.standard_normal(x0.shape) * max(1.0, float(np.abs(x0).max()))
    y_zero = _as_float(output_of(np.zeros_like(x0)))
    y_x = _as_float(output_of(x0.copy()))
    y_minus = _as_float(output_of(-x0))
    y_up = _as_float(output_of(x0 + direction))
    y_down = _as_float(output_of(x0 - direction))
    y_far = _as_float(output_of(x0 + 2 * direction))
    # The adjoint identity needs f affine on the whole segment from 0 to x:
    # a saturated or scale-invariant layer can look affine around x and 0.
    y_half = _as_float(output_of(0.5 * x0))
    y_quarter = _as_float(output_of(0.25 * x0))
    values = (y_zero, y_x, y_minus, y_up, y_down, y_far, y_half, y_quarter)
    if any(v.shape != y_x.shape or not np.all(np.isfinite(v)) for v in values):
        return None

    through_zero = _largest(y_x - 2 * y_zero + y_minus)
    # The one-sided difference catches odd functions centred on x (tanh, or a
    # normalisation at a constant input), whose symmetric one vanishes.
    along_direction = max(
        _largest(y_up - 2 * y_x + y_down),
        _largest(y_far - 2 * y_up + y_x),
        _largest(2 * y_half - y_x - y_zero),
        _largest(4 * y_quarter - y_x - 3 * y_zero),
    )
    # NOTE: largest magnitudes, not 2-norms: the squares of outputs near
    # 1e-200 underflow to zero and would make any layer look affine. The
    # size is that of the output's variation, not of the output: a large
    # constant offset (a bias of 373 beside a scale of 1e-6) says nothing
    # about how straight the rest is.
    size = max(_largest(v - y_zero) for v in values) or 1.0
    if max(through_zero, along_direction) > _AFFINE_FRACTION * size:
        return None
    return y_zero, y_x, through_zero + along_direction


@dataclass(frozen=True)
class LineProbe:
    """One-sided slopes of the loss along one direction, at two steps.

    Attributes
    ----------
    nonsmooth : bool
        The gap between the right and left slopes does not shrink with the
        step as it must for a differentiable loss: a kink or tie lies inside
        the stencil.
    low, high : float
        Every value between the left and the right derivative (extrapolated
        to a zero step, widened by their error) is a one-sided subgradient.
    derivative : float
        The central difference at the smaller step.
    error_bar : float
        Its estimated error: the change from the larger step plus rounding.
    """

    nonsmooth: bool
    low: float
    high: float
    derivative: float
    error_bar: float


def probe_line(
    loss_of: Callable[[FloatArray], float],
    x0: FloatArray,
    direction: FloatArray,
    h: float,
    compute_dtype: np.dtype,
    rtol: float,
) -> LineProbe:
    """Probe ``t -> loss(x0 + t * direction)`` at ``t = 0, ±h, ±h/4``.

    For a smooth loss the right-minus-left slope gap is ``h L''`` and so
    scales with the step; at a kink or tie inside the stencil it is the jump
    of the derivative, which does not. See Note [why each pre-check].
    """
    f0 = loss_of(x0.copy())
    slopes, values = [], [f0]
    for step in (h, h / 4):
        plus = loss_of(x0 + step * direction)
        minus = loss_of(x0 - step * direction)
        values += [plus, minus]
        slopes.append(((plus - f0) / step, (f0 - minus) / step))
    (right_big, left_big), (right, left) = slopes
    noise = noise_of(values, compute_dtype)

    departure = abs((right - left) - (right_big - left_big) / 4)
    scale = max(abs(right_big), abs(left_big), abs(right), abs(left))
    threshold = 32 * noise / (h / 4) + 0.5 * rtol * scale
    right_0 = right - (right_big - right) / 3
    left_0 = left - (left_big - left) / 3
    widen = abs(right_0 - right) + abs(left_0 - left) + 8 * noise / (h / 4)
    ends = (right_0, left_0, right, left)
    central = (right + left) / 2
    return LineProbe(
        nonsmooth=departure > threshold,
        low=min(ends) - widen,
        high=max(ends) + widen,
        derivative=central,
        error_bar=abs(central - (right_big + left_big) / 2) + 4 * noise / h,
    )


def noise_of(values: list[float], compute_dtype: np.dtype) -> float:
    """Rounding error of a loss value, as the numeric module estimates it."""
    machine_eps = float(np.finfo(compute_dtype).eps)
    return ROUNDING_SAFETY * machine_eps * max(abs(v) for v in values)


def routing_finding(
    loss_of: Callable[[FloatArray], float],
    x0: FloatArray,
    analytic: FloatArray,
    compute_dtype: np.dtype,
    rtol: float,
) -> Finding:
    """Tell ties from kinks, and test the routing invariant of ties.

    Shifting every element of the input together keeps ties tied (the max
    of a window moves with it), so along that direction a max or max-pool
    loss stays differentiable and its slope is exactly what the gradient
    routes in total: ``sum(grad) == d/dt loss(x + t)``. At a fixed kink (ReLU
    at 0, abs, clip) the shift crosses the kink and the slope jumps. The same
    test then runs on each leading slice (each image and channel of NCHW
    input, each row otherwise), which holds whole windows, so a window that
    routes too much cannot hide behind one that routes too little.
    """
    machine_eps = float(np.finfo(compute_dtype).eps)
    h = float(np.cbrt(machine_eps)) * max(1.0, float(np.abs(x0).max()))
    label = "tie"
    for where, direction in _shift_directions(x0.shape):
        probe = probe_line(loss_of, x0, direction, h, compute_dtype, rtol)
        if probe.nonsmooth:
            if where == "the whole input":
                label = "kink"
            continue
        routed = float(np.sum(analytic * direction))
        allowed = rtol * float(np.sum(np.abs(analytic * direction))) + probe.error_bar
        if abs(routed - probe.derivative) > allowed:
            return _routing_failure(where, routed, probe.derivative, allowed)
    return Finding(label, "inconclusive", "")


# Leading slices tested for routing, at most; each costs four loss calls.
_MAX_SLICES = 16


def _shift_directions(shape: tuple[int, ...]) -> list[tuple[str, FloatArray]]:
    """The all-ones direction, then indicators of leading slices."""
    directions = [("the whole input", np.ones(shape))]
    lead = shape[:2] if len(shape) >= 4 else shape[:1]
    if len(shape) < 2 or int(np.prod(lead)) < 2:
        return directions
    for index in list(np.ndindex(*lead))[:_MAX_SLICES]:
        direction = np.zeros(shape)
        direction[index] = 1.0
        directions.append((f"slice {index}", direction))
    return directions


def _routing_failure(where: str, routed: float, rate: float, allowed: float) -> Finding:
    return Finding(
        "tie-routing",
        "fail",
        f"over {where}, the gradient routes {routed:.6g} in total, but shifting "
        f"those elements together changes the loss at rate {rate:.6g} (allowed "
        f"gap {allowed:.2e}): a tie is credited to several elements, or to none. "
        "Each window of a max or max-pool must route exactly its upstream "
        "value, to one of its maxima or split among them",
    )


def nonsmooth_masks(
    nonsmooth: object,
    points: Mapping[str, FloatArray],
    names: tuple[str, ...],
    compute_dtype: np.dtype,
) -> dict[str, NDArray[np.bool_]]:
    """Resolve the ``nonsmooth`` argument into one boolean mask per input.

    ``nonsmooth`` is ``None``, a dict of masks, or a callable
    ``(inputs, margin) -> {name: mask}`` such as ``LayerSpec.nonsmooth``; the
    margin covers the widest stencil of the check (four default steps).
    """
    if nonsmooth is None:
        return {}
    if callable(nonsmooth):
        machine_eps = float(np.finfo(compute_dtype).eps)
        largest = max(float(np.abs(points[name]).max()) for name in names)
        margin = 4.0 * float(np.cbrt(machine_eps)) * max(1.0, largest)
        copies = {name: np.array(value, copy=True) for name, value in points.items()}
        masks = call_user(nonsmooth, "the nonsmooth mask function", copies, margin)
    else:
        masks = nonsmooth
    if not isinstance(masks, Mapping):
        raise GradcheckError(
            f"nonsmooth must give a dict {{input_name: boolean mask}}, got "
            f"{type(masks).__name__}."
        )
    return {
        name: np.asarray(masks[name], dtype=bool) for name in names if name in masks
    }


def finish_report(
    report: Report, inputs: Mapping[str, Any], differentiated: tuple[str, ...]
) -> Report:
    """Add input notes and localisation, emit warnings, refuse empty checks."""
    if report.status == "pass" and not any(
        block.n_checked for block in report.blocks.values()
    ):
        raise GradcheckError(
            "the check compared zero elements, so it cannot pass; give each "
            "checked input at least one element."
        )
    _note_inputs(report, inputs, differentiated)
    _note_localisation(report)
    tolerances = [b.tolerance for b in report.blocks.values() if b.tolerance]
    if any(t.rtol > LOOSE_RTOL for t in tolerances):
        report.warnings.append("loose-tolerance")
    for code in report.warnings:
        if code == "degenerate-loss":
            text = degenerate_advice(report)
            warnings.warn(f"{code}: {text}", DegenerateLossWarning, stacklevel=3)
        elif code in _WARNING_TEXT:
            category, text = _WARNING_TEXT[code]
            warnings.warn(f"{code}: {text}", category, stacklevel=3)
    return report


_WARNING_TEXT: dict[str, tuple[type[Warning], str]] = {
    "kink": (
        NonSmoothPointWarning,
        "inputs sit within a finite-difference step of a kink, where there is "
        "no derivative; only analytic values outside both one-sided "
        "derivatives count as wrong there. Check at points away from it.",
    ),
    "tie": (
        NonSmoothPointWarning,
        "inputs hold ties (maxima closer than the step), where there is no "
        "derivative; those elements are not compared. Check with distinct "
        "values.",
    ),
    "nondeterministic-forward": (
        NondeterminismWarning,
        "the forward changes between identical calls; pass reset= to re-seed it.",
    ),
    "nondeterministic-backward": (
        NondeterminismWarning,
        "the backward changes between identical calls; see nondet_tol.",
    ),
}


def _note_inputs(
    report: Report, inputs: Mapping[str, Any], differentiated: tuple[str, ...]
) -> None:
    arrays = {name: np.asarray(value) for name, value in inputs.items()}
    integers = [n for n in differentiated if arrays[n].dtype.kind in "iu"]
    if integers:
        report.warnings.append("integer-input")
        report.notes.append(
            f"integer input(s) {', '.join(integers)} were promoted to float64 "
            "copies for both sides of the check; a real layer would need float "
            "arrays to train"
        )
    shared = _shared_memory(arrays)
    if shared:
        report.warnings.append("aliased-input")
        report.notes.append(
            f"{'; '.join(shared)}: every call received private contiguous "
            "copies, so each element was perturbed on its own"
        )


def _shared_memory(arrays: Mapping[str, NDArray[Any]]) -> list[str]:
    found = []
    names = list(arrays)
    for i, name in enumerate(names):
        array = arrays[name]
        span = sum(
            (n - 1) * abs(s) for n, s in zip(array.shape, array.strides, strict=True)
        )
        if array.size > 1 and span + array.itemsize < array.nbytes:
            found.append(f"{name!r} has overlapping elements (strides {array.strides})")
        for other in names[i + 1 :]:
            if np.shares_memory(array, arrays[other]):
                found.append(f"{name!r} and {other!r} share memory")
    return found


def _note_localisation(report: Report) -> None:
    failing = [n for n, b in report.blocks.items() if b.status == "fail"]
    passing = [n for n, b in report.blocks.items() if b.status == "pass"]
    if failing and passing:
        report.notes.append(
            f"localised: the gradients for {', '.join(failing)} are wrong; those "
            f"for {', '.join(passing)} agree with finite differences"
        )


def backward_noise(
    call_backward: Callable[[Any], Any],
    grad_output: NDArray[Any],
    first: FloatArray,
) -> FloatArray:
    """The backward's own rounding noise, measured per element.

    The backward is called at ``G + d`` and ``G + 2d`` for a random ``d`` a
    millionth the size of ``G``. For a backward that is linear (or affine) in
    ``G``, the second difference ``b(G + 2d) - 2 b(G + d) + b(G)`` is zero
    but for rounding, and moving ``G`` by far more than its last digits draws
    the rounding afresh: the difference measures the noise that the result
    carries, such as the cancellation of large terms in a normalisation layer
    whose gradient is nearly zero. A bug that adds a constant cancels out of
    it, and a nonlinear one contributes only at the millionth's square.
    Costs two backward calls.
    """
    upstream = np.asarray(grad_output)
    if upstream.dtype.kind != "f" or upstream.size == 0:
        return np.zeros_like(first)
    rng = np.random.default_rng(104_729)
    scale = float(np.abs(upstream).max()) or 1.0
    move = _NOISE_PROBE * scale * rng.uniform(-1.0, 1.0, upstream.shape)
    once = _as_float(call_backward((upstream + move).astype(upstream.dtype)))
    twice = _as_float(call_backward((upstream + 2 * move).astype(upstream.dtype)))
    if not (once.shape == twice.shape == first.shape):
        return np.zeros_like(first)
    second_difference = np.abs(twice - 2.0 * once + first)
    if not np.all(np.isfinite(second_difference)):
        return np.zeros_like(first)
    typical = float(np.sqrt(np.mean(second_difference**2)))
    noise: FloatArray = np.maximum(second_difference, typical)
    return noise
