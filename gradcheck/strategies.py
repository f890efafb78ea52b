"""Hypothesis strategies for gradient checks: shapes, values, dtypes, losses.

Every strategy here is an ordinary hypothesis strategy, so it composes with a
user's own (``st.one_of``, ``.map``, ``st.data()``, ...). The building blocks:

- :func:`shapes` draws consistent shapes from a NumPy gufunc signature such as
  ``"(n,i),(i,o),(o)->(n,o)"``, drawing size-1 and non-square dimensions often;
- :func:`values` and :func:`arrays` draw negative values, values near zero and
  large magnitudes (up to ``max_magnitude``), in float64 or float32;
- :func:`dtypes` and :func:`losses` draw the dtype and the scalar loss;
- :func:`layer_inputs` and :func:`layer_cases` put it together for a layer,
  optionally keeping every input away from the layer's kinks and ties.

Importing this module imports hypothesis; ``import gradcheck`` does not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import DTypeLike, NDArray

from .errors import GradcheckError
from .losses import BUNDLED_LOSSES

__all__ = [
    "Case",
    "Shapes",
    "arrays",
    "dtypes",
    "kinks_at",
    "layer_cases",
    "layer_inputs",
    "losses",
    "shapes",
    "values",
]

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
Inputs = dict[str, NDArray[Any]]
NonSmoothMask = Callable[[Mapping[str, NDArray[Any]], float], Mapping[str, Any]]

# Kink margin, in default finite-difference steps (cbrt(machine_eps) * scale):
# the step sweep of a check reaches 4 steps, so 8 leaves room on either side.
KINK_MARGIN_STEPS = 8.0
_REPAIR_ROUNDS = 20
_SIGNATURE = re.compile(r"^\s*(\((?:[^()]*)\)(?:\s*,\s*\([^()]*\))*)\s*->\s*(.*)$")


class Shapes(NamedTuple):
    """Shapes drawn from a gufunc signature.

    Attributes
    ----------
    input_shapes : tuple of tuple of int
        One shape per input of the signature, in order.
    result_shape : tuple of int
        The output's shape as far as the signature names it.
    sizes : dict of str to int
        The size given to each named dimension.
    """

    input_shapes: tuple[tuple[int, ...], ...]
    result_shape: tuple[int, ...]
    sizes: dict[str, int]


@dataclass(frozen=True)
class Case:
    """One drawn check: the layer's inputs, the loss and the loss's seed."""

    inputs: Inputs
    loss: Any
    seed: int
    dtype: str = "float64"
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        arrays_text = ", ".join(
            f"{name}={np.array_repr(value, precision=17)}"
            for name, value in self.inputs.items()
        )
        loss = (
            self.loss
            if isinstance(self.loss, str)
            else getattr(self.loss, "name", self.loss)
        )
        return f"Case(loss={loss!r}, seed={self.seed}, inputs=dict({arrays_text}))"


def parse_signature(signature: str) -> tuple[list[list[str]], list[str]]:
    """Split a gufunc signature into per-input dimension names and output names.

    Literal sizes such as ``3`` stay strings of digits.

    Raises
    ------
    GradcheckError
        If the text is not of the form ``(a,b),(b)->(a)``.
    """
    match = _SIGNATURE.match(signature) if isinstance(signature, str) else None
    if match is None:
        raise GradcheckError(
            f"signature {signature!r} is not a gufunc signature; write one group "
            "per input, e.g. '(n,i),(i,o),(o)->(n,o)'."
        )
    groups = re.findall(r"\(([^()]*)\)", match.group(1))
    inputs = [[d.strip() for d in g.split(",") if d.strip()] for g in groups]
    output = [d.strip() for d in match.group(2).strip("() ").split(",") if d.strip()]
    for name in (d for dims in [*inputs, output] for d in dims):
        if not (name.isidentifier() or name.isdigit()):
            raise GradcheckError(
                f"signature {signature!r} has the dimension {name!r}; use names such "
                "as n or n_in, or whole numbers."
            )
    return inputs, output


def _unused(size: int, used: frozenset[int]) -> bool:
    return size not in used


def _side_strategy(low: int, high: int) -> st.SearchStrategy[int]:
    """The smallest allowed size half of the time, any size otherwise."""
    return st.one_of(st.just(low), st.integers(low, max(low, high)))


@st.composite
def _sizes(
    draw: st.DrawFn,
    names: Sequence[str],
    min_side: Mapping[str, int],
    max_side: int,
    fixed: Mapping[str, int],
) -> dict[str, int]:
    """Draw one size per dimension name; half the time all free sizes differ."""
    distinct = draw(st.booleans())
    sizes: dict[str, int] = {}

    for name in names:
        if name.isdigit() or name in fixed:
            sizes[name] = int(name) if name.isdigit() else int(fixed[name])
            continue
        low = max(1, int(min_side.get(name, 1)))
        high = max(low, max_side)
        side = _side_strategy(low, high)
        taken = set(sizes.values())
        if distinct and high - low + 1 > len(taken & set(range(low, high + 1))):
            side = side.filter(functools.partial(_unused, used=frozenset(taken)))
        sizes[name] = draw(side)
    return sizes


def shapes(
    signature: str,
    *,
    min_side: int | Mapping[str, int] = 1,
    max_side: int = 4,
    fixed_sides: Mapping[str, int] | None = None,
) -> st.SearchStrategy[Shapes]:
    """Draw consistent shapes for the inputs of a gufunc signature.

    Parameters
    ----------
    signature : str
        E.g. ``"(n,i),(i,o),(o)->(n,o)"``; whole numbers are fixed sizes. The
        syntax is numpy's (and ``hypothesis.extra.numpy``'s).
    min_side : int or dict of str to int
        Smallest size, for every dimension or per dimension name.
    max_side : int
        Largest size of a free dimension.
    fixed_sides : dict of str to int, optional
        Dimensions whose size is already known (e.g. from a layer's weights).

    Returns
    -------
    SearchStrategy of Shapes
        Half of the draws give each free dimension its smallest size (1 unless
        ``min_side`` says otherwise); half make all free dimensions differ, so
        a transposed gradient cannot hide behind a square matrix. Shrinks
        towards small, equal sizes.
    """
    inputs, output = parse_signature(signature)
    names = list(dict.fromkeys(d for dims in [*inputs, output] for d in dims))
    unknown = [d for d in output if d not in {n for dims in inputs for n in dims}]
    if unknown:
        raise GradcheckError(
            f"signature {signature!r} names output-only dimensions {unknown}; name "
            "only the output dimensions that the inputs determine."
        )
    sides = {n: min_side for n in names} if isinstance(min_side, int) else min_side

    def build(sizes: dict[str, int]) -> Shapes:
        in_shapes = tuple(tuple(sizes[d] for d in dims) for dims in inputs)
        return Shapes(in_shapes, tuple(sizes[d] for d in output), sizes)

    return _sizes(names, sides, max_side, fixed_sides or {}).map(build)


def values(
    dtype: DTypeLike = np.float64, *, max_magnitude: float = 1e3
) -> st.SearchStrategy[float]:
    """Draw floats of three kinds: moderate, near zero and large.

    Parameters
    ----------
    dtype : float64 or float32
        The values are exactly representable in it.
    max_magnitude : float
        Largest absolute value. Lower it for a layer whose forward overflows
        (e.g. an unguarded ``exp``); 1e3 is the default.

    Returns
    -------
    SearchStrategy of float
        Values in ``[-4, 4]``, in ``[-1e-3, 1e-3]`` (zero included), and with
        magnitude in ``[100, max_magnitude]``, both signs; never NaN, inf or
        subnormal. Shrinks towards 0.
    """
    width = 32 if np.dtype(dtype) == np.float32 else 64
    top = float(max_magnitude)
    if not top > 0:
        raise GradcheckError(f"max_magnitude must be positive, got {max_magnitude!r}.")

    def floats(low: float, high: float) -> st.SearchStrategy[float]:
        # NOTE: bounds are rounded inwards so that float32 can represent them.
        kind = np.float32 if width == 32 else np.float64
        low_, high_ = float(kind(low)), float(kind(high))
        low_ = low_ if low_ >= low else float(np.nextafter(kind(low), kind(np.inf)))
        high_ = high_ if high_ <= high else float(np.nextafter(kind(high), kind(0)))
        bits: Literal[32, 64] = 32 if width == 32 else 64
        return st.floats(low_, high_, width=bits, allow_subnormal=False)

    kinds = [floats(-min(4.0, top), min(4.0, top)), floats(-1e-3, 1e-3)]
    if top > 100:
        kinds += [floats(100.0, top), floats(-top, -100.0)]
    return st.one_of(kinds)


def arrays(
    dtype: DTypeLike,
    shape: tuple[int, ...],
    *,
    max_magnitude: float = 1e3,
) -> st.SearchStrategy[NDArray[Any]]:
    """Draw a float array of ``shape`` whose elements come from :func:`values`.

    Equal elements are common (hypothesis fills arrays with a repeated value),
    which is what ties and constant columns look like in practice.
    """
    elements = values(dtype, max_magnitude=max_magnitude)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def dtypes() -> st.SearchStrategy[np.dtype]:
    """Draw float64 or float32 (shrinks towards float64)."""
    return st.sampled_from(FLOAT_DTYPES)


def losses(
    *, names: Sequence[str] | None = None, extra: Sequence[Any] = ()
) -> st.SearchStrategy[Any]:
    """Draw a loss for ``check_layer(..., loss=...)``.

    Parameters
    ----------
    names : sequence of str, optional
        Bundled losses to draw from (default: all of ``BUNDLED_LOSSES``).
    extra : sequence
        Further losses: ``ScalarLoss`` objects, factories or plain callables.

    Returns
    -------
    SearchStrategy
        Names of bundled losses or the given objects; shrinks towards the
        first, the random-weighted sum.
    """
    chosen = list(BUNDLED_LOSSES) if names is None else list(names)
    unknown = [name for name in chosen if name not in BUNDLED_LOSSES]
    if unknown:
        known = ", ".join(BUNDLED_LOSSES)
        raise GradcheckError(f"unknown loss(es) {unknown}; choose among: {known}.")
    options = [*chosen, *extra]
    if not options:
        raise GradcheckError("losses() needs at least one loss to draw from.")
    return st.sampled_from(options)


def kinks_at(*points: float, inputs: Sequence[str] | None = None) -> NonSmoothMask:
    """A non-smoothness mask for element-wise kinks at the given points.

    Parameters
    ----------
    *points : float
        Where the derivative jumps, e.g. ``0.0`` for ReLU or ``-1.0, 1.0`` for a
        hard clip.
    inputs : sequence of str, optional
        Inputs that have the kinks (default: every input given to the mask).

    Returns
    -------
    callable
        ``mask(inputs, margin) -> {name: bool array}``, the form of
        ``LayerSpec.nonsmooth``.
    """
    where = np.asarray(points, dtype=np.float64)

    def mask(arrays: Mapping[str, NDArray[Any]], margin: float) -> dict[str, Any]:
        names = list(arrays) if inputs is None else list(inputs)
        return {
            name: np.any(
                np.abs(np.asarray(arrays[name], np.float64)[..., None] - where)
                < margin,
                axis=-1,
            )
            for name in names
            if name in arrays
        }

    return mask


def kink_margin(inputs: Mapping[str, NDArray[Any]], dtype: DTypeLike) -> float:
    """How far from a kink or tie an input must stay, for a check in ``dtype``.

    ``KINK_MARGIN_STEPS`` default steps ``cbrt(machine_eps) * max(1, |x|)`` at
    the largest float input: the finite differences of a check, step sweep
    included, then never cross the kink.
    """
    floats = [
        np.abs(v).max() for v in inputs.values() if v.dtype.kind == "f" and v.size
    ]
    scale = max([1.0, *map(float, floats)])
    machine_eps = float(np.finfo(np.dtype(dtype)).eps)
    return KINK_MARGIN_STEPS * float(np.cbrt(machine_eps)) * scale


def _spread_out(
    array: NDArray[Any],
    mask: NDArray[np.bool_],
    margin: float,
    rng: np.random.Generator,
) -> NDArray[Any]:
    """Move the masked elements onto a shuffled grid that avoids kinks and ties.

    Grid points are ``k * spacing + offset`` with the offset at least
    ``margin`` from every multiple of ``spacing``: they keep ``margin`` from a
    kink at zero and ``2 * margin`` from each other.
    """
    count = int(mask.sum())
    scale = max(1.0, float(np.abs(array).max()))
    spacing = max(3.0 * margin, 2.0 * scale / count)
    offset = rng.uniform(margin, spacing - margin)
    grid = (rng.permutation(count) - count // 2) * spacing + offset

    repaired = np.array(array, copy=True)
    repaired[mask] = grid.astype(array.dtype)
    return repaired


def away_from_kinks(
    inputs: Inputs,
    nonsmooth: NonSmoothMask,
    rng: np.random.Generator,
    *,
    dtype: DTypeLike = np.float64,
    margin: float | None = None,
) -> Inputs:
    """Inputs with no element within the margin of a kink or tie.

    Flagged elements are moved (see :func:`_spread_out`) until ``nonsmooth``
    flags none; a draw that cannot be repaired is rejected with
    ``hypothesis.assume``, so the test never sees it.
    """
    current = dict(inputs)
    for _ in range(_REPAIR_ROUNDS):
        bound = kink_margin(current, dtype) if margin is None else float(margin)
        flagged = {
            name: np.asarray(mask, dtype=bool)
            for name, mask in nonsmooth(current, bound).items()
            if np.any(mask)
        }
        if not flagged:
            return current
        for name, mask in flagged.items():
            current[name] = _spread_out(current[name], mask, bound, rng)
    assume(False)
    return current


@dataclass(frozen=True)
class _LayerView:
    """What the strategies need to know of a layer (a LayerSpec or an adapter)."""

    signature: str
    input_names: tuple[str, ...]
    index_inputs: Mapping[str, str]
    min_side: Mapping[str, int]
    fixed_sides: Mapping[str, int]
    defaults: Mapping[str, NDArray[Any]]
    nonsmooth: NonSmoothMask | None


def _view(layer: Any, signature: str | None) -> _LayerView:
    """Read the drawing-relevant fields of ``layer``, duck-typed."""
    signature = signature or getattr(layer, "signature", None)
    if not signature:
        name = getattr(layer, "name", type(layer).__name__)
        raise GradcheckError(
            f"layer {name!r} has no gufunc signature, so its shapes cannot be "
            "drawn; pass signature='(n,i),(i,o),(o)->(n,o)' (one group per input)."
        )
    view = _LayerView(
        signature=signature,
        input_names=tuple(layer.input_names),
        index_inputs=dict(getattr(layer, "index_inputs", None) or {}),
        min_side=dict(getattr(layer, "min_side", None) or {}),
        fixed_sides=dict(getattr(layer, "fixed_sides", None) or {}),
        defaults=dict(getattr(layer, "defaults", None) or {}),
        nonsmooth=getattr(layer, "nonsmooth", None),
    )
    n_groups = len(parse_signature(signature)[0])
    missing = [n for n in view.input_names[n_groups:] if n not in view.defaults]
    if n_groups > len(view.input_names) or missing:
        raise GradcheckError(
            f"signature {signature!r} has {n_groups} input group(s) but the layer "
            f"takes {list(view.input_names)}; give one group per input, in order."
        )
    return view


def _as_dtype_strategy(dtype: Any) -> st.SearchStrategy[np.dtype]:
    if dtype is None:
        return dtypes()
    if isinstance(dtype, st.SearchStrategy):
        return dtype.map(np.dtype)
    return st.just(np.dtype(dtype))


@st.composite
def _draw_inputs(
    draw: st.DrawFn,
    view: _LayerView,
    dtype_strategy: st.SearchStrategy[np.dtype],
    max_side: int,
    max_magnitude: float,
    avoid_kinks: bool,
) -> tuple[Inputs, np.dtype]:
    """Draw the dtype, the shapes, then every input, then repair kinks."""
    dtype = draw(dtype_strategy)
    drawn = draw(
        shapes(
            view.signature,
            min_side=view.min_side,
            max_side=max_side,
            fixed_sides=view.fixed_sides,
        )
    )

    inputs: Inputs = {}
    for name, shape in zip(view.input_names, drawn.input_shapes, strict=False):
        if name in view.index_inputs:
            top = drawn.sizes[view.index_inputs[name]] - 1
            indices = hnp.arrays(np.int64, shape, elements=st.integers(0, top))
            inputs[name] = draw(indices)
        else:
            own = view.defaults.get(name)
            kind = dtype if own is None else own.dtype
            inputs[name] = draw(arrays(kind, shape, max_magnitude=max_magnitude))
    for name in view.input_names[len(drawn.input_shapes) :]:
        inputs[name] = np.array(view.defaults[name], copy=True)

    if avoid_kinks and view.nonsmooth is not None:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        inputs = away_from_kinks(inputs, view.nonsmooth, rng, dtype=dtype)
    return inputs, dtype


def layer_inputs(
    layer: Any,
    *,
    signature: str | None = None,
    dtype: Any = None,
    max_side: int | None = None,
    max_magnitude: float = 1e3,
    avoid_kinks: bool = True,
) -> st.SearchStrategy[Inputs]:
    """Draw ``{input_name: array}`` for a layer, shapes from its signature.

    Parameters
    ----------
    layer
        A ``LayerSpec`` or an adapted layer (see :func:`gradcheck.adapters.as_layer`):
        anything with ``input_names`` and a ``signature``, and optionally
        ``index_inputs``, ``min_side``, ``fixed_sides``, ``defaults`` and
        ``nonsmooth``.
    signature : str, optional
        Overrides ``layer.signature``.
    dtype : dtype or SearchStrategy, optional
        Float dtype of the inputs; by default drawn by :func:`dtypes`. Index
        inputs are int64; an object layer's parameters keep their own dtype.
    max_side : int, optional
        Largest free dimension; by default 4, or 2 more than the largest
        ``min_side`` (so that e.g. 3×3 stride-2 windows can overlap).
    max_magnitude : float
        See :func:`values`.
    avoid_kinks : bool
        Move elements off the layer's kinks and ties (``layer.nonsmooth``)
        before the check; see :func:`away_from_kinks`.

    Returns
    -------
    SearchStrategy of dict
    """
    view = _view(layer, signature)
    side = max_side or max(4, max(view.min_side.values(), default=0) + 2)
    strategy = _draw_inputs(
        view, _as_dtype_strategy(dtype), side, max_magnitude, avoid_kinks
    )
    return strategy.map(lambda pair: pair[0])


def layer_cases(
    layer: Any,
    *,
    signature: str | None = None,
    loss: Any = None,
    dtype: Any = None,
    max_side: int | None = None,
    max_magnitude: float = 1e3,
    avoid_kinks: bool = True,
) -> st.SearchStrategy[Case]:
    """Draw whole checks: inputs (see :func:`layer_inputs`), a loss and a seed.

    Parameters
    ----------
    loss : SearchStrategy, str or loss object, optional
        By default :func:`losses` (every bundled loss).
    signature, dtype, max_side, max_magnitude, avoid_kinks
        As in :func:`layer_inputs`.

    Returns
    -------
    SearchStrategy of Case
        Feed ``case.inputs``, ``case.loss`` and ``case.seed`` to
        ``gradcheck.check_layer``, or the case to
        :func:`gradcheck.testing.check_case`.
    """
    view = _view(layer, signature)
    side = max_side or max(4, max(view.min_side.values(), default=0) + 2)
    inputs = _draw_inputs(
        view, _as_dtype_strategy(dtype), side, max_magnitude, avoid_kinks
    )
    if loss is None:
        loss = losses()
    loss_strategy = loss if isinstance(loss, st.SearchStrategy) else st.just(loss)

    def build(parts: tuple[tuple[Inputs, np.dtype], Any, int]) -> Case:
        (arrays_, kind), chosen, seed = parts
        return Case(arrays_, chosen, seed, np.dtype(kind).name)

    return st.tuples(inputs, loss_strategy, st.integers(0, 2**32 - 1)).map(build)
