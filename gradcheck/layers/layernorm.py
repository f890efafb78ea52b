"""Layer normalisation over the last axis, with per-feature ``gamma`` and ``beta``."""

from __future__ import annotations

import numpy as np

from ._spec import Array, LayerSpec

EPS = 1e-5


def normalise(x: Array) -> tuple[Array, Array]:
    """Return ``x_hat`` (zero mean, unit variance per row) and ``1/std``."""
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    inv_std = 1 / np.sqrt(variance + EPS)
    return centred * inv_std, inv_std


def layernorm_forward(x: Array, gamma: Array, beta: Array) -> Array:
    """Return ``gamma * x_hat + beta`` with per-row statistics (biased variance)."""
    x_hat, _ = normalise(x)
    return gamma * x_hat + beta


def layernorm_grad_x(x: Array, gamma: Array, beta: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``.

    With ``d = g * gamma``: ``(d - mean(d) - x_hat * mean(d * x_hat)) / std``,
    the means taken along each row.
    """
    x_hat, inv_std = normalise(x)
    d = grad_output * gamma
    mean_d = d.mean(axis=-1, keepdims=True)
    mean_dx = (d * x_hat).mean(axis=-1, keepdims=True)
    grad: Array = inv_std * (d - mean_d - x_hat * mean_dx)
    return grad


def layernorm_grad_gamma(
    x: Array, gamma: Array, beta: Array, grad_output: Array
) -> Array:
    """Gradient w.r.t. ``gamma``: ``sum(g * x_hat)`` over rows."""
    x_hat, _ = normalise(x)
    grad: Array = (grad_output * x_hat).sum(axis=0)
    return grad


def layernorm_grad_beta(
    x: Array, gamma: Array, beta: Array, grad_output: Array
) -> Array:
    """Gradient w.r.t. ``beta``: ``grad_output`` summed over rows."""
    grad: Array = grad_output.sum(axis=0)
    return grad


LAYERNORM = LayerSpec(
    name="layernorm",
    forward=layernorm_forward,
    grads={
        "x": layernorm_grad_x,
        "gamma": layernorm_grad_gamma,
        "beta": layernorm_grad_beta,
    },
    signature="(n,k),(k),(k)->(n,k)",
    input_names=("x", "gamma", "beta"),
    min_side={"k": 2},
)
