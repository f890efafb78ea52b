"""Name the likely bug behind a gradient mismatch from the numbers alone."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

__all__ = ["diagnose"]

# Ratios within this relative spread count as "constant".
_RATIO_SPREAD = 1e-3


def diagnose(analytic: FloatArray, numeric: FloatArray, rtol: float) -> list[str]:
    """Return short hints explaining how ``analytic`` differs from ``numeric``.

    Parameters
    ----------
    analytic, numeric : ndarray
        Same shape; the block is known to fail.
    rtol : float
        The tolerance the block was checked with.

    Returns
    -------
    list of str
        Empty when no pattern is recognised.
    """
    if not (np.all(np.isfinite(analytic)) and np.all(np.isfinite(numeric))):
        return ["the analytic gradient contains NaN or inf"]
    hints = []
    for detect in (_zero, _constant_ratio, _permuted):
        hint = detect(analytic, numeric, rtol)
        if hint:
            hints.append(hint)
            break
    return hints


def _zero(analytic: FloatArray, numeric: FloatArray, rtol: float) -> str | None:
    if np.all(analytic == 0) and np.any(numeric != 0):
        return "the analytic gradient is all zeros: a term is missing or never written"
    return None


def _constant_ratio(
    analytic: FloatArray, numeric: FloatArray, rtol: float
) -> str | None:
    significant = np.abs(numeric) > 1e-3 * np.abs(numeric).max()
    if significant.sum() < 2:
        return None
    ratios = analytic[significant] / numeric[significant]
    centre = float(np.median(ratios))
    if centre == 0 or np.max(np.abs(ratios / centre - 1)) > max(_RATIO_SPREAD, rtol):
        return None
    if abs(centre + 1) < 1e-6:
        return "sign flip: analytic = -numeric everywhere"
    inverse = 1.0 / centre
    return (
        f"constant ratio analytic/numeric = {centre:.6g} (1/{inverse:.6g}): a missing "
        "or extra scale factor, such as a batch or time mean, or a factor of 2"
    )


def _permuted(analytic: FloatArray, numeric: FloatArray, rtol: float) -> str | None:
    close = _close_to(numeric, rtol)
    if analytic.ndim >= 2 and analytic.shape[-1] == analytic.shape[-2]:
        if close(np.swapaxes(analytic, -1, -2)):
            return "transposed: analytic equals the numeric gradient transposed"
    if analytic.ndim >= 1 and close(analytic[..., ::-1]):
        return "flipped: analytic equals the numeric gradient reversed on the last axis"
    if analytic.ndim >= 2 and close(analytic[..., ::-1, ::-1]):
        return (
            "flipped kernel: analytic equals the numeric gradient rotated 180 degrees"
        )
    return None


def _close_to(numeric: FloatArray, rtol: float):  # type: ignore[no-untyped-def]
    scale = float(np.abs(numeric).max()) or 1.0

    def close(candidate: FloatArray) -> bool:
        tolerance = max(rtol, 1e-6) * scale
        return bool(np.all(np.abs(candidate - numeric) <= tolerance))

    return close
