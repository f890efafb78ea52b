"""Leaky ReLU ``y = x if x > 0 else SLOPE * x``, element-wise."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from ._spec import Array, LayerSpec

SLOPE = 0.01


def leaky_relu_forward(x: Array) -> Array:
    """Return ``x`` where positive, ``SLOPE * x`` elsewhere."""
    return np.where(x > 0, x, SLOPE * x)


def leaky_relu_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``: ``grad_output`` times 1 or ``SLOPE`` by sign of ``x``."""
    return np.where(x > 0, grad_output, SLOPE * grad_output)


def leaky_relu_nonsmooth(
    inputs: Mapping[str, Array], margin: float
) -> dict[str, NDArray[np.bool_]]:
    """Mark the elements of ``x`` closer than ``margin`` to the kink at 0."""
    return {"x": np.abs(inputs["x"]) < margin}


LEAKY_RELU = LayerSpec(
    name="leaky_relu",
    forward=leaky_relu_forward,
    grads={"x": leaky_relu_grad_x},
    signature="(n,k)->(n,k)",
    input_names=("x",),
    nonsmooth=leaky_relu_nonsmooth,
)
