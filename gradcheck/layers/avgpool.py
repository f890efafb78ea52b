"""Average pooling over square windows of NCHW images: 2×2 and 3×3, stride 2.

The 3×3 stride-2 windows overlap, so its backward must accumulate. As for max
pooling, the signatures name only the output's leading ``(n, c)``: the pooled
sides ``(side - kernel) // 2 + 1`` cannot be written in a gufunc signature that
hypothesis accepts, and ``min_side`` keeps the image at least one window large.
"""

from __future__ import annotations

import numpy as np

from ._spec import Array, LayerSpec
from ._windows import fold, windows


def pool_mean(x: Array, kernel: int, stride: int) -> Array:
    """Mean of each window: shape (n, c, p, q)."""
    result: Array = windows(x, kernel, stride).mean(axis=(-2, -1))
    return result


def pool_mean_grad_x(x: Array, grad_output: Array, kernel: int, stride: int) -> Array:
    """Spread each window's upstream value evenly over the window."""
    share = grad_output / (kernel * kernel)
    cols = np.broadcast_to(share[..., None, None], (*share.shape, kernel, kernel))
    return fold(cols, x.shape, stride)


def avgpool2x2_forward(x: Array) -> Array:
    """2×2 average pooling, stride 2: output (n, c, h // 2, w // 2)."""
    return pool_mean(x, 2, 2)


def avgpool2x2_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient of :func:`avgpool2x2_forward` w.r.t. ``x``."""
    return pool_mean_grad_x(x, grad_output, 2, 2)


def avgpool3x3_forward(x: Array) -> Array:
    """3×3 average pooling, stride 2 (overlapping): output side ``(side - 1) // 2``."""
    return pool_mean(x, 3, 2)


def avgpool3x3_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient of :func:`avgpool3x3_forward` w.r.t. ``x``."""
    return pool_mean_grad_x(x, grad_output, 3, 2)


AVGPOOL_2X2 = LayerSpec(
    name="avgpool2x2",
    forward=avgpool2x2_forward,
    grads={"x": avgpool2x2_grad_x},
    signature="(n,c,h,w)->(n,c)",
    input_names=("x",),
    min_side={"h": 2, "w": 2},
)

AVGPOOL_3X3 = LayerSpec(
    name="avgpool3x3",
    forward=avgpool3x3_forward,
    grads={"x": avgpool3x3_grad_x},
    signature="(n,c,h,w)->(n,c)",
    input_names=("x",),
    min_side={"h": 3, "w": 3},
)
