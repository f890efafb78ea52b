"""Turn one analytic gradient and its numeric estimate into a report block."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._calls import UserCodeError, call_user
from .compare import ElementErrors, Tolerance, converges_to, elementwise_errors
from .diagnosis import diagnose
from .diagnostics import (
    Finding,
    adjoint_finding,
    backward_findings,
    backward_noise,
    probe_line,
    routing_finding,
)
from .errors import GradcheckError
from .numeric import (
    ROUNDING_SAFETY,
    SWEEP_FACTORS,
    CentralDifference,
    FloatArray,
    StepSweep,
    default_steps,
    sweep_element,
)
from .report import Block

# Mismatching elements examined one by one (a probe and perhaps a sweep each)
# before the rest are left inconclusive; a wrong gradient stops at the first.
MAX_EXAMINED = 256

__all__ = [
    "BackwardReview",
    "analytic_array",
    "apply_findings",
    "compare_block",
    "error_block",
    "finding_block",
    "shape_mismatch_block",
]


def analytic_array(
    name: str, value: Any, expected_shape: tuple[int, ...]
) -> Block | FloatArray:
    """The analytic gradient as float64, or a failing block saying what is wrong."""
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind not in "biuf":
        return error_block(
            name,
            f"the gradient for {name} is {type(value).__name__} of dtype "
            f"{array.dtype}; return a real ndarray shaped like {name}.",
        )
    if array.shape != expected_shape:
        return shape_mismatch_block(name, array, expected_shape)
    return np.array(array, dtype=np.float64)


def shape_mismatch_block(
    name: str, analytic: NDArray[Any], expected_shape: tuple[int, ...]
) -> Block:
    """A failing block for a gradient whose shape differs from its input's."""
    hint = ""
    if analytic.size == int(np.prod(expected_shape)):
        hint = " (same number of elements: a transpose or reshape is wrong)"
    elif analytic.ndim == len(expected_shape):
        hint = " (check for an accidental broadcast or a missing transpose)"
    return error_block(
        name,
        f"the gradient for {name} has shape {analytic.shape} != expected "
        f"{expected_shape}, the shape of {name}{hint}",
        analytic=analytic,
        code="wrong-shape",
    )


def error_block(
    name: str,
    message: str,
    *,
    analytic: NDArray[Any] | None = None,
    code: str = "error",
) -> Block:
    """A failing block that carries only a message."""
    return Block(
        name=name,
        status="fail",
        max_rel_error=float("inf"),
        worst_index=(),
        analytic=analytic,
        numeric=None,
        message=message,
        codes=[code],
    )


def compare_block(
    name: str,
    analytic: FloatArray,
    estimate: CentralDifference,
    tolerance: Tolerance,
    loss_of_input: Callable[[FloatArray], float],
    x0: FloatArray,
    compute_dtype: np.dtype,
    nonsmooth_mask: NDArray[np.bool_] | None = None,
) -> Block:
    """Compare, re-examine failing elements, and build the block.

    Elements outside the first tolerance are examined worst first: at a kink
    or tie they become inconclusive (unless the analytic value is not even a
    one-sided derivative), elsewhere a step sweep decides whether the numeric
    estimate converges to the analytic value.
    """
    if analytic.size == 0:
        raise GradcheckError(
            f"the check of {name} would compare zero elements; give {name} at "
            "least one element."
        )
    errors = elementwise_errors(
        analytic, estimate.gradient, estimate.rounding_bound, tolerance
    )
    probe = _Examiner(
        analytic, estimate, tolerance, loss_of_input, x0, compute_dtype, errors
    )
    review = probe.review(nonsmooth_mask)
    failed = errors.failed & ~review.confirmed & ~review.nonsmooth
    if not review.real_failure:
        failed &= ~review.unexamined
    worst = _worst_index(errors.rel_error, failed)

    block = Block(
        name=name,
        status="fail" if failed.any() else "pass",
        max_rel_error=_max_rel_error(errors.rel_error, failed, review),
        worst_index=worst,
        analytic=analytic,
        numeric=estimate.gradient,
        n_checked=int(analytic.size),
        n_failed=int(failed.sum()),
        n_inconclusive=0 if failed.any() else review.n_inconclusive,
        tolerance=tolerance,
        allowed_at_worst=float(errors.allowed[worst]),
        fd_error_at_worst=float(estimate.rounding_bound[worst]),
        step_at_worst=float(estimate.steps[worst]),
    )
    block.truncation_at_worst = probe.truncation_at(worst)
    _settle(block, review, probe, estimate, tolerance)
    return block


