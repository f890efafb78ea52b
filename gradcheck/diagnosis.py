"""Name the likely bug behind a gradient mismatch from the numbers alone."""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

__all__ = ["diagnose"]

# Ratios within this relative spread count as "constant".
_RATIO_SPREAD = 1e-3
# A numeric gradient below this fraction of the analytic one counts as zero.
_FLAT = 1e-6


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
    for detect in (_zero, _flat_loss, _constant_ratio, _permuted):
        hint = detect(analytic, numeric, rtol)
        if hint:
            hints.append(hint)
            break
    if not hints and mask is not None:
        hint = _shared_by_windows(mask) or _isolated(analytic, numeric, mask)
        if hint:
            hints.append(hint)
    return hints


def _zero(analytic: FloatArray, numeric: FloatArray, rtol: float) -> str | None:
    if np.all(analytic == 0) and np.any(numeric != 0):
        return "the analytic gradient is all zeros: a term is missing or never written"
    return None


def _flat_loss(analytic: FloatArray, numeric: FloatArray, rtol: float) -> str | None:
    """The loss does not move with the input, but the analytic gradient is not 0."""
    largest = float(np.abs(analytic).max())
    flat = float(np.abs(numeric).max())
    if largest == 0 or flat > _FLAT * largest:
        return None
    return (
        f"the numeric gradient is essentially zero (largest {flat:.3g}, against "
        f"{largest:.3g} analytic): the loss does not change with this input here, "
        "so the analytic gradient should vanish too, as for a zero-mean layer "
        "under a sum loss"
    )


def _constant_ratio(
    analytic: FloatArray, numeric: FloatArray, rtol: float
) -> str | None:
    significant = np.abs(numeric) > 1e-3 * np.abs(numeric).max()
    if significant.sum() < 2:
        return None
    ratios = analytic[significant] / numeric[significant]
    centre = float(np.median(ratios))
    spread = max(_RATIO_SPREAD, rtol)
    if centre == 0 or np.max(np.abs(ratios / centre - 1)) > spread:
        return None
    if abs(centre - 1) <= rtol:
        return None  # the typical element agrees; the mismatches are outliers
    if abs(centre + 1) < 1e-6:
        return "sign flip: analytic = -numeric everywhere"
    return (
        f"constant ratio: {_ratio_text(centre)}: a missing or extra scale "
        "factor, such as a batch or time mean, or a factor of 2"
    )


def _ratio_text(ratio: float) -> str:
    """``analytic = 0.2 × numeric (1/5)``; the inverse only below magnitude 1."""
    text = f"analytic = {ratio:.6g} × numeric"
    if abs(ratio) < 1:
        text += f" (1/{1.0 / ratio:.6g})"
    return text


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
    """Errors exactly where overlapping windows share elements: ``=`` for ``+=``.

    Tries overlapping windows (kernel 2-5, stride below the kernel) on the
    last one or two axes. A layout fits when the mismatches are exactly its
    shared positions: assigning instead of adding is wrong at every element
    that two windows write, and right at every other. That pattern is only
    evidence with enough elements behind it, so at least two mismatches are
    required, and three on a single axis, where the shared positions of
    stride 1 are just the interior.
    """
    plane = mask.reshape(-1, *mask.shape[-2:]).any(axis=0) if mask.ndim >= 2 else mask
    needed = 2 if plane.ndim >= 2 else 3
    if int(mask.sum()) < 2 or int(plane.sum()) < needed or plane.all():
        return None
    for kernel in range(2, 6):
        for stride in range(1, kernel):
            shared = _shared_positions(plane.shape, kernel, stride)
            if shared is not None and np.array_equal(shared, plane):
                return (
                    "errors exactly at the elements that several overlapping "
                    f"windows share (they fit kernel {kernel}, stride {stride}); "
                    "elements in one window are right: a missing accumulation, "
                    "the backward assigns (=) where it must add (+=)"
                )
    return None


def _shared_positions(
    shape: tuple[int, ...], kernel: int, stride: int
) -> NDArray[np.bool_] | None:
    """Where two or more windows overlap, or None if no window fits an axis."""
    counts = [_coverage(n, kernel, stride) for n in shape]
    if any(c.max() == 0 for c in counts):
        return None
    multiplicity = functools.reduce(np.multiply, np.ix_(*counts))
    shared: NDArray[np.bool_] = multiplicity >= 2
    return shared


def _isolated(
    analytic: FloatArray, numeric: FloatArray, mask: NDArray[np.bool_]
) -> str | None:
    """Name the element when a single one is wrong and every other agrees."""
    if int(mask.sum()) != 1 or mask.size < 2:
        return None
    index = tuple(int(i) for i in np.argwhere(mask)[0])
    return (
        f"only element {index} is wrong (analytic {analytic[index]:.6g}, numeric "
        f"{numeric[index]:.6g}); the other {mask.size - 1} agree"
    )
