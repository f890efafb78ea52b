"""Reference layers with correct backward passes, in the canonical form."""

from __future__ import annotations

from ._spec import LayerSpec, Mutant
from .avgpool import (
    AVGPOOL_2X2,
    AVGPOOL_3X3,
    avgpool2x2_forward,
    avgpool2x2_grad_x,
    avgpool3x3_forward,
    avgpool3x3_grad_x,
)
from .batchnorm import (
    BATCHNORM,
    batchnorm_forward,
    batchnorm_grad_beta,
    batchnorm_grad_gamma,
    batchnorm_grad_x,
)
from .conv2d import (
    CONV2D,
    CONV2D_STRIDED,
    conv2d_forward,
    conv2d_grad_bias,
    conv2d_grad_weight,
    conv2d_grad_x,
    conv2d_strided_forward,
    conv2d_strided_grad_weight,
    conv2d_strided_grad_x,
)
from .dense import DENSE, dense_forward, dense_grad_b, dense_grad_input, dense_grad_W
from .dropout import DROPOUT, dropout_forward, dropout_grad_x
from .embedding import EMBEDDING, embedding_forward, embedding_grad_table
from .examples import example_inputs
from .layernorm import (
    LAYERNORM,
    layernorm_forward,
    layernorm_grad_beta,
    layernorm_grad_gamma,
    layernorm_grad_x,
)
from .leaky_relu import LEAKY_RELU, leaky_relu_forward, leaky_relu_grad_x
from .log_softmax import LOG_SOFTMAX, log_softmax_forward, log_softmax_grad_x
from .maxpool import (
    MAXPOOL_2X2,
    MAXPOOL_3X3,
    maxpool2x2_forward,
    maxpool2x2_grad_x,
    maxpool3x3_forward,
    maxpool3x3_grad_x,
    window_routing_sums,
)
from .relu import RELU, relu_forward, relu_grad_x
from .sigmoid import SIGMOID, sigmoid_forward, sigmoid_grad_x
from .softmax import SOFTMAX, softmax_forward, softmax_grad_x
from .softmax_cross_entropy import (
    SOFTMAX_CROSS_ENTROPY,
    softmax_cross_entropy_forward,
    softmax_cross_entropy_grad_logits,
)
from .tanh import TANH, tanh_forward, tanh_grad_x

REFERENCE_LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        DENSE,
        RELU,
        LEAKY_RELU,
        SIGMOID,
        TANH,
        SOFTMAX,
        LOG_SOFTMAX,
        SOFTMAX_CROSS_ENTROPY,
        BATCHNORM,
        LAYERNORM,
        CONV2D,
        CONV2D_STRIDED,
        MAXPOOL_2X2,
        MAXPOOL_3X3,
        AVGPOOL_2X2,
        AVGPOOL_3X3,
        EMBEDDING,
        DROPOUT,
    )
}

__all__ = [
    "REFERENCE_LAYERS",
    "LayerSpec",
    "Mutant",
    "avgpool2x2_forward",
    "avgpool2x2_grad_x",
    "avgpool3x3_forward",
    "avgpool3x3_grad_x",
    "batchnorm_forward",
    "batchnorm_grad_beta",
    "batchnorm_grad_gamma",
    "batchnorm_grad_x",
    "conv2d_forward",
    "conv2d_grad_bias",
    "conv2d_grad_weight",
    "conv2d_grad_x",
    "conv2d_strided_forward",
    "conv2d_strided_grad_weight",
    "conv2d_strided_grad_x",
    "dense_forward",
    "dense_grad_W",
    "dense_grad_b",
    "dense_grad_input",
    "dropout_forward",
    "dropout_grad_x",
    "embedding_forward",
    "embedding_grad_table",
    "example_inputs",
    "layernorm_forward",
    "layernorm_grad_beta",
    "layernorm_grad_gamma",
    "layernorm_grad_x",
    "leaky_relu_forward",
    "leaky_relu_grad_x",
    "log_softmax_forward",
    "log_softmax_grad_x",
    "maxpool2x2_forward",
    "maxpool2x2_grad_x",
    "maxpool3x3_forward",
    "maxpool3x3_grad_x",
    "relu_forward",
    "relu_grad_x",
    "sigmoid_forward",
    "sigmoid_grad_x",
    "softmax_cross_entropy_forward",
    "softmax_cross_entropy_grad_logits",
    "softmax_forward",
    "softmax_grad_x",
    "tanh_forward",
    "tanh_grad_x",
    "window_routing_sums",
]
