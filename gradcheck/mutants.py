"""Known-wrong backward passes of the reference layers, to prove that checks fail.

Every mutant is wrong on generic inputs (all core dimensions at least 2, random
values away from kinks, as :func:`gradcheck.layers.examples.example_inputs`
draws them), not only at special points. Two kinds are exceptions by nature and
say so in their description: a missing accumulation only shows where windows
overlap or indices repeat, and the ``scaled-1e-6`` mutants are meant to be
caught in float64 only, since float32 finite differences cannot resolve 1e-6.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .layers import REFERENCE_LAYERS, LayerSpec, Mutant
from .layers._spec import Array, GradFn
from .layers._windows import fold, windows
from .layers.batchnorm import normalise as batch_normalise
from .layers.conv2d import convolve_grad_weight, convolve_grad_x, crop_image, pad_image
from .layers.dropout import RATE, SEED
from .layers.layernorm import normalise as row_normalise
from .layers.sigmoid import sigmoid_forward
from .layers.softmax import softmax_forward

__all__ = ["MUTANTS", "mutants_of"]

TINY = 1e-6


def _scaled(fn: GradFn, factor: float) -> GradFn:
    """Wrap ``fn`` so that its gradient comes out multiplied by ``factor``."""

    def grad(**kwargs: Array) -> Array:
        result: Array = fn(**kwargs) * factor
        return result

    return grad


def _standard(spec: LayerSpec) -> list[Mutant]:
    """Scale ×2 and ×(1+1e-6) on every input, and a sign flip on the first."""
    mutants = []
    for name, fn in spec.grads.items():
        mutants.append(
            Mutant(
                spec.name,
                f"{name}-scaled-x2",
                f"The gradient w.r.t. {name} is twice the true one.",
                {name: _scaled(fn, 2.0)},
            )
        )
        mutants.append(
            Mutant(
                spec.name,
                f"{name}-scaled-1e-6",
                f"The gradient w.r.t. {name} is off by a factor 1 + 1e-6, "
                "which only a float64 check can resolve.",
                {name: _scaled(fn, 1 + TINY)},
            )
        )

    first = next(iter(spec.grads))
    flipped = Mutant(
        spec.name,
        f"{first}-sign-flipped",
        f"The gradient w.r.t. {first} has the wrong sign.",
        {first: _scaled(spec.grads[first], -1.0)},
    )
    return [*mutants, flipped]


# --- dense ------------------------------------------------------------------


def _dense_w_reshaped(x_input: Array, W: Array, b: Array, grad_output: Array) -> Array:
    """Compute ``grad_output.T @ x_input`` (o, i) and reshape it to W's (i, o)."""
    return (grad_output.T @ x_input).reshape(W.shape)


def _dense_b_mean(x_input: Array, W: Array, b: Array, grad_output: Array) -> Array:
    """Average over the batch instead of summing."""
    result: Array = grad_output.mean(axis=0)
    return result


def _dense_x_local(x_input: Array, W: Array, b: Array, grad_output: Array) -> Array:
    """Backpropagate ones instead of ``grad_output``."""
    return np.ones_like(grad_output) @ W.T


DENSE = [
    Mutant(
        "dense",
        "W-transposed",
        "dW is grad_output.T @ x_input, shape (o, i), reshaped into (i, o).",
        {"W": _dense_w_reshaped},
    ),
    Mutant(
        "dense",
        "b-batch-mean",
        "db averages grad_output over the batch instead of summing it.",
        {"b": _dense_b_mean},
    ),
    Mutant(
        "dense",
        "x-upstream-ignored",
        "dx sends ones through W.T instead of grad_output.",
        {"x_input": _dense_x_local},
    ),
]


# --- element-wise activations ---------------------------------------------


def _relu_wrong_mask(x: Array, grad_output: Array) -> Array:
    """Pass the gradient only where ``x > 1``."""
    return np.where(x > 1, grad_output, 0)


def _relu_local(x: Array, grad_output: Array) -> Array:
    """Return the local derivative only."""
    return (x > 0).astype(grad_output.dtype)


def _relu_leaky(x: Array, grad_output: Array) -> Array:
    """Let 1 % of the gradient through negative inputs, as leaky ReLU would."""
    return np.where(x > 0, grad_output, 0.01 * grad_output)


def _leaky_no_slope(x: Array, grad_output: Array) -> Array:
    """Drop the negative slope: plain ReLU backward."""
    return np.where(x > 0, grad_output, 0)


