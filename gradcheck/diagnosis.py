"""Name the likely bug behind a gradient mismatch from the numbers alone."""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

__all__ = ["diagnose"]

# Ratios within this relative spread count as "constant".
_RATIO_SPREAD = 1e-3


def diagnose(
    analytic: FloatArray,
    numeric: FloatArray,
    rtol: float,
    mask: NDArray[np.bool_] | None = None,
) -> list[str]:
    """Return short hints explaining how ``analytic`` differs from ``numeric``.

    Parameters
    ----------
    analytic, numeric : ndarray
        Same shape; the block is known to fail.
    rtol : float
        The tolerance the block was checked with.
    mask : ndarray of bool, optional
        The elements outside tolerance, for hints about where errors sit.

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
    if not hints and mask is not None:
        hint = _shared_by_windows(mask)
        if hint:
            hints.append(hint)
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


def _coverage(size: int, kernel: int, stride: int) -> NDArray[np.int_]:
    """How many windows of ``kernel`` and ``stride`` cover each position."""
    count = np.zeros(size, dtype=int)
    for start in range(0, size - kernel + 1, stride):
        count[start : start + kernel] += 1
    return count


def _shared_by_windows(mask: NDArray[np.bool_]) -> str | None:
    """Errors only where overlapping windows share elements: ``=`` for ``+=``.

    Tries overlapping windows (kernel 2-5, stride below the kernel) on the
    last one or two axes and keeps the layout whose shared positions are
    fewest while still holding every mismatch, with some unshared position
    left over that is right.
    """
    plane = mask.reshape(-1, *mask.shape[-2:]).any(axis=0) if mask.ndim >= 2 else mask
    if not plane.any() or plane.all():
        return None
    best: tuple[int, int, int] | None = None
    for kernel in range(2, 6):
        for stride in range(1, kernel):
            counts = [_coverage(n, kernel, stride) for n in plane.shape]
            if any(c.max() == 0 for c in counts):
                continue
            covered = np.ix_(*counts)
            multiplicity = functools.reduce(np.multiply, covered)
            shared = multiplicity >= 2
            if (plane & ~shared).any() or shared.all():
                continue
            if best is None or int(shared.sum()) < best[0]:
                best = (int(shared.sum()), kernel, stride)
    if best is None:
        return None
    return (
        "errors only at elements that several overlapping windows share (they fit "
        f"kernel {best[1]}, stride {best[2]}); elements in one window are right: "
        "a missing accumulation, the backward assigns (=) where it must add (+=)"
    )
