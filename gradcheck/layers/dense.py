"""Fully connected layer ``y = x_input @ W + b`` with its three gradients."""

from __future__ import annotations

from ._spec import Array, LayerSpec


def dense_forward(x_input: Array, W: Array, b: Array) -> Array:
    """Return ``x_input @ W + b`` for ``x_input`` of shape ``(n_objects, n_in)``."""
    return x_input @ W + b


def dense_grad_input(x_input: Array, grad_output: Array, W: Array, b: Array) -> Array:
    """Gradient of the loss w.r.t. the layer input.

    Parameters
    ----------
    x_input : ndarray, shape (n_objects, n_in)
    grad_output : ndarray, shape (n_objects, n_out)
        Gradient of the loss w.r.t. the layer output.
    W : ndarray, shape (n_in, n_out)
    b : ndarray, shape (n_out,)

    Returns
    -------
    ndarray, shape (n_objects, n_in)
        ``grad_output @ W.T``, whatever the loss: the layer only passes the
        upstream signal back through its weights.
    """
    return grad_output @ W.T


def dense_grad_W(x_input: Array, grad_output: Array, W: Array, b: Array) -> Array:
    """Gradient of the loss w.r.t. ``W``: ``x_input.T @ grad_output``."""
    return x_input.T @ grad_output


def dense_grad_b(x_input: Array, grad_output: Array, W: Array, b: Array) -> Array:
    """Gradient of the loss w.r.t. ``b``: ``grad_output`` summed over objects."""
    grad_b: Array = grad_output.sum(axis=0)
    return grad_b


DENSE = LayerSpec(
    name="dense",
    forward=dense_forward,
    grads={"x_input": dense_grad_input, "W": dense_grad_W, "b": dense_grad_b},
    signature="(n,i),(i,o),(o)->(n,o)",
    input_names=("x_input", "W", "b"),
)
