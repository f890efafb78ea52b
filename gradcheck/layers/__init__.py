"""Reference layers with correct backward passes, in the canonical form."""

from __future__ import annotations

from ._spec import LayerSpec, Mutant
from .dense import DENSE, dense_forward, dense_grad_b, dense_grad_input, dense_grad_W

REFERENCE_LAYERS: dict[str, LayerSpec] = {spec.name: spec for spec in (DENSE,)}

__all__ = [
    "REFERENCE_LAYERS",
    "LayerSpec",
    "Mutant",
    "dense_forward",
    "dense_grad_W",
    "dense_grad_b",
    "dense_grad_input",
]