def _leaky_swapped(x: Array, grad_output: Array) -> Array:
    """Apply the slope on the positive side and 1 on the negative side."""
    return np.where(x > 0, 0.01 * grad_output, grad_output)


def _leaky_local(x: Array, grad_output: Array) -> Array:
    """Return the local derivative only."""
    return np.where(x > 0, 1.0, 0.01).astype(grad_output.dtype)


def _sigmoid_on_input(x: Array, grad_output: Array) -> Array:
    """Apply ``s * (1 - s)`` to ``x`` itself instead of to ``sigmoid(x)``."""
    result: Array = grad_output * x * (1 - x)
    return result


def _sigmoid_local(x: Array, grad_output: Array) -> Array:
    """Return the local derivative only."""
    s = sigmoid_forward(x)
    result: Array = s * (1 - s)
    return result


def _sigmoid_half(x: Array, grad_output: Array) -> Array:
    """Forget the ``(1 - s)`` factor."""
    result: Array = grad_output * sigmoid_forward(x)
    return result


def _tanh_on_input(x: Array, grad_output: Array) -> Array:
    """Apply ``1 - t**2`` to ``x`` itself instead of to ``tanh(x)``."""
    result: Array = grad_output * (1 - x * x)
    return result


def _tanh_local(x: Array, grad_output: Array) -> Array:
    """Return the local derivative only."""
    t = np.tanh(x)
    result: Array = 1 - t * t
    return result


def _tanh_unsquared(x: Array, grad_output: Array) -> Array:
    """Use ``1 - tanh(x)`` without squaring."""
    result: Array = grad_output * (1 - np.tanh(x))
    return result


ACTIVATIONS = [
    Mutant(
        "relu",
        "x-wrong-mask",
        "The mask is x > 1 instead of x > 0.",
        {"x": _relu_wrong_mask},
    ),
    Mutant(
        "relu",
        "x-upstream-ignored",
        "Returns the 0/1 mask without multiplying by grad_output.",
        {"x": _relu_local},
    ),
    Mutant(
        "relu",
        "x-leaky",
        "Negative inputs pass 1 % of the gradient.",
        {"x": _relu_leaky},
    ),
    Mutant(
        "leaky_relu",
        "x-slope-dropped",
        "Negative inputs get no gradient (ReLU backward).",
        {"x": _leaky_no_slope},
    ),
    Mutant(
        "leaky_relu",
        "x-slope-swapped",
        "The slope 0.01 is applied to positive inputs, 1 to negative ones.",
        {"x": _leaky_swapped},
    ),
    Mutant(
        "leaky_relu",
        "x-upstream-ignored",
        "Returns the local derivative without multiplying by grad_output.",
        {"x": _leaky_local},
    ),
    Mutant(
        "sigmoid",
        "x-wrong-saved-tensor",
        "Uses x * (1 - x) instead of s * (1 - s) with s = sigmoid(x).",
        {"x": _sigmoid_on_input},
    ),
    Mutant(
        "sigmoid",
        "x-upstream-ignored",
        "Returns s * (1 - s) without multiplying by grad_output.",
        {"x": _sigmoid_local},
    ),
    Mutant(
        "sigmoid",
        "x-missing-factor",
        "Drops the (1 - s) factor of the derivative.",
        {"x": _sigmoid_half},
    ),
    Mutant(
        "tanh",
        "x-wrong-saved-tensor",
        "Uses 1 - x**2 instead of 1 - tanh(x)**2.",
        {"x": _tanh_on_input},
    ),
    Mutant(
        "tanh",
        "x-upstream-ignored",
        "Returns 1 - tanh(x)**2 without multiplying by grad_output.",
        {"x": _tanh_local},
    ),
    Mutant(
        "tanh",
        "x-missing-square",
        "Uses 1 - tanh(x) instead of 1 - tanh(x)**2.",
        {"x": _tanh_unsquared},
    ),
]


# --- softmax family ---------------------------------------------------------


def _softmax_no_projection(x: Array, grad_output: Array) -> Array:
    """Drop the ``- sum(s * g)`` term: only the Jacobian's diagonal part."""
    result: Array = softmax_forward(x) * grad_output
    return result


def _softmax_wrong_axis(x: Array, grad_output: Array) -> Array:
    """Take the ``sum(s * g)`` term over the batch axis instead of the classes."""
    s = softmax_forward(x)
    result: Array = s * (grad_output - (s * grad_output).sum(axis=0))
    return result


