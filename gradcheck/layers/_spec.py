"""The record that describes a reference layer to the rest of gradcheck."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Forward = Callable[..., Array]
GradFn = Callable[..., Array]
NonSmoothMask = Callable[[Mapping[str, Array], float], Mapping[str, NDArray[np.bool_]]]


@dataclass(frozen=True)
class LayerSpec:
    """A layer in the canonical form: a forward and one gradient per input.

    Parameters
    ----------
    name
        Short identifier, e.g. ``"dense"``.
    forward
        Called as ``forward(**inputs)``; returns the output array.
    grads
        ``{input_name: fn}``; ``fn(**inputs, grad_output=G)`` returns the gradient
        of the loss with respect to ``inputs[input_name]``.
    signature
        NumPy generalized-ufunc signature of the forward, its inputs in the order
        of ``input_names``, e.g. ``"(n,i),(i,o),(o)->(n,o)"``.
    input_names
        Names of the forward's arguments, in signature order.
    index_inputs
        Integer inputs (such as embedding indices): ``{input_name: dim_name}``;
        values are drawn in ``range(size of dim_name)``. They are never
        differentiated.
    min_side
        Smallest size of each named core dimension (e.g. a convolution needs an
        image at least as large as its kernel).
    nonsmooth
        ``nonsmooth(inputs, margin)`` returns, per differentiable input, a boolean
        mask of elements within ``margin`` (absolute) of a kink or a tie, where the
        derivative does not exist. ``None`` for a smooth layer.
    """

    name: str
    forward: Forward
    grads: Mapping[str, GradFn]
    signature: str
    input_names: tuple[str, ...]
    index_inputs: Mapping[str, str] = field(default_factory=dict)
    min_side: Mapping[str, int] = field(default_factory=dict)
    nonsmooth: NonSmoothMask | None = None


@dataclass(frozen=True)
class Mutant:
    """A known-wrong backward of a reference layer, used to prove checks fail.

    Parameters
    ----------
    layer
        Name of the reference layer it corrupts.
    name
        Short identifier of the bug, e.g. ``"scaled-x2"``.
    description
        One sentence saying what is wrong.
    grads
        Replacement gradient functions; inputs not named keep the reference
        gradient.
    """

    layer: str
    name: str
    description: str
    grads: Mapping[str, GradFn]
