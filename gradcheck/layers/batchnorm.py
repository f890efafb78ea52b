"""Batch normalisation in training mode, over axis 0, without running statistics."""

from __future__ import annotations

import numpy as np

from ._spec import Array, LayerSpec

EPS = 1e-5


def normalise(x: Array) -> tuple[Array, Array]:
    """Return ``x_hat`` (zero mean, unit variance per column) and ``1/std``."""
    centred = x - x.mean(axis=0)
    inv_std = 1 / np.sqrt((centred * centred).mean(axis=0) + EPS)
    return centred * inv_std, inv_std


def batchnorm_forward(x: Array, gamma: Array, beta: Array) -> Array:
    """Return ``gamma * x_hat + beta`` with batch statistics (biased variance)."""
    x_hat, _ = normalise(x)
    return gamma * x_hat + beta


def batchnorm_grad_x(x: Array, gamma: Array, beta: Array, grad_output: Array) -> Array:
    """Gradient w.r.t. ``x``.

    ``gamma / std * (g - mean(g) - x_hat * mean(g * x_hat))``, the means taken
    over the batch: the last two terms come from the batch mean and variance
    depending on every row.
    """
    x_hat, inv_std = normalise(x)
    mean_g = grad_output.mean(axis=0)
    mean_gx = (grad_output * x_hat).mean(axis=0)
    grad: Array = gamma * inv_std * (grad_output - mean_g - x_hat * mean_gx)
    return grad


def batchnorm_grad_gamma(
    x: Array, gamma: Array, beta: Array, grad_output: Array
) -> Array:
    """Gradient w.r.t. ``gamma``: ``sum(g * x_hat)`` over the batch."""
    x_hat, _ = normalise(x)
    grad: Array = (grad_output * x_hat).sum(axis=0)
    return grad


def batchnorm_grad_beta(
    x: Array, gamma: Array, beta: Array, grad_output: Array
) -> Array:
    """Gradient w.r.t. ``beta``: ``grad_output`` summed over the batch."""
    grad: Array = grad_output.sum(axis=0)
    return grad


BATCHNORM = LayerSpec(
    name="batchnorm",
    forward=batchnorm_forward,
    grads={
        "x": batchnorm_grad_x,
        "gamma": batchnorm_grad_gamma,
        "beta": batchnorm_grad_beta,
    },
    signature="(n,k),(k),(k)->(n,k)",
    input_names=("x", "gamma", "beta"),
    min_side={"n": 2},
)