def _settle(
    block: Block,
    review: _Review,
    probe: _Examiner,
    estimate: CentralDifference,
    tolerance: Tolerance,
) -> None:
    """Set the verdict's codes, message and diagnosis from the review."""
    if block.status == "fail":
        block.diagnosis = diagnose(
            probe.analytic, estimate.gradient, tolerance.rtol, mask=probe.failed
        )
        if review.message:
            block.diagnosis.insert(0, review.message)
        return
    if review.n_inconclusive:
        _settle_nonsmooth(block, review, probe)
        return
    if _degenerate(probe.analytic, estimate, tolerance):
        block.status, block.codes = "inconclusive", ["degenerate-loss"]
        block.message = (
            "both gradients are below the finite-difference noise floor, so "
            "nothing was really compared: the loss does not change measurably "
            "with this input at this point"
        )
    elif _within_noise(block, probe.errors):
        block.message = _within_noise(block, probe.errors)
    elif review.confirmed.any():
        block.message = (
            f"{int(review.confirmed.sum())} element(s) outside the first "
            "tolerance were confirmed by a step sweep: the numeric estimate "
            "converges to the analytic value as the step shrinks"
        )


def _within_noise(block: Block, errors: ElementErrors) -> str:
    """Say so when some elements pass only thanks to the finite-difference bound."""
    if block.tolerance is None or block.analytic is None or block.numeric is None:
        return ""
    scale = np.maximum(np.abs(block.analytic), np.abs(block.numeric))
    strict = block.tolerance.rtol * scale + block.tolerance.atol
    count = int(np.sum((errors.abs_error > strict) & ~errors.failed))
    if not count:
        return ""
    return (
        f"{count} element(s) differ by more than rtol but within the expected "
        "finite-difference noise (rounding of the loss over the step, and the "
        "analytic side's rounding floor): error within expected FD noise"
    )


def _settle_nonsmooth(block: Block, review: _Review, probe: _Examiner) -> None:
    """Verdict and text for a block whose mismatches are not plain failures."""
    if not review.nonsmooth.any():
        block.status, block.codes = "inconclusive", ["unexamined"]
        block.message = _unexamined_message(review)
        return
    finding = probe.label_nonsmooth()
    block.codes = [finding.code]
    block.status = "fail" if finding.status == "fail" else "inconclusive"
    if finding.code == "kink" and review.outside.any():
        # NOTE: at a single fixed kink the derivative from each side is
        # known, so a value outside both is wrong. Ties in overlapping
        # windows mix several maxima, so there only routing is tested.
        block.status, block.n_failed = "fail", int(review.outside.sum())
        block.n_inconclusive = review.n_inconclusive - block.n_failed
        block.diagnosis = [review.message]
    block.message = finding.message or _nonsmooth_message(finding.code, review)


