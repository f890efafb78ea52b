"""Turn one analytic gradient and its numeric estimate into a report block."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .compare import Tolerance, converges_to, elementwise_errors
from .diagnosis import diagnose
from .numeric import CentralDifference, FloatArray, sweep_element
from .report import Block

__all__ = ["compare_block", "shape_mismatch_block", "analytic_array", "error_block"]


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
    loss_of_input: Callable[[FloatArray], object],
    x0: FloatArray,
    compute_dtype: np.dtype,
) -> Block:
    """Compare, re-examine failing elements with a step sweep, and build the block."""
    errors = elementwise_errors(
        analytic, estimate.gradient, estimate.rounding_bound, tolerance
    )
    failed = errors.failed.copy()
    confirmed = _sweep_failures(
        failed,
        errors.rel_error,
        analytic,
        estimate,
        tolerance,
        loss_of_input,
        x0,
        compute_dtype,
    )
    failed &= ~confirmed
    worst = _worst_index(errors.rel_error, failed)

    status = "fail" if failed.any() else "pass"
    codes = []
    if status == "pass" and _degenerate(analytic, estimate, tolerance):
        status, codes = "inconclusive", ["degenerate-loss"]
    block = Block(
        name=name,
        status=status,
        max_rel_error=float(
            errors.rel_error[failed].max()
            if failed.any()
            else _max_outside(errors.rel_error, confirmed)
        ),
        worst_index=worst,
        analytic=analytic,
        numeric=estimate.gradient,
        n_checked=int(analytic.size),
        n_failed=int(failed.sum()),
        tolerance=tolerance,
        allowed_at_worst=float(errors.allowed[worst]),
        fd_error_at_worst=float(estimate.rounding_bound[worst]),
        step_at_worst=float(estimate.steps[worst]),
        codes=codes,
    )
    if status == "fail":
        block.diagnosis = diagnose(analytic, estimate.gradient, tolerance.rtol)
    if codes:
        block.message = (
            "both gradients are below the finite-difference noise floor: the loss "
            "does not depend on this input here, so nothing was really compared"
        )
    elif confirmed.any():
        block.message = (
            f"{int(confirmed.sum())} element(s) outside the first tolerance were "
            "confirmed by a step sweep: the numeric estimate converges to the "
            "analytic value as the step shrinks"
        )
    return block


def _sweep_failures(
    failed: NDArray[np.bool_],
    rel_error: FloatArray,
    analytic: FloatArray,
    estimate: CentralDifference,
    tolerance: Tolerance,
    loss_of_input: Callable[[FloatArray], object],
    x0: FloatArray,
    compute_dtype: np.dtype,
) -> NDArray[np.bool_]:
    """Elements that fail at the default step but converge under a step sweep.

    Failing elements are swept worst first; the first one that does not
    converge settles the verdict, so a wrong gradient costs one sweep.
    """
    confirmed = np.zeros_like(failed)
    order = np.argsort(-np.where(failed, rel_error, -np.inf), axis=None)
    for flat in order[: int(failed.sum())]:
        index = np.unravel_index(flat, failed.shape)
        if not np.isfinite(analytic[index]):
            break
        sweep = sweep_element(
            loss_of_input, x0, index, float(estimate.steps[index]), dtype=compute_dtype
        )
        if not converges_to(
            float(analytic[index]),
            sweep.steps,
            sweep.estimates,
            sweep.rounding_bounds,
            tolerance.rtol,
            tolerance.atol,
        ):
            break
        confirmed[index] = True
    return confirmed


def _worst_index(rel_error: FloatArray, failed: NDArray[np.bool_]) -> tuple[int, ...]:
    masked = np.where(failed, rel_error, -np.inf) if failed.any() else rel_error
    masked = np.where(np.isnan(masked), np.inf, masked)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(masked)), masked.shape))


def _max_outside(rel_error: FloatArray, confirmed: NDArray[np.bool_]) -> float:
    rest = rel_error[~confirmed]
    return float(rest.max()) if rest.size else 0.0


def _degenerate(
    analytic: FloatArray, estimate: CentralDifference, tolerance: Tolerance
) -> bool:
    """Both gradients lie entirely inside the finite-difference noise."""
    noise = np.maximum(estimate.rounding_bound, tolerance.atol)
    return bool(
        np.all(np.abs(analytic) <= noise) and np.all(np.abs(estimate.gradient) <= noise)
    )
