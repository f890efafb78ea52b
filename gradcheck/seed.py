"""The seed example: a dense layer's arrays and its expected gradients."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

__all__ = ["SeedExample", "load_seed"]


@dataclass(frozen=True)
class SeedExample:
    """Inputs of the seed's dense layer and the gradients expected from them.

    Attributes
    ----------
    inputs
        ``x_input`` (5, 18), ``W`` (18, 5), ``b`` (5,): the forward's arguments.
    grad_output
        The upstream gradient (5, 5) given with the seed.
    expected
        ``grad_input``, ``grad_W``, ``grad_b`` and ``output``, computed in
        float64 from the inputs.
    """

    inputs: dict[str, NDArray[np.float64]]
    grad_output: NDArray[np.float64]
    expected: dict[str, NDArray[np.float64]]


def load_seed() -> SeedExample:
    """Read the seed's arrays shipped inside the package."""
    text = resources.files("gradcheck").joinpath("data/dense_seed.json").read_text()
    data = json.loads(text)
    arrays = {name: np.array(value) for name, value in data["inputs"].items()}
    grad_output = arrays.pop("grad_output")
    expected = {name: np.array(value) for name, value in data["expected"].items()}
    return SeedExample(arrays, grad_output, expected)