def _nonsmooth_message(code: str, review: _Review) -> str:
    """What the kink or tie explains, and what it does not, element by element."""
    what = "a tie (equal maxima)" if code == "tie" else "a kink"
    inside = int((review.nonsmooth & ~review.outside).sum())
    outside = int(review.outside.sum())
    parts = []
    if inside:
        parts.append(
            f"{inside} element(s) disagree only because {what} lies inside their "
            "finite-difference stencil, where no derivative exists; their "
            "analytic values are valid one-sided derivatives"
        )
    if outside and code == "kink":
        parts.append(
            f"{outside} element(s) sit at a kink, and their analytic values lie "
            "outside both one-sided derivatives: wrong on either side of it"
        )
    elif outside:
        parts.append(
            f"{outside} element(s) sit at a tie with analytic values outside the "
            "one-sided derivatives of moving each alone; tied maxima may share "
            "the gradient and the routing test passed, so they are not judged"
        )
    text = "; ".join(parts)
    if inside or code != "kink":
        text += ". Check at points away from it (or pass nonsmooth= to mark them)"
    if review.unexamined.any():
        text += "; " + _unexamined_message(review)
    return text


def _unexamined_message(review: _Review) -> str:
    return (
        f"{int(review.unexamined.sum())} mismatching element(s) were not "
        "examined, as the examination budget was spent"
    )


@dataclass
class _Review:
    confirmed: NDArray[np.bool_]
    nonsmooth: NDArray[np.bool_]
    unexamined: NDArray[np.bool_]
    outside: NDArray[np.bool_]
    real_failure: bool = False
    message: str = ""

    @property
    def n_inconclusive(self) -> int:
        return int(self.nonsmooth.sum() + self.unexamined.sum())


