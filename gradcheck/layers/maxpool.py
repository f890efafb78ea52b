"""Max pooling over square windows of NCHW images: 2×2 stride 2 and 3×3 stride 2.

The 3×3 stride-2 windows overlap (neighbours share a row or column), so the
backward must accumulate. A gufunc signature cannot state the pooled sides
``(side - kernel) // 2 + 1`` and hypothesis refuses output-only dimensions, so
the signatures name only the output's leading ``(n, c)``; ``min_side`` keeps
the image at least as large as one window.

Where a window's maximum is tied, the gradient goes to its first maximum in
row-major order, so every window routes exactly its upstream value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from ._spec import Array, LayerSpec
from ._windows import fold, windows


def pool_max(x: Array, kernel: int, stride: int) -> Array:
    """Maximum of each window: shape (n, c, p, q)."""
    result: Array = windows(x, kernel, stride).max(axis=(-2, -1))
    return result


def pool_max_grad_x(x: Array, grad_output: Array, kernel: int, stride: int) -> Array:
    """Send each window's upstream value to the window's (first) maximum."""
    cols = windows(x, kernel, stride)
    flat = cols.reshape(*cols.shape[:4], kernel * kernel)
    winner = flat.argmax(axis=-1)[..., None]

    routed = np.zeros(flat.shape, dtype=grad_output.dtype)
    np.put_along_axis(routed, winner, grad_output[..., None], axis=-1)
    return fold(routed.reshape(cols.shape), x.shape, stride)


def pool_max_nonsmooth(
    x: Array, margin: float, kernel: int, stride: int
) -> NDArray[np.bool_]:
    """Elements within ``margin`` of their window's maximum, in windows with a tie.

    A window is tied when at least two of its elements lie within ``margin`` of
    its maximum; moving any of those by ``margin`` may change the winner.
    """
    cols = windows(x, kernel, stride)
    top = cols.max(axis=(-2, -1), keepdims=True)
    contender = cols >= top - margin
    tied = contender.sum(axis=(-2, -1), keepdims=True) >= 2

    touched = fold((contender & tied).astype(np.float64), x.shape, stride)
    flagged: NDArray[np.bool_] = touched > 0
    return flagged


def window_routing_sums(grad_input: Array, kernel: int, stride: int) -> Array:
    """Sum of ``grad_input`` over each pooling window, shape (n, c, p, q).

    For a correct max-pool backward this equals ``grad_output`` exactly, ties or
    not: each window routes its upstream value and nothing else.

    Raises
    ------
    ValueError
        If windows overlap (``stride < kernel``): an element shared by two
        windows then carries both routes, and the per-window sums mean nothing.
    """
    if stride < kernel:
        msg = f"windows overlap (kernel {kernel} > stride {stride}); no invariant"
        raise ValueError(msg)
    result: Array = windows(grad_input, kernel, stride).sum(axis=(-2, -1))
    return result


def maxpool2x2_forward(x: Array) -> Array:
    """2×2 max pooling, stride 2: output (n, c, h // 2, w // 2)."""
    return pool_max(x, 2, 2)


def maxpool2x2_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient of :func:`maxpool2x2_forward` w.r.t. ``x``."""
    return pool_max_grad_x(x, grad_output, 2, 2)


def maxpool2x2_nonsmooth(
    inputs: Mapping[str, Array], margin: float
) -> dict[str, NDArray[np.bool_]]:
    """Mark elements of ``x`` in a 2×2 window tied within ``margin``."""
    return {"x": pool_max_nonsmooth(inputs["x"], margin, 2, 2)}


def maxpool3x3_forward(x: Array) -> Array:
    """3×3 max pooling, stride 2 (overlapping): output side ``(side - 1) // 2``."""
    return pool_max(x, 3, 2)


def maxpool3x3_grad_x(x: Array, grad_output: Array) -> Array:
    """Gradient of :func:`maxpool3x3_forward` w.r.t. ``x``."""
    return pool_max_grad_x(x, grad_output, 3, 2)


def maxpool3x3_nonsmooth(
    inputs: Mapping[str, Array], margin: float
) -> dict[str, NDArray[np.bool_]]:
    """Mark elements of ``x`` in a 3×3 window tied within ``margin``."""
    return {"x": pool_max_nonsmooth(inputs["x"], margin, 3, 2)}


MAXPOOL_2X2 = LayerSpec(
    name="maxpool2x2",
    forward=maxpool2x2_forward,
    grads={"x": maxpool2x2_grad_x},
    signature="(n,c,h,w)->(n,c)",
    input_names=("x",),
    min_side={"h": 2, "w": 2},
    nonsmooth=maxpool2x2_nonsmooth,
)

MAXPOOL_3X3 = LayerSpec(
    name="maxpool3x3",
    forward=maxpool3x3_forward,
    grads={"x": maxpool3x3_grad_x},
    signature="(n,c,h,w)->(n,c)",
    input_names=("x",),
    min_side={"h": 3, "w": 3},
    nonsmooth=maxpool3x3_nonsmooth,
)