def _softmax_local(x: Array, grad_output: Array) -> Array:
    """Return the Jacobian's diagonal ``s * (1 - s)`` only."""
    s = softmax_forward(x)
    result: Array = s * (1 - s)
    return result


def _log_softmax_identity(x: Array, grad_output: Array) -> Array:
    """Pass ``grad_output`` through unchanged."""
    return grad_output.copy()


def _log_softmax_wrong_axis(x: Array, grad_output: Array) -> Array:
    """Sum ``grad_output`` over the batch axis instead of the classes."""
    result: Array = grad_output - softmax_forward(x) * grad_output.sum(axis=0)
    return result


def _log_softmax_on_logs(x: Array, grad_output: Array) -> Array:
    """Use the log-probabilities instead of the probabilities."""
    shifted = x - x.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    result: Array = grad_output - log_probs * grad_output.sum(axis=-1, keepdims=True)
    return result


def _one_hot(labels: NDArray[np.integer], like: Array) -> Array:
    """Return one row per label with a 1 in the label's column."""
    hot = np.zeros_like(like)
    hot[np.arange(len(labels)), labels] = 1
    return hot


def _ce_local(logits: Array, labels: NDArray[np.integer], grad_output: Array) -> Array:
    """Return ``softmax - onehot`` without the per-row upstream factor."""
    probs = softmax_forward(logits)
    result: Array = probs - _one_hot(labels, probs)
    return result


def _ce_no_onehot(
    logits: Array, labels: NDArray[np.integer], grad_output: Array
) -> Array:
    """Forget to subtract the one-hot target."""
    result: Array = softmax_forward(logits) * grad_output[:, None]
    return result


def _ce_batch_mean(
    logits: Array, labels: NDArray[np.integer], grad_output: Array
) -> Array:
    """Divide by the batch size, as if the loss were averaged."""
    probs = softmax_forward(logits)
    delta = probs - _one_hot(labels, probs)
    result: Array = delta * grad_output[:, None] / len(labels)
    return result


SOFTMAXES = [
    Mutant(
        "softmax",
        "x-missing-subtraction",
        "Returns s * g, dropping the - s * sum(s * g) term.",
        {"x": _softmax_no_projection},
    ),
    Mutant(
        "softmax",
        "x-wrong-axis",
        "Sums s * g over the batch axis instead of the class axis.",
        {"x": _softmax_wrong_axis},
    ),
    Mutant(
        "softmax",
        "x-upstream-ignored",
        "Returns the Jacobian diagonal s * (1 - s), ignoring grad_output.",
        {"x": _softmax_local},
    ),
    Mutant(
        "log_softmax",
        "x-missing-term",
        "Returns grad_output unchanged, dropping - softmax * sum(g).",
        {"x": _log_softmax_identity},
    ),
    Mutant(
        "log_softmax",
        "x-wrong-axis",
        "Sums grad_output over the batch axis instead of the class axis.",
        {"x": _log_softmax_wrong_axis},
    ),
    Mutant(
        "log_softmax",
        "x-wrong-saved-tensor",
        "Multiplies sum(g) by the log-probabilities instead of the probabilities.",
        {"x": _log_softmax_on_logs},
    ),
    Mutant(
        "softmax_cross_entropy",
        "logits-upstream-ignored",
        "Returns softmax - onehot without the per-row grad_output factor.",
        {"logits": _ce_local},
    ),
    Mutant(
        "softmax_cross_entropy",
        "logits-missing-onehot",
        "Forgets to subtract the one-hot target from the softmax.",
        {"logits": _ce_no_onehot},
    ),
    Mutant(
        "softmax_cross_entropy",
        "logits-batch-mean",
        "Divides by the batch size though the output is a per-row loss.",
        {"logits": _ce_batch_mean},
    ),
]


# --- normalisation ----------------------------------------------------------


def _bn_no_mean_terms(x: Array, gamma: Array, beta: Array, grad_output: Array) -> Array:
    """Treat the batch mean and variance as constants."""
    _, inv_std = batch_normalise(x)
    result: Array = gamma * inv_std * grad_output
    return result


def _bn_no_variance_term(
    x: Array, gamma: Array, beta: Array, grad_output: Array
) -> Array:
    """Keep the mean term but drop the variance term."""
    _, inv_std = batch_normalise(x)
    result: Array = gamma * inv_std * (grad_output - grad_output.mean(axis=0))
    return result