@dataclass
class _Examiner:
    """Re-examines single elements of one block with extra evaluations."""

    analytic: FloatArray
    estimate: CentralDifference
    tolerance: Tolerance
    loss_of: Callable[[FloatArray], float]
    x0: FloatArray
    dtype: np.dtype
    errors: ElementErrors

    @property
    def failed(self) -> NDArray[np.bool_]:
        return self.errors.failed

    def review(self, nonsmooth_mask: NDArray[np.bool_] | None) -> _Review:
        """Examine failing elements worst first; stop at the first real failure."""
        failed = self.errors.failed
        review = _Review(
            np.zeros_like(failed),
            np.zeros_like(failed),
            np.zeros_like(failed),
            np.zeros_like(failed),
        )
        masked = _mask_of(nonsmooth_mask, failed.shape)
        review.nonsmooth |= failed & masked
        ranked = np.where(failed & ~masked, self.errors.rel_error, -np.inf)
        order = np.argsort(-ranked, axis=None)[: int((failed & ~masked).sum())]
        for rank, flat in enumerate(order):
            index = tuple(int(i) for i in np.unravel_index(flat, failed.shape))
            if rank >= MAX_EXAMINED:
                review.unexamined[index] = True
                continue
            verdict = self.examine(index)
            if verdict == "real":
                review.real_failure = True
                break
            if verdict.startswith("outside"):
                review.outside[index] = True
                review.message = review.message or verdict[9:]
                verdict = "nonsmooth"
            getattr(review, verdict)[index] = True
        return review

    def examine(self, index: tuple[int, ...]) -> str:
        """``"nonsmooth"``, ``"confirmed"``, ``"real"`` or ``"outside: why"``."""
        value = float(self.analytic[index])
        if not np.isfinite(value):
            return "real"
        # NOTE: convergence is tried first: where the differences settle on
        # the analytic value as the step shrinks there is no kink to blame,
        # however noisy a single probe of the slopes looked.
        if self._converges(index):
            return "confirmed"
        h = self._base_step(index)
        direction = np.zeros_like(self.x0)
        direction[index] = 1.0
        line = probe_line(
            self.loss_of, self.x0, direction, h, self.dtype, self.tolerance.rtol
        )
        slack = float(self.errors.allowed[index])
        # NOTE: a jump of the slope no larger than the allowed error cannot
        # explain a mismatch; it is rounding of a loss whose terms cancel
        # (a zero-mean layer under a sum loss), not a kink.
        if line.nonsmooth and line.high - line.low > slack:
            if line.low - slack <= value <= line.high + slack:
                return "nonsmooth"
            return (
                f"outside: element {index} sits at a kink or tie, but its analytic "
                f"value {value:.6g} lies outside the one-sided derivatives "
                f"[{line.low:.6g}, {line.high:.6g}]: wrong on either side"
            )
        return "real"

    def _converges(self, index: tuple[int, ...]) -> bool:
        """Whether a step sweep confirms the analytic value at ``index``.

        The sweep starts from the step the estimate used. Where that was the
        large step of an affine input (Note [affine step] in
        ``gradcheck._precision``), estimates that agree across the sweep
        confirm the affinity, and their verdict stands; estimates that drift
        show the guess was wrong, and the sweep is redone from the default
        step, so a misjudged layer cannot fail a correct element.
        """
        used = float(self.estimate.steps[index])
        sweep = self._sweep(index, used)
        if self._accepts(index, sweep):
            return True
        default = self._base_step(index)
        if used <= default or _steady(sweep):
            return False
        return self._accepts(index, self._sweep(index, default))

    def _accepts(self, index: tuple[int, ...], sweep: StepSweep) -> bool:
        return converges_to(
            float(self.analytic[index]),
            sweep.steps,
            sweep.estimates,
            sweep.rounding_bounds,
            self.tolerance.rtol,
            self.tolerance.atol,
        )

    def _sweep(self, index: tuple[int, ...], step: float | None = None) -> StepSweep:
        return sweep_element(
            self.loss_of,
            self.x0,
            index,
            self._base_step(index) if step is None else step,
            dtype=self.dtype,
        )

    def _base_step(self, index: tuple[int, ...]) -> float:
        """The dtype's default step at ``index``."""
        return float(default_steps(np.asarray(self.x0[index]), self.dtype))

    def truncation_at(self, index: tuple[int, ...]) -> float:
        """Truncation error of the default step at ``index``, from a sweep.

        Central differences err by ``c h**2``, so ``D(h) - D(h/2)`` is three
        quarters of the error at ``h``.
        """
        sweep = self._sweep(index, float(self.estimate.steps[index]))
        at_h = np.flatnonzero(np.asarray(SWEEP_FACTORS) == 1.0)
        if len(sweep.estimates) != len(SWEEP_FACTORS) or not at_h.size:
            return float("nan")
        k = int(at_h[0])
        return float(abs(sweep.estimates[k] - sweep.estimates[k + 1]) * 4.0 / 3.0)

    def label_nonsmooth(self) -> Finding:
        """``tie`` or ``kink`` for the block, or a failed routing invariant."""
        return routing_finding(
            self.loss_of, self.x0, self.analytic, self.dtype, self.tolerance.rtol
        )


def _mask_of(mask: NDArray[np.bool_] | None, shape: tuple[int, ...]) -> NDArray[Any]:
    if mask is None:
        return np.zeros(shape, dtype=bool)
    array = np.asarray(mask, dtype=bool)
    if array.shape != shape:
        raise GradcheckError(
            f"a nonsmooth mask has shape {array.shape}, but its input has shape "
            f"{shape}; return one boolean per element of the input."
        )
    return array


def _max_rel_error(
    rel_error: FloatArray, failed: NDArray[np.bool_], review: _Review
) -> float:
    if failed.any():
        return float(rel_error[failed].max())
    rest = rel_error[~review.confirmed]
    return float(rest.max()) if rest.size else 0.0


def _steady(sweep: StepSweep) -> bool:
    """Whether a sweep's estimates agree to within their rounding bounds."""
    if not sweep.estimates.size:
        return False
    spread = float(np.ptp(sweep.estimates))
    return spread <= 2.0 * float(sweep.rounding_bounds.max())


