"""Inverted dropout with a fixed mask, so the forward is a deterministic function.

The mask is drawn from ``np.random.default_rng(SEED)`` on every call, so it
depends only on the input's shape: the forward and the backward see the same
mask, and finite differences see a smooth linear map.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._spec import Array, LayerSpec

RATE = 0.5
SEED = 20240601


def dropout_mask(shape: tuple[int, ...]) -> NDArray[np.bool_]:
    """Return the kept elements (``True``) for an input of ``shape``."""
    return np.random.default_rng(SEED).random(shape) >= RATE


def dropout_forward(x: Array) -> Array:
    """Zero the dropped elements and scale the kept ones by ``1 / (1 - RATE)``."""
    return np.where(dropout_mask(x.shape), x / (1 - RATE), 0)


def dropout_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``: ``grad_output`` through the same mask and scale."""
    return np.where(dropout_mask(x.shape), grad_output / (1 - RATE), 0)


DROPOUT = LayerSpec(
    name="dropout",
    forward=dropout_forward,
    grads={"x": dropout_grad_x},
    signature="(n,k)->(n,k)",
    input_names=("x",),
)
