"""Logistic sigmoid ``y = 1 / (1 + exp(-x))``, element-wise and overflow-free."""

from __future__ import annotations

import numpy as np

from ._spec import Array, LayerSpec


def sigmoid_forward(x: Array) -> Array:
    """Return the logistic sigmoid of ``x`` without overflow for large ``|x|``.

    ``exp`` is only ever taken of ``-|x|``, so it lies in ``(0, 1]``.
    """
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))


def sigmoid_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``: ``grad_output * s * (1 - s)`` with ``s = sigmoid(x)``."""
    s = sigmoid_forward(x)
    return grad_output * s * (1 - s)


SIGMOID = LayerSpec(
    name="sigmoid",
    forward=sigmoid_forward,
    grads={"x": sigmoid_grad_x},
    signature="(n,k)->(n,k)",
    input_names=("x",),
)