def _worst_index(rel_error: FloatArray, failed: NDArray[np.bool_]) -> tuple[int, ...]:
    masked = np.where(failed, rel_error, -np.inf) if failed.any() else rel_error
    masked = np.where(np.isnan(masked), np.inf, masked)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(masked)), masked.shape))


def _degenerate(
    analytic: FloatArray, estimate: CentralDifference, tolerance: Tolerance
) -> bool:
    """Both gradients lie entirely inside the finite-difference noise."""
    noise = np.maximum(estimate.rounding_bound, tolerance.atol)
    return bool(
        np.all(np.abs(analytic) <= noise) and np.all(np.abs(estimate.gradient) <= noise)
    )


def finding_block(name: str, finding: Finding) -> Block:
    """A block decided by a pre-check alone, before any comparison."""
    status = "fail" if finding.status == "fail" else "inconclusive"
    return Block(
        name=name,
        status=status,
        max_rel_error=float("nan"),
        worst_index=(),
        analytic=None,
        numeric=None,
        message=finding.message,
        codes=[finding.code],
    )


def apply_findings(block: Block, findings: list[Finding]) -> None:
    """Merge pre-check findings into a compared block.

    A failing finding fails the block, but the comparison's own result is
    kept and stated beside it: a nondeterministic or stateful backward is a
    different bug from a Jacobian mismatch.
    """
    compared = block.status
    for finding in findings:
        if finding.status == "note":
            block.notes.append(finding.message)
            continue
        block.codes.append(finding.code)
        block.diagnosis.append(finding.message)
        if _SEVERITY[finding.status] > _SEVERITY[block.status]:
            block.status = finding.status
            block.decided_by = _PRE_CHECKS.get(finding.code, finding.code)
    if block.status != compared:
        block.notes.append(
            f"the finite-difference comparison itself gave {compared!r} "
            f"(max rel error {block.max_rel_error:.2e})"
        )


_SEVERITY = {"pass": 0, "inconclusive": 1, "fail": 2}

# The pre-check behind each finding code, as block texts name it.
_PRE_CHECKS = {
    "adjoint-mismatch": "adjoint test",
    "nonlinear-backward": "linearity test",
    "ignores-grad-output": "linearity test",
    "nondeterministic-backward": "repeat test",
    "stateful-backward": "repeat test",
}


@dataclass(frozen=True)
class NoiseFloor:
    """What limits the comparison besides the finite differences' own rounding.

    Attributes
    ----------
    analytic_noise
        The backward's rounding, measured (see ``diagnostics.backward_noise``).
    resolution
        The smallest gradient the differences can resolve at each element:
        the forward's results round at about ``machine_eps`` times the size of
        the input it works on, whatever the size of the result, so a change of
        the loss below ``machine_eps * max|x| * sum|grad_output|`` over the
        step is invisible (a log-sum-exp of large logits computes its tiny
        remainder as exactly zero).
    """

    analytic_noise: FloatArray
    resolution: FloatArray

    def widen(
        self, estimate: CentralDifference, analytic: FloatArray
    ) -> CentralDifference:
        """The estimate with its error bound widened by both noise sources.

        The resolution applies only to elements where both gradients lie
        below it; larger elements are resolved and keep their tight bound.
        """
        size = np.maximum(np.abs(analytic), np.abs(estimate.gradient))
        unresolved = np.where(size <= self.resolution, self.resolution, 0.0)
        bound = estimate.rounding_bound + 4.0 * self.analytic_noise + unresolved
        return replace(estimate, rounding_bound=bound)

    def linearity_noise(self, rtol: float) -> float:
        """What the exact linearity test of the backward cannot resolve.

        Its own rounding, measured; and departures so far below the
        resolution of the differences that no comparison could confirm them.
        """
        measured = float(np.linalg.norm(self.analytic_noise))
        return measured + rtol * float(np.linalg.norm(self.resolution))


