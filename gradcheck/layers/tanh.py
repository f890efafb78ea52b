"""Hyperbolic tangent, element-wise."""

from __future__ import annotations

import numpy as np

from ._spec import Array, LayerSpec


def tanh_forward(x: Array) -> Array:
    """Return ``tanh(x)`` element-wise."""
    return np.tanh(x)


def tanh_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``: ``grad_output * (1 - tanh(x)**2)``."""
    t = np.tanh(x)
    grad: Array = grad_output * (1 - t * t)
    return grad


TANH = LayerSpec(
    name="tanh",
    forward=tanh_forward,
    grads={"x": tanh_grad_x},
    signature="(n,k)->(n,k)",
    input_names=("x",),
)
