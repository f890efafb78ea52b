"""Softmax over the last axis."""

from __future__ import annotations

import numpy as np

from ._spec import Array, LayerSpec


def softmax_forward(x: Array) -> Array:
    """Return ``exp(x) / sum(exp(x))`` along the last axis, shifted for stability."""
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    probs: Array = shifted / shifted.sum(axis=-1, keepdims=True)
    return probs


def softmax_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``: ``s * (g - sum(s * g))`` per row, ``s = softmax(x)``."""
    s = softmax_forward(x)
    projected = (s * grad_output).sum(axis=-1, keepdims=True)
    grad: Array = s * (grad_output - projected)
    return grad


SOFTMAX = LayerSpec(
    name="softmax",
    forward=softmax_forward,
    grads={"x": softmax_grad_x},
    signature="(n,k)->(n,k)",
    input_names=("x",),
)