@dataclass(frozen=True)
class BackwardReview:
    """Everything the backward pre-checks need besides the block itself."""

    forward: Callable[..., Any]
    arrays: Mapping[str, Any]
    points: Mapping[str, FloatArray]
    grad_output: NDArray[Any]
    nondet_tol: float
    input_dtype: np.dtype
    compute_dtype: np.dtype
    output_at_points: NDArray[Any] | None = None

    def noise_floor(
        self, name: str, fn: Callable[..., Any], analytic: Any, x0: FloatArray
    ) -> NoiseFloor | None:
        """Measure the backward's noise and the differences' resolution."""
        first = np.asarray(analytic)
        if first.shape != x0.shape or first.dtype.kind not in "biuf":
            return None
        role = f"the gradient for {name!r}"

        def backward_of(grad_output: Any) -> Any:
            return call_user(fn, role, **self.arrays, grad_output=grad_output)

        noise = backward_noise(backward_of, self.grad_output, first.astype(np.float64))
        noise = np.maximum(noise, self._precision_noise(fn, role, first))
        # A gradient function may declare the rounding its result carries, as
        # the adapters do for gradients undone from an SGD step.
        declared = np.asarray(getattr(fn, "gradcheck_rounding", 0.0), dtype=float)
        if declared.shape in ((), noise.shape):
            noise = np.maximum(noise, declared)
        machine_eps = float(np.finfo(self.compute_dtype).eps)
        upstream = np.abs(np.asarray(self.grad_output, dtype=np.float64)).sum()
        magnitude = float(np.abs(x0).max(initial=0.0))
        steps = default_steps(x0, self.compute_dtype)
        resolution = ROUNDING_SAFETY * machine_eps * magnitude * upstream / steps
        jitter = 4.0 * self._forward_jitter(name, x0) / steps
        return NoiseFloor(noise, np.maximum(resolution, jitter))

    def _forward_jitter(self, name: str, x0: FloatArray) -> float:
        """How much ``<G, forward>`` moves when ``x`` moves by its last digits.

        A move of a few units in the last place (of the dtype the forward
        computes in) is below anything a finite difference can resolve, so
        the change it causes is the forward's rounding as the differences see
        it: a normalisation of identical values, say, subtracts numbers of
        the input's size to get zero and amplifies what is left. Costs two
        forward calls.
        """
        rng = np.random.default_rng(7_927)
        units = np.spacing(np.abs(x0).astype(self.compute_dtype)).astype(np.float64)
        moved = x0 + 4.0 * units * rng.choice([-1.0, 1.0], x0.shape)
        weights = np.abs(np.asarray(self.grad_output, dtype=np.float64))
        try:
            before = self.output_at_points
            if before is None:
                before = call_user(self.forward, "the forward", **self.points)
            after = call_user(
                self.forward, "the forward", **{**self.points, name: moved}
            )
        except UserCodeError:
            return 0.0
        change = np.abs(np.asarray(after, dtype=np.float64) - before)
        if change.shape != weights.shape or not np.all(np.isfinite(change)):
            return 0.0
        return float(np.sum(weights * change))

    def _precision_noise(
        self, fn: Callable[..., Any], role: str, first: NDArray[Any]
    ) -> FloatArray | float:
        """How far a low-precision backward is from the same code in float64.

        The rounding of a float32 backward sits partly in intermediates that
        do not depend on ``grad_output`` (a normalised input, say), which the
        probe of :func:`backward_noise` cannot see; rerunning the same code on
        float64 copies shows it. The gradients are compared with the finite
        differences in full, so a bug common to both precisions still fails.
        """
        precise = self._precise_gradient(fn, role, first.shape)
        if precise is None:
            return 0.0
        difference: FloatArray = np.abs(first.astype(np.float64) - precise)
        return np.where(np.isfinite(difference), difference, 0.0)

    def _precise_gradient(
        self, fn: Callable[..., Any], role: str, shape: tuple[int, ...]
    ) -> FloatArray | None:
        """The backward on float64 copies, for low-precision inputs only."""
        if np.dtype(self.input_dtype) == np.float64:
            return None
        upstream = np.asarray(self.grad_output, dtype=np.float64)
        try:
            precise = np.asarray(
                call_user(fn, role, **self.points, grad_output=upstream)
            )
        except UserCodeError:
            return None
        if precise.shape != shape or precise.dtype != np.float64:
            return None
        return precise

    def apply(
        self,
        block: Block,
        name: str,
        fn: Callable[..., Any],
        floor: NoiseFloor | None = None,
    ) -> None:
        """Repeatability, linearity in grad_output and (if affine) the adjoint."""
        if block.analytic is None or block.numeric is None:
            return
        role = f"the gradient for {name!r}"

        # NOTE: a low-precision backward is tested for repeatability and
        # linearity on float64 copies, where its rounding cannot pass for a
        # departure from linearity; bugs that are not rounding survive the cast.
        arrays, upstream, first = self.arrays, self.grad_output, block.analytic
        precise = self._precise_gradient(fn, role, block.analytic.shape)
        if precise is not None:
            arrays, first = self.points, precise
            upstream = np.asarray(self.grad_output, dtype=np.float64)

        def backward_of(grad_output: Any) -> Any:
            return call_user(fn, role, **arrays, grad_output=grad_output)

        def output_of(x: FloatArray) -> Any:
            return call_user(self.forward, "the forward", **{**self.points, name: x})

        rtol = block.tolerance.rtol if block.tolerance else 1e-7
        noise = 0.0 if floor is None else floor.linearity_noise(rtol)
        findings, generic = backward_findings(
            backward_of, upstream, first, self.nondet_tol, rtol, noise
        )
        if not findings:
            _within_backward_rounding(block, generic, self.input_dtype)
        if not findings:
            adjoint = adjoint_finding(
                output_of,
                self.points[name],
                self.grad_output,
                block.analytic,
                _coarser(self.input_dtype, self.compute_dtype),
                None if floor is None else floor.analytic_noise,
                rtol,
            )
            findings += [] if adjoint is None else [adjoint]
        apply_findings(block, findings)


