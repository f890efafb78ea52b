"""Rectified linear unit ``y = max(x, 0)``, element-wise."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from ._spec import Array, LayerSpec


def relu_forward(x: Array) -> Array:
    """Return ``max(x, 0)`` element-wise, in ``x``'s dtype."""
    return np.maximum(x, 0)


def relu_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``: ``grad_output`` where ``x > 0``, else 0.

    At ``x == 0`` the derivative does not exist; 0 is returned there.
    """
    return np.where(x > 0, grad_output, 0)


def relu_nonsmooth(
    inputs: Mapping[str, Array], margin: float
) -> dict[str, NDArray[np.bool_]]:
    """Mark the elements of ``x`` closer than ``margin`` to the kink at 0."""
    return {"x": np.abs(inputs["x"]) < margin}


RELU = LayerSpec(
    name="relu",
    forward=relu_forward,
    grads={"x": relu_grad_x},
    signature="(n,k)->(n,k)",
    input_names=("x",),
    nonsmooth=relu_nonsmooth,
)
