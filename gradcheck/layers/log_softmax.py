"""Log-softmax over the last axis."""

from __future__ import annotations

import numpy as np

from ._spec import Array, LayerSpec
from .softmax import softmax_forward


def log_softmax_forward(x: Array) -> Array:
    """Return ``x - logsumexp(x)`` along the last axis, shifted for stability."""
    shifted = x - x.max(axis=-1, keepdims=True)
    log_total = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    log_probs: Array = shifted - log_total
    return log_probs


def log_softmax_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``: ``g - softmax(x) * sum(g)`` row by row."""
    total = grad_output.sum(axis=-1, keepdims=True)
    grad: Array = grad_output - softmax_forward(x) * total
    return grad


LOG_SOFTMAX = LayerSpec(
    name="log_softmax",
    forward=log_softmax_forward,
    grads={"x": log_softmax_grad_x},
    signature="(n,k)->(n,k)",
    input_names=("x",),
)
