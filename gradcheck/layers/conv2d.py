"""2-D cross-correlation (the deep-learning "convolution"), NCHW, 3×3 kernels.

Two specs share one implementation: ``conv2d`` (stride 1, padding 1, output as
large as the image) and ``conv2d_strided`` (stride 2, padding 1, output side
``(side - 1) // 2 + 1``).

Shapes: the image's ``h`` and ``w`` only need to be ≥ 1 with padding 1; the
strided spec asks for ≥ 3 through ``min_side`` so the stride really skips
pixels. A gufunc signature cannot state ``(side - 1) // 2 + 1`` and hypothesis
refuses dimensions that appear only in the output, so the strided signature
names only the output's leading ``(n, f)``; its spatial sides come from
:func:`conv2d_output_shape` or from calling the forward.
"""

from __future__ import annotations

import numpy as np

from ._spec import Array, LayerSpec
from ._windows import fold, output_side, windows

KERNEL = 3
PADDING = 1


def pad_image(x: Array) -> Array:
    """Zero-pad the two spatial axes of ``x`` by ``PADDING`` on each side."""
    width = ((0, 0), (0, 0), (PADDING, PADDING), (PADDING, PADDING))
    return np.pad(x, width)


def crop_image(x_padded: Array) -> Array:
    """Undo :func:`pad_image`."""
    return x_padded[:, :, PADDING:-PADDING, PADDING:-PADDING]


def conv2d_output_shape(
    x_shape: tuple[int, ...], n_filters: int, stride: int
) -> tuple[int, int, int, int]:
    """Output shape for an input of ``x_shape`` (NCHW)."""
    n, _, h, w = x_shape
    p = output_side(h + 2 * PADDING, KERNEL, stride)
    q = output_side(w + 2 * PADDING, KERNEL, stride)
    return n, n_filters, p, q


def convolve(x: Array, weight: Array, bias: Array, stride: int) -> Array:
    """Cross-correlate ``x`` (n, c, h, w) with ``weight`` (f, c, kh, kw), add bias."""
    cols = windows(pad_image(x), weight.shape[-1], stride)
    out: Array = np.einsum("ncpqij,fcij->nfpq", cols, weight) + bias[:, None, None]
    return out


def convolve_grad_x(x: Array, weight: Array, grad_output: Array, stride: int) -> Array:
    """Gradient w.r.t. ``x``: each output's upstream value spread over its window."""
    cols: Array = np.einsum("nfpq,fcij->ncpqij", grad_output, weight)
    padded_shape = pad_image(x).shape
    return crop_image(fold(cols, padded_shape, stride))


def convolve_grad_weight(
    x: Array, weight: Array, grad_output: Array, stride: int
) -> Array:
    """Gradient w.r.t. ``weight``: windows of ``x`` weighted by ``grad_output``."""
    cols = windows(pad_image(x), weight.shape[-1], stride)
    grad: Array = np.einsum("ncpqij,nfpq->fcij", cols, grad_output)
    return grad


def conv2d_forward(x: Array, weight: Array, bias: Array) -> Array:
    """3×3 convolution, stride 1, padding 1: output (n, f, h, w)."""
    return convolve(x, weight, bias, stride=1)


def conv2d_grad_x(x: Array, weight: Array, bias: Array, grad_output: Array) -> Array:
    """Gradient of :func:`conv2d_forward` w.r.t. ``x``."""
    return convolve_grad_x(x, weight, grad_output, stride=1)


def conv2d_grad_weight(
    x: Array, weight: Array, bias: Array, grad_output: Array
) -> Array:
    """Gradient of :func:`conv2d_forward` w.r.t. ``weight``."""
    return convolve_grad_weight(x, weight, grad_output, stride=1)


def conv2d_grad_bias(x: Array, weight: Array, bias: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``bias``: ``grad_output`` summed over batch and pixels."""
    grad: Array = grad_output.sum(axis=(0, 2, 3))
    return grad


def conv2d_strided_forward(x: Array, weight: Array, bias: Array) -> Array:
    """3×3 convolution, stride 2, padding 1: output (n, f, ⌈h/2⌉, ⌈w/2⌉)."""
    return convolve(x, weight, bias, stride=2)


def conv2d_strided_grad_x(
    x: Array, weight: Array, bias: Array, grad_output: Array
) -> Array:
    """Gradient of :func:`conv2d_strided_forward` w.r.t. ``x``."""
    return convolve_grad_x(x, weight, grad_output, stride=2)


def conv2d_strided_grad_weight(
    x: Array, weight: Array, bias: Array, grad_output: Array
) -> Array:
    """Gradient of :func:`conv2d_strided_forward` w.r.t. ``weight``."""
    return convolve_grad_weight(x, weight, grad_output, stride=2)


CONV2D = LayerSpec(
    name="conv2d",
    forward=conv2d_forward,
    grads={"x": conv2d_grad_x, "weight": conv2d_grad_weight, "bias": conv2d_grad_bias},
    signature="(n,c,h,w),(f,c,3,3),(f)->(n,f,h,w)",
    input_names=("x", "weight", "bias"),
)

CONV2D_STRIDED = LayerSpec(
    name="conv2d_strided",
    forward=conv2d_strided_forward,
    grads={
        "x": conv2d_strided_grad_x,
        "weight": conv2d_strided_grad_weight,
        "bias": conv2d_grad_bias,
    },
    signature="(n,c,h,w),(f,c,3,3),(f)->(n,f)",
    input_names=("x", "weight", "bias"),
    min_side={"h": 3, "w": 3},
)
