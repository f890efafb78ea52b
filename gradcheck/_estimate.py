"""Numeric gradient of a layer's scalar loss w.r.t. one of its inputs.

This is the single place where the check decides *how* the finite differences
are evaluated (one element at a time today); the comparison downstream only
needs the resulting :class:`~gradcheck.numeric.CentralDifference`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .numeric import CentralDifference, FloatArray, central_difference

__all__ = ["estimate_gradient"]


def estimate_gradient(
    loss_of_input: Callable[[FloatArray], float],
    x0: FloatArray,
    numeric_dtype: np.dtype,
) -> CentralDifference:
    """Central differences of ``loss_of_input`` at ``x0``, one element at a time."""
    return central_difference(loss_of_input, x0, dtype=numeric_dtype, what="the loss")