def _bn_gamma_no_xhat(x: Array, gamma: Array, beta: Array, grad_output: Array) -> Array:
    """Sum ``grad_output`` without weighting it by ``x_hat``."""
    result: Array = grad_output.sum(axis=0)
    return result


def _bn_beta_mean(x: Array, gamma: Array, beta: Array, grad_output: Array) -> Array:
    """Average over the batch instead of summing."""
    result: Array = grad_output.mean(axis=0)
    return result


def _ln_no_mean_term(x: Array, gamma: Array, beta: Array, grad_output: Array) -> Array:
    """Drop the ``- mean(d)`` term of the row-wise projection."""
    x_hat, inv_std = row_normalise(x)
    d = grad_output * gamma
    result: Array = inv_std * (d - x_hat * (d * x_hat).mean(axis=-1, keepdims=True))
    return result


def _ln_no_variance_term(
    x: Array, gamma: Array, beta: Array, grad_output: Array
) -> Array:
    """Drop the ``- x_hat * mean(d * x_hat)`` term."""
    _, inv_std = row_normalise(x)
    d = grad_output * gamma
    result: Array = inv_std * (d - d.mean(axis=-1, keepdims=True))
    return result


def _ln_gamma_on_input(
    x: Array, gamma: Array, beta: Array, grad_output: Array
) -> Array:
    """Weight ``grad_output`` by the raw ``x`` instead of ``x_hat``."""
    result: Array = (grad_output * x).sum(axis=0)
    return result


NORMS = [
    Mutant(
        "batchnorm",
        "x-missing-mean-terms",
        "dx is gamma / std * g, ignoring that mean and variance depend on x.",
        {"x": _bn_no_mean_terms},
    ),
    Mutant(
        "batchnorm",
        "x-missing-variance-term",
        "dx drops the - x_hat * mean(g * x_hat) term from the variance.",
        {"x": _bn_no_variance_term},
    ),
    Mutant(
        "batchnorm",
        "gamma-missing-xhat",
        "dgamma sums grad_output without weighting it by x_hat.",
        {"gamma": _bn_gamma_no_xhat},
    ),
    Mutant(
        "batchnorm",
        "beta-batch-mean",
        "dbeta averages grad_output over the batch instead of summing it.",
        {"beta": _bn_beta_mean},
    ),
    Mutant(
        "layernorm",
        "x-missing-mean-term",
        "dx drops the - mean(g * gamma) term of the row-wise projection.",
        {"x": _ln_no_mean_term},
    ),
    Mutant(
        "layernorm",
        "x-missing-variance-term",
        "dx drops the - x_hat * mean(g * gamma * x_hat) term.",
        {"x": _ln_no_variance_term},
    ),
    Mutant(
        "layernorm",
        "gamma-wrong-saved-tensor",
        "dgamma weights grad_output by x instead of x_hat.",
        {"gamma": _ln_gamma_on_input},
    ),
]


# --- convolution ------------------------------------------------------------


def _conv_flipped(stride: int) -> GradFn:
    """Backward w.r.t. ``x`` with the kernel rotated by 180 degrees."""

    def grad(x: Array, weight: Array, bias: Array, grad_output: Array) -> Array:
        return convolve_grad_x(x, weight[:, :, ::-1, ::-1], grad_output, stride)

    return grad


def _conv_overwrite(stride: int) -> GradFn:
    """Backward w.r.t. ``x`` whose overlapping windows overwrite each other."""

    def grad(x: Array, weight: Array, bias: Array, grad_output: Array) -> Array:
        cols: Array = np.einsum("nfpq,fcij->ncpqij", grad_output, weight)
        padded_shape = pad_image(x).shape
        return crop_image(fold(cols, padded_shape, stride, accumulate=False))

    return grad


def _conv_weight_mean(stride: int) -> GradFn:
    """Backward w.r.t. ``weight`` divided by the batch size."""

    def grad(x: Array, weight: Array, bias: Array, grad_output: Array) -> Array:
        total = convolve_grad_weight(x, weight, grad_output, stride)
        result: Array = total / len(x)
        return result

    return grad


def _conv_weight_swapped(stride: int) -> GradFn:
    """Backward w.r.t. ``weight`` built as (c, f, kh, kw), reshaped to (f, c, ...)."""

    def grad(x: Array, weight: Array, bias: Array, grad_output: Array) -> Array:
        cols = windows(pad_image(x), weight.shape[-1], stride)
        wrong: Array = np.einsum("ncpqij,nfpq->cfij", cols, grad_output)
        return wrong.reshape(weight.shape)

    return grad


