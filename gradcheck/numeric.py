"""Finite-difference derivatives of scalar functions, in float64.

Note [step size per dtype]
--------------------------
A central difference ``(f(x+h) - f(x-h)) / 2h`` has a truncation error of
about ``h**2 |f'''| / 6`` and a rounding error of about ``|f| machine_eps / h``.
The two balance at ``h ~ cbrt(machine_eps)``, scaled by ``max(1, |x|)`` so the
step stays resolvable next to large coordinates. ``machine_eps`` is that of the
*input* dtype: a float32 layer computes with float32 resolution even when we
hand it float64 copies, so its step must be large enough for float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import GradcheckError

FloatArray = NDArray[np.float64]
ScalarFn = Callable[[FloatArray], object]

# The rounding error of f is taken as this many units in the last place of
# |f|: f's own evaluation rounds at every operation, not once.
ROUNDING_SAFETY = 16.0

__all__ = [
    "CentralDifference",
    "StepSweep",
    "sweep_element",
    "as_float64_copy",
    "central_difference",
    "default_steps",
    "numeric_gradient",
    "scalar_value",
]


@dataclass(frozen=True)
class CentralDifference:
    """A central-difference gradient with what is needed to judge its accuracy.

    Attributes
    ----------
    gradient
        The estimate, float64, shaped like ``x``.
    steps
        The absolute step ``h`` used at each element.
    rounding_bound
        Estimated error of each element. For the central difference, its
        rounding: ``ROUNDING_SAFETY * machine_eps * max(|f(x+h)|, |f(x-h)|,
        |f(x)|) / h``, with the ``machine_eps`` of the dtype the function
        computes in. Estimators that also estimate truncation (Richardson, see
        ``gradcheck._precision``) add it here, so that the comparison sees
        one bound per element.
    f0
        ``f(x)``.
    """

    gradient: FloatArray
    steps: FloatArray
    rounding_bound: FloatArray
    f0: float


def default_steps(x: NDArray[np.generic], dtype: np.dtype | None = None) -> FloatArray:
    """Absolute central-difference steps ``cbrt(machine_eps) * max(1, |x|)``.

    Parameters
    ----------
    x : ndarray
        The point, any real dtype.
    dtype : numpy dtype, optional
        Dtype whose resolution sets the step; defaults to ``x``'s (float64 for
        integer input).

    Returns
    -------
    ndarray of float64
        One step per element, see Note [step size per dtype].
    """
    machine_eps = float(np.finfo(_float_dtype(dtype or x.dtype)).eps)
    magnitude = np.maximum(1.0, np.abs(np.asarray(x, dtype=np.float64)))
    steps = np.cbrt(machine_eps) * magnitude

    # NOTE: round each step so that x + h is exactly representable, which
    # makes the divided difference use the step that was really taken.
    x64 = np.asarray(x, dtype=np.float64)
    rounded: FloatArray = (x64 + steps) - x64
    return rounded


def as_float64_copy(x: ArrayLike, name: str = "x") -> FloatArray:
    """Return a private, contiguous float64 copy of ``x``; refuse non-real data."""
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise GradcheckError(
            f"{name} has dtype {array.dtype}, which cannot be differentiated; "
            "pass an array of real numbers (float64 is best)."
        )
    return np.array(array, dtype=np.float64, order="C", copy=True)


def scalar_value(value: object, what: str = "f") -> float:
    """Convert a function's result to a finite Python float, or explain why not."""
    array = np.asarray(value)
    if array.size != 1:
        raise GradcheckError(
            f"{what} must return a scalar (the loss), got an array of shape "
            f"{array.shape}; reduce it to one number, e.g. with a weighted sum."
        )
    if array.dtype.kind not in "biuf":
        raise GradcheckError(f"{what} returned {value!r}, which is not a real number.")
    number = float(array.reshape(()))
    if not np.isfinite(number):
        raise GradcheckError(
            f"{what} returned {number} at the perturbed point; keep inputs inside the "
            "function's domain or use a smaller step."
        )
    return number


