"""Difference quotients of a layer's output, one element or one colour at a time.

Note [output differences contracted with grad_output]
-----------------------------------------------------
The estimates here differentiate the layer output ``y`` and contract the
change with ``G = dL/dy`` at the check point: for a perturbation ``d``,
``(G . (y(x + h d) - y(x - h d))) / 2h`` tends to ``G . J d``, the directional
derivative of the loss. Subtracting outputs before contracting avoids the
cancellation of two large loss values, and it lets one evaluation serve many
rows at once (colouring). The loss's own curvature drops out; ``G`` is the
loss gradient the analytic side also receives, so both sides check the same
vector-Jacobian product of the layer.

Note [coloured differences]
---------------------------
When output row ``r`` depends only on input row ``r`` (dense, activations,
layer norm; not batch norm), perturbing one column of *every* row at once and
reading the per-row contraction gives a whole column of the gradient from one
pair of evaluations: ``2 * n_in`` evaluations instead of ``2 * n * n_in`` (the
Curtis-Powell-Reid grouping of structurally orthogonal columns). It is used
only after :func:`rows_independent` has seen, numerically, that perturbing
some rows leaves the other rows' outputs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._batched import InputMap
from ._calls import UserCodeError
from .numeric import ROUNDING_SAFETY, FloatArray

__all__ = ["Plan", "difference_quotients", "rows_independent"]

# Rows left alone may change by this many units of the output's scale.
ROW_AGREEMENT_ULPS = 64.0


@dataclass(frozen=True)
class Plan:
    """Which elements move together: one per evaluation, or a column of all rows."""

    shape: tuple[int, ...]
    coloured: bool

    @property
    def count(self) -> int:
        """Number of perturbations (elements, or colours)."""
        size = int(np.prod(self.shape))
        return size // self.shape[0] if self.coloured else size

    def _grid(self, array: NDArray[Any]) -> NDArray[Any]:
        """``array`` seen as (rows, colours) or (1, elements)."""
        return (
            array.reshape(self.shape[0], -1) if self.coloured else array.reshape(1, -1)
        )

    def perturbed(
        self,
        x0: FloatArray,
        steps: FloatArray,
        indices: NDArray[np.intp],
        offsets: tuple[complex, ...],
    ) -> NDArray[Any]:
        """Copies of ``x0``; in block ``j``, copy ``k`` moves by ``offsets[j] * h``.

        The copy moves at ``indices[k]`` (an element, or a colour of every row).
        One allocation holds all blocks, so they go to the forward in one call.
        """
        dtype = np.complex128 if any(isinstance(o, complex) for o in offsets) else None
        count = len(indices)
        grid = self._grid(x0)
        stack = np.empty((len(offsets) * count, *grid.shape), dtype=dtype or x0.dtype)
        stack[...] = grid
        moves = self._grid(steps)[:, indices].T
        for block, offset in enumerate(offsets):
            rows = np.arange(block * count, (block + 1) * count)
            stack[rows, :, indices] += offset * moves
        return stack.reshape(len(stack), *self.shape)

    def contract(self, outputs: NDArray[Any], weights: FloatArray) -> NDArray[Any]:
        """Per-row (coloured) or whole (element) contraction with ``weights``."""
        count = len(outputs)
        if self.coloured:
            rows = self.shape[0]
            per_row: NDArray[Any] = np.einsum(
                "krj,rj->kr",
                outputs.reshape(count, rows, -1),
                weights.reshape(rows, -1),
            )
            return per_row.T
        return (outputs.reshape(count, -1) @ weights.reshape(-1))[None, :]

    def place(
        self, target: FloatArray, indices: NDArray[np.intp], values: FloatArray
    ) -> None:
        """Write ``values`` (rows x len(indices)) into ``target`` at ``indices``."""
        self._grid(target)[:, indices] = values

    def steps_at(self, steps: FloatArray, indices: NDArray[np.intp]) -> FloatArray:
        """The steps of the perturbations ``indices``, shaped like their values."""
        result: FloatArray = self._grid(steps)[:, indices]
        return result


def difference_quotients(
    input_map: InputMap,
    weights: FloatArray,
    steps: FloatArray,
    plan: Plan,
    scheme: str,
    machine_eps: float,
) -> tuple[FloatArray, FloatArray]:
    """Gradient estimate and rounding bound per element of ``input_map.x0``.

    ``scheme`` is ``"central"`` (two real evaluations per perturbation) or
    ``"complex"`` (one evaluation at ``x0 + i h``, see ``gradcheck._precision``).
    """
    gradient = np.empty_like(input_map.x0)
    rounding = np.empty_like(input_map.x0)
    abs_weights = np.abs(weights)
    length = max(1, input_map.chunk_length() // (1 if scheme == "complex" else 2))

    for start in range(0, plan.count, length):
        indices = np.arange(start, min(start + length, plan.count))
        change, size = _output_change(input_map, steps, plan, indices, scheme)
        h = plan.steps_at(steps, indices)
        divisor = h if scheme == "complex" else 2.0 * h
        plan.place(gradient, indices, plan.contract(change, weights) / divisor)
        plan.place(
            rounding,
            indices,
            ROUNDING_SAFETY * machine_eps * plan.contract(size, abs_weights) / h,
        )
    return gradient, rounding


def _output_change(
    input_map: InputMap,
    steps: FloatArray,
    plan: Plan,
    indices: NDArray[np.intp],
    scheme: str,
) -> tuple[FloatArray, FloatArray]:
    """Output change per perturbation, and the output magnitude that rounds."""
    x0 = input_map.x0
    if scheme == "complex":
        outputs = input_map.outputs(plan.perturbed(x0, steps, indices, (1j,)))
        change = np.imag(outputs).astype(np.float64)
        # NOTE: no cancellation here; the imaginary part rounds relative to itself.
        return change, np.abs(change)

    count = len(indices)
    stack = plan.perturbed(x0, steps, indices, (1.0, -1.0))
    outputs = np.asarray(input_map.outputs(stack), dtype=np.float64)
    plus, minus = outputs[:count], outputs[count:]
    return plus - minus, np.maximum(np.abs(plus), np.abs(minus))


def rows_independent(input_map: InputMap, rng: np.random.Generator) -> bool:
    """Whether output row ``r`` depends only on input row ``r`` (numerically).

    Three random sets of rows (one row, a random half, the other half) are
    moved by a random perturbation; every other output row must stay as it
    was, to within rounding, and the output must keep the input's number of
    rows.
    """
    x0, y0 = input_map.x0, input_map.y0
    if x0.ndim == 0 or y0.ndim == 0 or x0.shape[0] < 2 or y0.shape[0] != x0.shape[0]:
        return False
    rows = x0.shape[0]
    order = rng.permutation(rows)
    half = max(1, rows // 2)
    # NOTE: the two halves are complementary, so every row moves in one of
    # them; a row that matters to others only at a point (the maximum of a
    # column) cannot stay unmoved and hide the mixing.
    chosen = [np.array([rng.integers(rows)]), order[:half], order[half:]]
    size = float(np.max(np.abs(y0), initial=0.0))
    for moved in chosen:
        point = x0.copy()
        scale = np.maximum(1.0, np.abs(point[moved]))
        point[moved] += 1e-2 * scale * rng.standard_normal(point[moved].shape)
        try:
            output = np.asarray(input_map.output(point), dtype=np.float64)
        except UserCodeError:
            return False
        if output.shape != y0.shape:
            return False
        still = np.ones(rows, dtype=bool)
        still[moved] = False
        gap = float(np.max(np.abs(output[still] - y0[still]), initial=0.0))
        if not gap <= ROW_AGREEMENT_ULPS * np.finfo(np.float64).eps * size:
            return False
    return True
