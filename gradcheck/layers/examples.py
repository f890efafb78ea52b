"""Small generic inputs for every reference layer, away from kinks and ties.

"Generic" means: every core dimension is at least 2, sizes differ wherever an
equal pair could hide a transpose, values are random, and non-smooth layers get
values at least 0.1 from any kink or tie. Embedding indices repeat, so a
missing accumulation shows. These are the fixed points the
self-tests use; hypothesis draws its own shapes from each spec's signature.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike, NDArray

Inputs = dict[str, NDArray[np.generic]]
_Builder = Callable[[np.random.Generator], Inputs]


def _normal(rng: np.random.Generator, *shape: int) -> NDArray[np.float64]:
    """Draw standard normal values of ``shape``."""
    return rng.standard_normal(shape)


def _off_zero(rng: np.random.Generator, *shape: int) -> NDArray[np.float64]:
    """Random signs times magnitudes in [0.1, 1): at least 0.1 from zero."""
    signs = rng.choice([-1.0, 1.0], size=shape)
    return signs * rng.uniform(0.1, 1.0, size=shape)


def _distinct(rng: np.random.Generator, *shape: int) -> NDArray[np.float64]:
    """Shuffle values spaced 0.1 apart into ``shape``: no two are near a tie."""
    size = int(np.prod(shape))
    values = rng.permutation(size) * 0.1 - size * 0.05
    return values.reshape(shape).astype(np.float64)


def _dense(rng: np.random.Generator) -> Inputs:
    return {
        "x_input": _normal(rng, 3, 4),
        "W": _normal(rng, 4, 5),
        "b": _normal(rng, 5),
    }


def _elementwise(rng: np.random.Generator) -> Inputs:
    return {"x": _normal(rng, 3, 5)}


def _kinked(rng: np.random.Generator) -> Inputs:
    return {"x": _off_zero(rng, 3, 5)}


def _cross_entropy(rng: np.random.Generator) -> Inputs:
    return {"logits": _normal(rng, 4, 5), "labels": rng.integers(0, 5, size=4)}


def _norm(rng: np.random.Generator) -> Inputs:
    gamma = rng.uniform(0.5, 1.5, size=4)
    return {"x": _normal(rng, 6, 4), "gamma": gamma, "beta": _normal(rng, 4)}


def _conv(rng: np.random.Generator) -> Inputs:
    x = _normal(rng, 2, 3, 5, 6)
    return {"x": x, "weight": _normal(rng, 4, 3, 3, 3), "bias": _normal(rng, 4)}


def _maxpool(rng: np.random.Generator) -> Inputs:
    return {"x": _distinct(rng, 2, 3, 7, 9)}


def _avgpool(rng: np.random.Generator) -> Inputs:
    return {"x": _normal(rng, 2, 3, 7, 9)}


def _embedding(rng: np.random.Generator) -> Inputs:
    indices = rng.integers(0, 4, size=7)
    return {"indices": indices, "table": _normal(rng, 4, 3)}


_BUILDERS: dict[str, _Builder] = {
    "dense": _dense,
    "relu": _kinked,
    "leaky_relu": _kinked,
    "sigmoid": _elementwise,
    "tanh": _elementwise,
    "softmax": _elementwise,
    "log_softmax": _elementwise,
    "softmax_cross_entropy": _cross_entropy,
    "batchnorm": _norm,
    "layernorm": _norm,
    "conv2d": _conv,
    "conv2d_strided": _conv,
    "maxpool2x2": _maxpool,
    "maxpool3x3": _maxpool,
    "avgpool2x2": _avgpool,
    "avgpool3x3": _avgpool,
    "embedding": _embedding,
    "dropout": _elementwise,
}


def example_inputs(name: str, seed: int = 0, dtype: DTypeLike = np.float64) -> Inputs:
    """Return fresh generic inputs for the reference layer called ``name``.

    Parameters
    ----------
    name
        A key of ``REFERENCE_LAYERS``.
    seed
        Seed of the generator that draws the values.
    dtype
        Float dtype of the differentiable inputs; index inputs stay integer.

    Returns
    -------
    dict
        ``{input_name: array}``, new arrays on every call.

    Raises
    ------
    KeyError
        If ``name`` is not a reference layer.
    """
    inputs = _BUILDERS[name](np.random.default_rng(seed))
    return {
        key: value.astype(dtype) if value.dtype.kind == "f" else value
        for key, value in inputs.items()
    }