def _conv_mutants(layer: str, stride: int) -> list[Mutant]:
    """Build the convolution-specific mutants of one stride."""
    return [
        Mutant(
            layer,
            "x-flipped-kernel",
            "dx correlates with the kernel rotated 180 degrees.",
            {"x": _conv_flipped(stride)},
        ),
        Mutant(
            layer,
            "x-missing-accumulation",
            "dx assigns each window's share instead of adding, so overlaps lose.",
            {"x": _conv_overwrite(stride)},
        ),
        Mutant(
            layer,
            "weight-batch-mean",
            "dweight is divided by the batch size.",
            {"weight": _conv_weight_mean(stride)},
        ),
        Mutant(
            layer,
            "weight-channels-swapped",
            "dweight is computed as (c, f, kh, kw) and reshaped into (f, c, kh, kw).",
            {"weight": _conv_weight_swapped(stride)},
        ),
    ]


# --- pooling ----------------------------------------------------------------


def _route(x: Array, values: Array, kernel: int, stride: int, pick: str) -> Array:
    """Put each window's value on its arg-``pick`` element (``max`` or ``min``)."""
    cols = windows(x, kernel, stride)
    flat = cols.reshape(*cols.shape[:4], kernel * kernel)
    chosen = (flat.argmax if pick == "max" else flat.argmin)(axis=-1)[..., None]

    routed = np.zeros(flat.shape, dtype=values.dtype)
    np.put_along_axis(routed, chosen, values[..., None], axis=-1)
    return fold(routed.reshape(cols.shape), x.shape, stride)


def _spread(values: Array, kernel: int, divisor: float) -> Array:
    """Repeat each window's value over the window, divided by ``divisor``."""
    share = values / divisor
    return np.broadcast_to(share[..., None, None], (*share.shape, kernel, kernel))


def _maxpool_mutants(layer: str, kernel: int, stride: int) -> list[Mutant]:
    """Build the max-pooling-specific mutants of one window geometry."""

    def to_minimum(x: Array, grad_output: Array) -> Array:
        return _route(x, grad_output, kernel, stride, "min")

    def evenly(x: Array, grad_output: Array) -> Array:
        cols = _spread(grad_output, kernel, kernel * kernel)
        return fold(cols, x.shape, stride)

    def local(x: Array, grad_output: Array) -> Array:
        return _route(x, np.ones_like(grad_output), kernel, stride, "max")

    return [
        Mutant(
            layer,
            "x-routes-to-minimum",
            "Each window's gradient goes to its smallest element.",
            {"x": to_minimum},
        ),
        Mutant(
            layer,
            "x-spread-evenly",
            "Each window's gradient is shared evenly, as in average pooling.",
            {"x": evenly},
        ),
        Mutant(
            layer,
            "x-upstream-ignored",
            "Each window's maximum receives 1 instead of the upstream value.",
            {"x": local},
        ),
    ]


def _avgpool_mutants(layer: str, kernel: int, stride: int) -> list[Mutant]:
    """Build the average-pooling-specific mutants of one window geometry."""

    def undivided(x: Array, grad_output: Array) -> Array:
        return fold(_spread(grad_output, kernel, 1), x.shape, stride)

    def by_side(x: Array, grad_output: Array) -> Array:
        return fold(_spread(grad_output, kernel, kernel), x.shape, stride)

    def local(x: Array, grad_output: Array) -> Array:
        ones = np.ones_like(grad_output)
        return fold(_spread(ones, kernel, kernel * kernel), x.shape, stride)

    mutants = [
        Mutant(
            layer,
            "x-missing-division",
            "Every element gets the window's full upstream value.",
            {"x": undivided},
        ),
        Mutant(
            layer,
            "x-divided-by-side",
            f"Divides by the window side {kernel} instead of its area.",
            {"x": by_side},
        ),
        Mutant(
            layer,
            "x-upstream-ignored",
            "Every element gets 1 / area regardless of grad_output.",
            {"x": local},
        ),
    ]
    if stride < kernel:
        mutants.append(_avgpool_overwrite(layer, kernel, stride))
    return mutants


