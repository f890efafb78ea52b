"""Scalar losses built on a layer's output, each with its exact gradient.

A gradient check needs a scalar to differentiate. Both sides of the check use
the same loss: the analytic side feeds ``loss.gradient(y)`` to the layer's
backward as ``grad_output``; the numeric side differentiates
``loss.value(forward(x))``. Random parameters (weights, targets, labels) are
drawn once per check, from the check's random generator, so the loss is a fixed
function during the finite differences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .errors import GradcheckError

FloatArray = NDArray[np.float64]
LossFactory = Callable[[tuple[int, ...], np.random.Generator], "ScalarLoss"]

__all__ = ["BUNDLED_LOSSES", "LossFactory", "ScalarLoss", "make_loss", "user_loss"]


@dataclass(frozen=True)
class ScalarLoss:
    """A scalar function of the layer output and its gradient.

    Attributes
    ----------
    name
        Short identifier shown in reports.
    value
        ``value(y) -> float``.
    gradient
        ``gradient(y) -> ndarray`` shaped like ``y``: the ``grad_output`` handed
        to the backward.
    """

    name: str
    value: Callable[[NDArray[np.generic]], float]
    gradient: Callable[[NDArray[np.generic]], FloatArray]


def _f64(y: NDArray[np.generic]) -> FloatArray:
    return np.asarray(y, dtype=np.float64)


def weighted_sum(shape: tuple[int, ...], rng: np.random.Generator) -> ScalarLoss:
    """``sum(w * y)`` with ``w ~ N(0, 1)``: every output gets its own weight.

    A plain sum is avoided on purpose: it sends an upstream of all ones, which
    hides layers whose outputs sum to a constant (softmax, normalisation).
    """
    weights = rng.standard_normal(shape)
    return ScalarLoss(
        "weighted-sum",
        lambda y: float(np.sum(weights * _f64(y))),
        lambda y: weights.copy(),
    )


def mean_squared_error(shape: tuple[int, ...], rng: np.random.Generator) -> ScalarLoss:
    """``mean((y - t)**2)`` against a random target ``t``."""
    target = rng.standard_normal(shape)
    size = max(1, int(np.prod(shape)))
    return ScalarLoss(
        "mse",
        lambda y: float(np.sum((_f64(y) - target) ** 2) / size),
        lambda y: 2.0 * (_f64(y) - target) / size,
    )


def _as_logit_rows(y: FloatArray) -> FloatArray:
    """Rows of logits: the last axis, or a zero logit beside a single output."""
    rows = y.reshape(-1, y.shape[-1]) if y.ndim else y.reshape(1, 1)
    if rows.shape[1] == 1:
        rows = np.concatenate([rows, np.zeros_like(rows)], axis=1)
    return rows


def _softmax_rows(logits: FloatArray) -> FloatArray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
    return probabilities


def softmax_cross_entropy(
    shape: tuple[int, ...], rng: np.random.Generator
) -> ScalarLoss:
    """Softmax cross-entropy over the last axis, with random class labels.

    A last axis of size one gets a zero logit beside it (a two-class problem),
    so the loss never degenerates to a constant.
    """
    n_rows, n_classes = _as_logit_rows(np.zeros(shape)).shape
    labels = rng.integers(0, n_classes, size=n_rows)
    picked = (np.arange(n_rows), labels)

    def value(y: NDArray[np.generic]) -> float:
        logits = _as_logit_rows(_f64(y))
        top = logits.max(axis=1)
        log_norm = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        return float(np.sum(log_norm - logits[picked]))

    def gradient(y: NDArray[np.generic]) -> FloatArray:
        y64 = _f64(y)
        probabilities = _softmax_rows(_as_logit_rows(y64))
        probabilities[picked] -= 1.0
        return probabilities[:, : max(1, y64.shape[-1] if y64.ndim else 1)].reshape(
            y64.shape
        )

    return ScalarLoss("softmax-cross-entropy", value, gradient)


def log_sum_exp(shape: tuple[int, ...], rng: np.random.Generator) -> ScalarLoss:
    """``log(sum(exp(y)))`` over all outputs, computed without overflow."""

    def value(y: NDArray[np.generic]) -> float:
        y64 = _f64(y)
        top = float(y64.max())
        return top + float(np.log(np.sum(np.exp(y64 - top))))

    def gradient(y: NDArray[np.generic]) -> FloatArray:
        y64 = _f64(y)
        weights = np.exp(y64 - y64.max())
        probabilities: FloatArray = weights / weights.sum()
        return probabilities

    return ScalarLoss("log-sum-exp", value, gradient)


def huber(shape: tuple[int, ...], rng: np.random.Generator) -> ScalarLoss:
    """Huber loss (delta 1) against a random target: smooth to first order."""
    target = rng.standard_normal(shape)

    def value(y: NDArray[np.generic]) -> float:
        residual = np.abs(_f64(y) - target)
        quadratic = np.minimum(residual, 1.0)
        return float(np.sum(0.5 * quadratic**2 + (residual - quadratic)))

    return ScalarLoss("huber", value, lambda y: np.clip(_f64(y) - target, -1.0, 1.0))


def sum_of_cubes(shape: tuple[int, ...], rng: np.random.Generator) -> ScalarLoss:
    """``sum(w * y**3) / 3`` with random weights: a loss with curvature everywhere."""
    weights = rng.standard_normal(shape)
    return ScalarLoss(
        "cubic",
        lambda y: float(np.sum(weights * _f64(y) ** 3) / 3.0),
        lambda y: weights * _f64(y) ** 2,
    )


BUNDLED_LOSSES: Mapping[str, LossFactory] = {
    "weighted-sum": weighted_sum,
    "mse": mean_squared_error,
    "softmax-cross-entropy": softmax_cross_entropy,
    "log-sum-exp": log_sum_exp,
    "huber": huber,
    "cubic": sum_of_cubes,
}


def user_loss(
    value: Callable[[NDArray[np.generic]], object],
    gradient: Callable[[NDArray[np.generic]], object] | None = None,
    name: str = "user",
) -> ScalarLoss:
    """Wrap a user's scalar loss; without ``gradient`` it is taken numerically.

    Parameters
    ----------
    value : callable
        ``value(y) -> scalar``.
    gradient : callable, optional
        ``gradient(y) -> array`` shaped like ``y``. When omitted, the gradient is
        computed by central differences, which costs two loss evaluations per
        output element.
    name : str
        Shown in reports.
    """
    from .numeric import numeric_gradient, scalar_value

    def checked_value(y: NDArray[np.generic]) -> float:
        return scalar_value(value(y), what=f"loss {name!r}")

    def checked_gradient(y: NDArray[np.generic]) -> FloatArray:
        if gradient is None:
            return numeric_gradient(checked_value, y)
        result = np.asarray(gradient(y), dtype=np.float64)
        if result.shape != np.shape(y):
            raise GradcheckError(
                f"the gradient of loss {name!r} has shape {result.shape}, but the "
                f"layer output has shape {np.shape(y)}; return one value per output."
            )
        return result

    return ScalarLoss(name, checked_value, checked_gradient)


def make_loss(
    loss: object, output_shape: tuple[int, ...], rng: np.random.Generator
) -> ScalarLoss:
    """Resolve the ``loss`` argument of a check into a :class:`ScalarLoss`.

    Parameters
    ----------
    loss : None, str, ScalarLoss or callable
        ``None`` for the random-weighted sum, the name of a bundled loss, a
        ready :class:`ScalarLoss` (see :func:`user_loss` to give a gradient), or
        a plain callable ``y -> scalar`` whose gradient is then taken numerically.
    output_shape : tuple of int
        Shape of the layer output.
    rng : numpy.random.Generator
        Source of the loss's random parameters.
    """
    if loss is None:
        return weighted_sum(output_shape, rng)
    if isinstance(loss, ScalarLoss):
        return loss
    if isinstance(loss, str):
        if loss not in BUNDLED_LOSSES:
            names = ", ".join(sorted(BUNDLED_LOSSES))
            raise GradcheckError(f"unknown loss {loss!r}; choose one of: {names}.")
        return BUNDLED_LOSSES[loss](output_shape, rng)
    if callable(loss):
        return user_loss(loss, name=getattr(loss, "__name__", "user"))
    raise GradcheckError(
        f"loss must be None, a loss name, a ScalarLoss or a callable; got {loss!r}."
    )
