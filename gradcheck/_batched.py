"""The layer output as a function of one input, evaluated on stacks of points.

Note [stacked evaluation]
-------------------------
Most numpy layers are written with matmul and element-wise operations, which
broadcast over extra leading axes: ``forward(x=stack)`` with ``stack`` of shape
``(k, *x.shape)`` returns ``k`` outputs in one call. That saves the Python and
dispatch overhead of ``k`` calls, which dominates for small layers. It is used
only after :func:`supports_stack` has compared a stacked call with one-by-one
calls on distinct points; a layer that reduces over axis 0 (batch norm) or
reshapes by its own shape fails that comparison and is evaluated one point at
a time. Stacks are cut into chunks of about ``CHUNK_BYTES``: stacks of hundreds
of megabytes are slower than the loop (page faults, memory handed back to the
system between calls).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._calls import UserCodeError, call_user
from .numeric import FloatArray

__all__ = ["CHUNK_BYTES", "InputMap", "supports_stack"]

CHUNK_BYTES = 1 << 20

# Stacked and one-by-one outputs may differ by this many units of the output's
# scale (a BLAS may pick another kernel for a 3-d operand).
STACK_AGREEMENT_ULPS = 64.0


@dataclass
class InputMap:
    """``x -> forward(**others, name=x)``, the other inputs held fixed.

    Attributes
    ----------
    forward
        The user's forward.
    others
        Private float64 copies of all inputs.
    name
        The input that varies.
    x0
        Its value at the check point (a private float64 copy).
    y0
        The float64 output at ``x0``.
    stacked
        Whether :meth:`outputs` may call the forward once per chunk.
    """

    forward: Callable[..., Any]
    others: Mapping[str, Any]
    name: str
    x0: FloatArray
    y0: FloatArray = field(init=False)
    stacked: bool = False

    def __post_init__(self) -> None:
        self.y0 = np.asarray(self.output(self.x0), dtype=np.float64)

    def output(self, x: NDArray[Any]) -> NDArray[Any]:
        """A copy of the forward's output at ``x`` (real or complex, as returned).

        Copied because a forward may hand back the same buffer on every call.
        """
        arguments = {**self.others, self.name: x}
        return np.array(call_user(self.forward, "the forward", **arguments))

    def chunk_length(self) -> int:
        """How many points one stacked call may hold (1 when not stacked)."""
        if not self.stacked:
            return 1
        per_point = max(self.x0.nbytes, self.y0.nbytes, 1)
        return max(1, CHUNK_BYTES // per_point)

    def outputs(self, stack: NDArray[Any]) -> NDArray[Any]:
        """Outputs at each point of ``stack`` (shape ``(k, *x0.shape)``)."""
        if not self.stacked:
            return np.stack([self.output(point) for point in stack])
        length = self.chunk_length()
        parts = [
            self._stacked_output(stack[start : start + length])
            for start in range(0, len(stack), length)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _stacked_output(self, chunk: NDArray[Any]) -> NDArray[Any]:
        result = self.output(chunk)
        if result.shape != (len(chunk), *self.y0.shape):
            raise UserCodeError(
                f"the forward returned shape {result.shape} for a stack of "
                f"{len(chunk)} inputs; expected {(len(chunk), *self.y0.shape)} "
                "(declare batched=False if it does not broadcast over a stack axis)"
            )
        return result


def supports_stack(input_map: InputMap, rng: np.random.Generator) -> bool:
    """Whether the forward maps a stack of inputs to the stack of their outputs.

    Stacks of two and of three distinct points (the check point and random
    neighbours) are evaluated stacked and one by one; see Note [stacked
    evaluation]. Two lengths, because a forward that indexes its input can
    take a stack whose length happens to equal one of its dimensions (an
    embedding table of three rows looked up at ``[0, 1, 2]``).
    """
    return all(_stack_agrees(input_map, rng, length) for length in (2, 3))


def _stack_agrees(input_map: InputMap, rng: np.random.Generator, length: int) -> bool:
    x0 = input_map.x0
    scale = np.maximum(1.0, np.abs(x0))
    points = np.stack(
        [
            x0,
            *(
                x0 + 1e-2 * scale * rng.standard_normal(x0.shape)
                for _ in range(length - 1)
            ),
        ]
    )
    try:
        single = np.stack([input_map.output(point) for point in points])
        stacked = input_map.output(points)
    except UserCodeError:
        return False
    if stacked.shape != single.shape or single.dtype.kind not in "fc":
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        gap = float(np.max(np.abs(stacked - single), initial=0.0))
        size = float(np.max(np.abs(single), initial=0.0))
    machine_eps = float(np.finfo(single.dtype).eps)
    return bool(np.isfinite(gap) and gap <= STACK_AGREEMENT_ULPS * machine_eps * size)
