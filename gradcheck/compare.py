"""Element-wise comparison of analytic and numeric gradients.

Note [the error metric]
-----------------------
An element passes when ``|a - n| <= rtol * max(|a|, |n|) + atol_i``. The
absolute part ``atol_i`` is never zero: it is the larger of the user's
``atol``, the finite-difference error bound at that element, and a floor of
``rtol * floor_fraction * max|n|`` that absorbs rounding in the analytic side
for elements much smaller than the rest of the block. The reported relative
error divides by ``max(|a|, |n|) + atol_i / rtol``, so it is finite at exact
zeros, and it is at most ``rtol`` exactly when the element passes. NaN or inf
on either side counts as an infinite error, never as "not greater than tol".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .errors import GradcheckError, LooseToleranceWarning

FloatArray = NDArray[np.float64]

__all__ = [
    "ElementErrors",
    "Tolerance",
    "converges_to",
    "default_tolerance",
    "elementwise_errors",
    "resolve_tolerance",
]

# rtol and the analytic-rounding floor (as a fraction of the block's scale)
# per dtype. float64 must resolve a gradient wrong by one part in a million.
_DEFAULTS: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-3),
    "float32": (1e-3, 1e-2),
    "float16": (1e-2, 1e-1),
}
LOOSE_RTOL = 1e-2


@dataclass(frozen=True)
class Tolerance:
    """The tolerance a check applied, and where each part came from."""

    rtol: float
    atol: float
    floor_fraction: float
    dtype: str
    source: str

    def describe(self) -> str:
        """One line for reports."""
        return (
            f"rtol={self.rtol:.1e} ({self.source}), atol={self.atol:.1e} plus the "
            f"finite-difference error bound of each element"
        )


def default_tolerance(dtype: np.dtype) -> tuple[float, float]:
    """``(rtol, floor_fraction)`` for a dtype; integers count as float64."""
    name = np.dtype(dtype).name if np.dtype(dtype).kind == "f" else "float64"
    return _DEFAULTS.get(name, _DEFAULTS["float16"])


def resolve_tolerance(
    dtype: np.dtype, rtol: float | None, atol: float | None
) -> Tolerance:
    """Combine user tolerances with the dtype defaults; warn when too loose."""
    default_rtol, floor_fraction = default_tolerance(dtype)
    source = f"default for {np.dtype(dtype).name}"
    _refuse_non_number(rtol, "rtol")
    _refuse_non_number(atol, "atol")
    if atol is not None and not atol >= 0:
        raise GradcheckError(f"atol must be >= 0, got {atol!r}; omit it for 0.")
    if rtol is not None:
        source = "given"
        if not rtol > 0:
            raise GradcheckError(
                f"rtol must be positive, got {rtol!r}; omit it for the dtype default."
            )
        if rtol > LOOSE_RTOL:
            warnings.warn(
                f"rtol={rtol:g} is looser than {LOOSE_RTOL:g}: gradients wrong by "
                "tens of percent can pass. Use the default, or float64 inputs.",
                LooseToleranceWarning,
                stacklevel=3,
            )
    return Tolerance(
        rtol=default_rtol if rtol is None else float(rtol),
        atol=0.0 if atol is None else float(atol),
        floor_fraction=floor_fraction,
        dtype=np.dtype(dtype).name,
        source=source,
    )


def _refuse_non_number(value: object, name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise GradcheckError(
            f"{name} must be a float or None, got {type(value).__name__} "
            f"{value!r}; e.g. {name}=1e-6."
        )
    if not np.isfinite(float(value)):
        raise GradcheckError(f"{name} must be finite, got {value!r}.")


@dataclass(frozen=True)
class ElementErrors:
    """Per-element errors of one gradient block."""

    abs_error: FloatArray
    rel_error: FloatArray
    allowed: FloatArray
    failed: NDArray[np.bool_]


def elementwise_errors(
    analytic: FloatArray,
    numeric: FloatArray,
    fd_error: FloatArray,
    tolerance: Tolerance,
) -> ElementErrors:
    """Errors and pass/fail per element, see Note [the error metric]."""
    rtol = tolerance.rtol
    with np.errstate(invalid="ignore", over="ignore"):
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        finite_numeric = np.abs(numeric[np.isfinite(numeric)])
        block_scale = float(finite_numeric.max()) if finite_numeric.size else 0.0
        floor = rtol * tolerance.floor_fraction * block_scale
        atol = np.maximum(np.maximum(tolerance.atol, fd_error), floor)
        # NOTE: a float32 backward cannot resolve gradients finer than its
        # subnormal spacing, whatever the numeric side says.
        atol = np.maximum(atol, _subnormal_floor(tolerance.dtype))

        abs_error = np.abs(analytic - numeric)
        rel_error = abs_error / (scale + atol / rtol)
        allowed = rtol * scale + atol
    bad = ~(np.isfinite(analytic) & np.isfinite(numeric))
    abs_error = np.where(bad, np.inf, abs_error)
    rel_error = np.where(bad, np.inf, rel_error)
    return ElementErrors(abs_error, rel_error, allowed, bad | (abs_error > allowed))


def _subnormal_floor(dtype_name: str) -> float:
    """Sixteen of the dtype's smallest subnormal steps (float64's tiny otherwise)."""
    try:
        info = np.finfo(np.dtype(dtype_name))
    except (TypeError, ValueError):
        return float(np.finfo(np.float64).tiny)
    return max(16.0 * float(info.smallest_subnormal), float(np.finfo(np.float64).tiny))


def converges_to(
    analytic_value: float,
    steps: FloatArray,
    estimates: FloatArray,
    rounding_bounds: FloatArray,
    rtol: float,
    atol: float,
) -> bool:
    """Whether a step sweep's estimates approach ``analytic_value``.

    Each central difference ``D(h_k)`` is paired with an error estimate: the
    change from the previous, larger step (the truncation error still left)
    plus its rounding bound. Richardson extrapolation ``(4 D(h/2) - D(h)) / 3``
    gives a further estimate of higher order. The analytic value is accepted
    when some estimate lies within its own error bar plus the tolerance of it;
    a wrong gradient sits at a constant distance that no step reduces.
    """
    candidates: list[tuple[float, float]] = []
    for k in range(1, len(estimates)):
        change = abs(estimates[k] - estimates[k - 1])
        candidates.append((estimates[k], change + rounding_bounds[k]))
    extrapolated = (4.0 * estimates[1:] - estimates[:-1]) / 3.0
    for k in range(1, len(extrapolated)):
        change = abs(extrapolated[k] - extrapolated[k - 1])
        candidates.append((extrapolated[k], change + 2.0 * rounding_bounds[k + 1]))
    for estimate, error_bar in candidates:
        scale = max(abs(analytic_value), abs(estimate))
        if abs(analytic_value - estimate) <= rtol * scale + max(atol, error_bar):
            return True
    return False