def central_difference(
    f: ScalarFn,
    x: ArrayLike,
    *,
    step: float | ArrayLike | None = None,
    dtype: np.dtype | None = None,
    what: str = "f",
) -> CentralDifference:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``f`` receives a private float64 array, perturbed one element at a time;
    ``x`` itself is never modified. See :func:`numeric_gradient`.
    """
    x0 = as_float64_copy(x)
    if x0.size == 0:
        raise GradcheckError("x is empty; there is no gradient to check.")
    steps = _resolve_steps(x0, step, dtype or np.asarray(x).dtype)
    machine_eps = float(np.finfo(_float_dtype(dtype or np.asarray(x).dtype)).eps)

    f0 = scalar_value(f(x0.copy()), what)
    gradient = np.empty_like(x0)
    rounding = np.empty_like(x0)
    point = x0.copy()
    flat_point, flat_x0 = point.reshape(-1), x0.reshape(-1)
    for i, h in enumerate(steps.reshape(-1)):
        flat_point[i] = flat_x0[i] + h
        f_plus = scalar_value(f(point.copy()), what)
        flat_point[i] = flat_x0[i] - h
        f_minus = scalar_value(f(point.copy()), what)
        flat_point[i] = flat_x0[i]

        gradient.flat[i] = (f_plus - f_minus) / (2.0 * h)
        rounding.flat[i] = (
            ROUNDING_SAFETY * machine_eps * max(abs(f_plus), abs(f_minus), abs(f0)) / h
        )
    return CentralDifference(gradient, steps, rounding, f0)


def numeric_gradient(
    f: ScalarFn, x: ArrayLike, *, step: float | ArrayLike | None = None
) -> FloatArray:
    """Central-difference gradient of a scalar function, computed in float64.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``. It receives a float64 array shaped like ``x``.
    x : array_like
        The point. Integer input is promoted to float64, never truncated.
    step : float or array_like, optional
        Absolute step(s). By default ``cbrt(machine_eps) * max(1, |x|)`` per
        element, with the ``machine_eps`` of ``x``'s dtype.

    Returns
    -------
    ndarray of float64
        Same shape as ``x``.

    Raises
    ------
    GradcheckError
        If ``f`` returns a non-scalar, NaN or inf, or ``x`` is not real.

    Examples
    --------
    >>> import numpy as np
    >>> g = numeric_gradient(lambda v: np.sum(v**2), np.array([1, 2]))
    >>> np.allclose(g, [2.0, 4.0])
    True
    """
    return central_difference(f, x, step=step).gradient


def _float_dtype(dtype: np.dtype | type) -> np.dtype:
    """The floating dtype whose resolution applies (float64 for integers)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _resolve_steps(
    x0: FloatArray, step: float | ArrayLike | None, dtype: np.dtype | type
) -> FloatArray:
    if step is None:
        return default_steps(x0, _float_dtype(dtype))
    steps = np.broadcast_to(np.asarray(step, dtype=np.float64), x0.shape).copy()
    if not np.all(np.isfinite(steps)) or np.any(steps <= 0):
        raise GradcheckError(
            "step must be positive and finite; omit it for the default."
        )
    if np.any((x0 + steps) == x0):
        raise GradcheckError(
            "step is too small to change x at some elements (x + step == x); "
            "omit it to get a step scaled to x and its dtype."
        )
    return steps


# Steps of a convergence sweep, as multiples of the default step.
SWEEP_FACTORS = (4.0, 2.0, 1.0, 0.5, 0.25, 0.125)


@dataclass(frozen=True)
class StepSweep:
    """Central differences of one element over a geometric sequence of steps."""

    steps: FloatArray
    estimates: FloatArray
    rounding_bounds: FloatArray


def sweep_element(
    f: ScalarFn,
    x0: FloatArray,
    index: tuple[int, ...],
    base_step: float,
    *,
    dtype: np.dtype | None = None,
    what: str = "f",
) -> StepSweep:
    """Central differences of element ``index`` at ``base_step * SWEEP_FACTORS``.

    A right analytic value is approached as the step shrinks (truncation error
    falls like ``h**2`` until rounding takes over); a wrong one stays at a
    constant distance whatever the step. See :func:`gradcheck.compare.converges_to`.
    """
    machine_eps = float(np.finfo(_float_dtype(dtype or x0.dtype)).eps)
    point = np.array(x0, dtype=np.float64, copy=True)
    centre = float(point[index])
    steps, estimates, bounds = [], [], []
    for factor in SWEEP_FACTORS:
        h = (centre + base_step * factor) - centre
        if h <= 0:
            continue
        point[index] = centre + h
        f_plus = scalar_value(f(point.copy()), what)
        point[index] = centre - h
        f_minus = scalar_value(f(point.copy()), what)
        point[index] = centre
        steps.append(h)
        estimates.append((f_plus - f_minus) / (2.0 * h))
        bounds.append(
            ROUNDING_SAFETY * machine_eps * max(abs(f_plus), abs(f_minus)) / h
        )
    return StepSweep(np.array(steps), np.array(estimates), np.array(bounds))