def _avgpool_overwrite(layer: str, kernel: int, stride: int) -> Mutant:
    """Overlapping windows assign their share instead of adding it."""

    def overwrite(x: Array, grad_output: Array) -> Array:
        cols = _spread(grad_output, kernel, kernel * kernel)
        return fold(cols, x.shape, stride, accumulate=False)

    return Mutant(
        layer,
        "x-missing-accumulation",
        "Overlapping windows assign their share instead of adding it.",
        {"x": overwrite},
    )


# --- embedding and dropout ----------------------------------------------------


def _embedding_assign(
    indices: NDArray[np.integer], table: Array, grad_output: Array
) -> Array:
    """Use fancy assignment: a repeated index keeps only its last row."""
    grad = np.zeros(table.shape, dtype=np.result_type(table, grad_output))
    grad[indices] = grad_output
    return grad


def _embedding_counts(
    indices: NDArray[np.integer], table: Array, grad_output: Array
) -> Array:
    """Count each index's uses instead of adding ``grad_output``."""
    grad = np.zeros(table.shape, dtype=np.result_type(table, grad_output))
    np.add.at(grad, indices, 1)
    return grad


def _dropout_unmasked(x: Array, grad_output: Array) -> Array:
    """Scale every element, dropped or not."""
    result: Array = grad_output / (1 - RATE)
    return result


def _dropout_unscaled(x: Array, grad_output: Array) -> Array:
    """Apply the mask but forget the ``1 / (1 - RATE)`` scale."""
    mask = np.random.default_rng(SEED).random(x.shape) >= RATE
    return np.where(mask, grad_output, 0)


def _dropout_other_mask(x: Array, grad_output: Array) -> Array:
    """Draw a fresh mask from another seed instead of reusing the forward's."""
    mask = np.random.default_rng(SEED + 1).random(x.shape) >= RATE
    return np.where(mask, grad_output / (1 - RATE), 0)


OTHERS = [
    Mutant(
        "embedding",
        "table-missing-accumulation",
        "Fancy assignment keeps one row per repeated index instead of their sum "
        "(wrong whenever an index repeats).",
        {"table": _embedding_assign},
    ),
    Mutant(
        "embedding",
        "table-upstream-ignored",
        "Each table entry gets its index's use count instead of grad_output.",
        {"table": _embedding_counts},
    ),
    Mutant(
        "dropout",
        "x-mask-ignored",
        "Every element's gradient is scaled, including the dropped ones.",
        {"x": _dropout_unmasked},
    ),
    Mutant(
        "dropout",
        "x-missing-rescale",
        "Masks the gradient but forgets the 1 / (1 - rate) scale.",
        {"x": _dropout_unscaled},
    ),
    Mutant(
        "dropout",
        "x-other-mask",
        "Draws a new mask from another seed instead of the forward's mask.",
        {"x": _dropout_other_mask},
    ),
]


def _specific() -> list[Mutant]:
    """Collect every layer-specific mutant."""
    return [
        *DENSE,
        *ACTIVATIONS,
        *SOFTMAXES,
        *NORMS,
        *_conv_mutants("conv2d", 1),
        *_conv_mutants("conv2d_strided", 2),
        *_maxpool_mutants("maxpool2x2", 2, 2),
        *_maxpool_mutants("maxpool3x3", 3, 2),
        *_avgpool_mutants("avgpool2x2", 2, 2),
        *_avgpool_mutants("avgpool3x3", 3, 2),
        *OTHERS,
    ]


def _catalogue() -> tuple[Mutant, ...]:
    """List each layer's standard mutants, then its specific ones."""
    specific = _specific()
    mutants: list[Mutant] = []
    for spec in REFERENCE_LAYERS.values():
        mutants.extend(_standard(spec))
        mutants.extend(m for m in specific if m.layer == spec.name)
    return tuple(mutants)


MUTANTS: tuple[Mutant, ...] = _catalogue()


def mutants_of(layer_name: str) -> tuple[Mutant, ...]:
    """Return the mutants of the reference layer called ``layer_name``.

    Parameters
    ----------
    layer_name
        A key of ``gradcheck.layers.REFERENCE_LAYERS``.

    Returns
    -------
    tuple of Mutant
        In catalogue order.

    Raises
    ------
    KeyError
        If ``layer_name`` is not a reference layer, so a typo cannot make a
        self-test loop silently check nothing.
    """
    if layer_name not in REFERENCE_LAYERS:
        known = ", ".join(REFERENCE_LAYERS)
        raise KeyError(f"no reference layer {layer_name!r}; known: {known}")
    return tuple(m for m in MUTANTS if m.layer == layer_name)