def _coarser(first: np.dtype, second: np.dtype) -> np.dtype:
    """Of two dtypes, the one with the larger machine epsilon."""
    eps = [
        float(np.finfo(d).eps) if np.dtype(d).kind == "f" else 0.0
        for d in (first, second)
    ]
    return np.dtype(first) if eps[0] >= eps[1] else np.dtype(second)


def _within_backward_rounding(
    block: Block, generic_scale: float, input_dtype: np.dtype
) -> None:
    """Re-judge a failure whose every difference is the backward's own rounding.

    A float32 backward rounds at about ``machine_eps`` times the size of its
    terms, which is the size of its gradient for a generic ``grad_output``,
    even where this loss makes the true gradient vanish. Differences below
    that say nothing about the backward; a real bug is far larger.
    """
    if block.status != "fail" or block.analytic is None or block.numeric is None:
        return
    if not (np.isfinite(generic_scale) and np.dtype(input_dtype).kind == "f"):
        return
    floor = 16.0 * float(np.finfo(input_dtype).eps) * generic_scale
    if not np.all(np.abs(block.analytic - block.numeric) <= floor):
        return
    block.n_failed, block.diagnosis = 0, []
    if np.all(np.maximum(np.abs(block.analytic), np.abs(block.numeric)) <= floor):
        block.status, block.codes = "inconclusive", ["degenerate-loss"]
        block.message = (
            "both gradients are below the rounding of the backward itself: the "
            "loss does not depend on this input here; use a loss that weights "
            "the outputs differently"
        )
        return
    block.status = "pass"
    block.message = (
        f"every difference is below the backward's own {np.dtype(input_dtype).name} "
        f"rounding ({floor:.2e}, from its gradient for a random grad_output)"
    )
