"""An independent opinion on a gradient from ``scipy.optimize.check_grad``."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from .numeric import ROUNDING_SAFETY, FloatArray

__all__ = ["below_resolution", "scipy_cross_check"]

# Above this many elements scipy checks one random direction (two evaluations)
# instead of every coordinate, so the cross-check never dominates the run time.
FULL_CHECK_LIMIT = 32


def scipy_cross_check(
    name: str,
    loss_of_input: Callable[[FloatArray], float],
    analytic: FloatArray,
    x0: FloatArray,
    compute_dtype: np.dtype,
    seed: int,
) -> tuple[float, float, str]:
    """Run ``check_grad`` and return (relative error, its tolerance, direction).

    scipy returns the 2-norm of the difference, which shrinks with the
    gradient's scale and so hides errors in small gradients; it is divided here
    by the norm of what was compared. scipy uses forward differences, so its
    tolerance is looser than the main check's, and an error inside the
    rounding of those differences (``machine_eps * |loss| / epsilon`` per
    difference) counts as agreement, whatever the gradient's size.
    """
    from scipy.optimize import check_grad

    machine_eps = float(np.finfo(compute_dtype).eps)
    epsilon = np.sqrt(machine_eps) * max(1.0, float(np.abs(x0).max()))
    shape = x0.shape

    def func(flat: FloatArray) -> float:
        return loss_of_input(flat.reshape(shape))

    def grad(flat: FloatArray) -> FloatArray:
        return analytic.reshape(-1)

    flat_x0 = x0.reshape(-1).copy()
    if flat_x0.size <= FULL_CHECK_LIMIT:
        error = check_grad(func, grad, flat_x0, epsilon=epsilon)
        scale = float(np.linalg.norm(analytic))
        differences = flat_x0.size
        direction = "all"
    else:
        error = check_grad(
            func,
            grad,
            flat_x0,
            epsilon=epsilon,
            direction="random",
            **_rng_keyword(seed),
        )
        v = np.random.default_rng(seed).standard_normal(flat_x0.size)
        scale = float(np.linalg.norm(analytic) * np.linalg.norm(v))
        differences = 1
        direction = "random"
    # Forward differences resolve about sqrt(machine_eps) of the gradient.
    tolerance = max(1e-4, 30.0 * np.sqrt(machine_eps))
    rounding = ROUNDING_SAFETY * machine_eps * abs(func(flat_x0)) / epsilon
    floor = rounding * np.sqrt(differences) / tolerance
    # NOTE: the error itself joins the denominator, so a zero analytic gradient
    # gives a relative error of 1 (all of the slope is missing), never an
    # overflow; any ratio that was above the tolerance stays above it.
    denominator = max(scale, float(error), floor, np.finfo(np.float64).tiny)
    return float(error) / denominator, tolerance, direction


def below_resolution(
    analytic: FloatArray,
    numeric: FloatArray,
    max_rel_error: float,
    tolerance: float,
    direction: str,
    seed: int,
) -> bool:
    """Whether a mismatch the main check found is too small for scipy to see.

    scipy measures one norm over the whole gradient (or one random
    projection of it) at a tolerance of about 1e-4; the main check judges each
    element at its own tolerance. The mismatch is below scipy's resolution
    when even the worst element's relative error is under scipy's tolerance,
    or when scipy's own metric, applied to the main check's two gradients,
    would be.
    """
    if max_rel_error < tolerance:
        return True
    difference = (analytic - numeric).reshape(-1)
    if direction == "random":
        v = np.random.default_rng(seed).standard_normal(difference.size)
        seen = abs(float(difference @ v))
        scale = float(np.linalg.norm(analytic) * np.linalg.norm(v))
    else:
        seen = float(np.linalg.norm(difference))
        scale = float(np.linalg.norm(analytic))
    return seen <= tolerance * max(scale, seen)


def _rng_keyword(seed: int) -> dict[str, object]:
    """Scipy renamed ``seed`` to ``rng``; use whichever this scipy has."""
    from scipy.optimize import check_grad

    parameters = inspect.signature(check_grad).parameters
    key = "rng" if "rng" in parameters else "seed"
    return {key: np.random.default_rng(seed)}
