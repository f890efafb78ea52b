"""Softmax followed by cross-entropy against integer class labels, per row.

The target is given as class indices (``labels``, an index input drawn in
``range(k)``), not as a one-hot array: it is never differentiated, and a label
cannot be an invalid probability vector. The output is one loss per row, so the
harness's own loss still decides how rows are weighted.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._spec import Array, LayerSpec
from .log_softmax import log_softmax_forward
from .softmax import softmax_forward


def softmax_cross_entropy_forward(logits: Array, labels: NDArray[np.integer]) -> Array:
    """Return ``-log softmax(logits)[row, labels[row]]`` for each row.

    Parameters
    ----------
    logits : ndarray, shape (n, k)
    labels : integer ndarray, shape (n,), values in ``range(k)``

    Returns
    -------
    ndarray, shape (n,)
    """
    log_probs = log_softmax_forward(logits)
    return -np.take_along_axis(log_probs, labels[:, None], axis=-1)[:, 0]


def softmax_cross_entropy_grad_logits(
    logits: Array, labels: NDArray[np.integer], grad_output: Array
) -> Array:
    """Gradient w.r.t. ``logits``: ``(softmax - onehot(labels)) * g[:, None]``."""
    delta = softmax_forward(logits)
    rows = np.arange(len(labels))
    delta[rows, labels] -= 1
    return delta * grad_output[:, None]


SOFTMAX_CROSS_ENTROPY = LayerSpec(
    name="softmax_cross_entropy",
    forward=softmax_cross_entropy_forward,
    grads={"logits": softmax_cross_entropy_grad_logits},
    signature="(n,k),(n)->(n)",
    input_names=("logits", "labels"),
    index_inputs={"labels": "k"},
)
