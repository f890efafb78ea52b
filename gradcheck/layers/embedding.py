"""Embedding lookup ``y = table[indices]``.

``indices`` is an integer index input (drawn in ``range(v)``) and is never
differentiated; only ``table`` has a gradient. An index may repeat, and then
its rows of ``grad_output`` must add up in the table's gradient.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._spec import Array, LayerSpec


def embedding_forward(indices: NDArray[np.integer], table: Array) -> Array:
    """Return the rows ``table[indices]``, shape (n, d) for ``indices`` (n,)."""
    rows: Array = table[indices]
    return rows


def embedding_grad_table(
    indices: NDArray[np.integer], table: Array, grad_output: Array
) -> Array:
    """Gradient w.r.t. ``table``: row ``i`` of ``g`` added to row ``indices[i]``."""
    grad = np.zeros(table.shape, dtype=np.result_type(table, grad_output))
    np.add.at(grad, indices, grad_output)
    return grad


EMBEDDING = LayerSpec(
    name="embedding",
    forward=embedding_forward,
    grads={"table": embedding_grad_table},
    signature="(n),(v,d)->(n,d)",
    input_names=("indices", "table"),
    index_inputs={"indices": "v"},
)
