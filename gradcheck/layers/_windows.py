"""Sliding-window views and their adjoint, shared by convolution and pooling."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._spec import Array


def windows(x: Array, kernel: int, stride: int) -> Array:
    """Read-only view of the ``kernel``×``kernel`` windows of an NCHW array.

    Returns an array of shape ``(n, c, p, q, kernel, kernel)`` where
    ``p = (h - kernel) // stride + 1`` and likewise ``q``.
    """
    view: Array = sliding_window_view(x, (kernel, kernel), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


def fold(
    cols: Array, shape: tuple[int, ...], stride: int, *, accumulate: bool = True
) -> Array:
    """Adjoint of :func:`windows`: add every window's entries back into place.

    ``cols`` has shape ``(n, c, p, q, k, k)``; the result has ``shape`` (NCHW)
    and ``cols``' dtype. Overlapping windows accumulate; with
    ``accumulate=False`` the last window written wins instead, which is the
    classic bug the mutants reproduce.
    """
    out = np.zeros(shape, dtype=cols.dtype)
    p, q, kernel = cols.shape[2], cols.shape[3], cols.shape[4]

    for i in range(kernel):
        for j in range(kernel):
            rows = slice(i, i + stride * (p - 1) + 1, stride)
            columns = slice(j, j + stride * (q - 1) + 1, stride)
            if accumulate:
                out[:, :, rows, columns] += cols[:, :, :, :, i, j]
            else:
                out[:, :, rows, columns] = cols[:, :, :, :, i, j]
    return out


def output_side(side: int, kernel: int, stride: int) -> int:
    """Count the window positions along one axis of length ``side``."""
    return (side - kernel) // stride + 1
