"""Precision modes beyond the plain central difference.

Note [affine step]
------------------
A central difference of an affine map has no truncation error at all, so a
larger step only shrinks the rounding error ``machine_eps |y| / h``. When the
output is affine in the input over a box of relative radius ``AFFINE_PROBE``,
the step grows from ``cbrt(machine_eps)`` to ``AFFINE_STEP`` times
``max(1, |x|)``, well inside the probed box. The box is probed along two random
directions ``d`` with independent uniform entries (never a shift of all
elements alike, to which normalisation layers are blind): the second
differences ``y(x + d) + y(x - d) - 2 y(x)`` and
``y(x + 2d) - 2 y(x + d) + y(x)`` must vanish to rounding (the second
catches odd functions such as ``tanh`` at 0). Kinks of piecewise-linear layers
(ReLU, max pooling) inside the box show up as a non-zero second difference, so
those keep the default step. Only float64 forwards get this: in float32 the
rounding allowance would be too coarse to tell an affine map from a gently
curved one.

Note [complex step]
-------------------
For a forward that is analytic in ``x`` and accepts complex input,
``Im(y(x + i h d)) / h`` is the directional derivative with truncation error
``O(h**2)`` and *no* subtractive cancellation, so ``h`` can be tiny (1e-20)
and the result is accurate to a few units of ``machine_eps``. It needs one
evaluation per perturbation instead of two. Forwards that use ``abs``,
comparisons, ``np.real`` or casts to a real dtype break analyticity; they are
caught by comparing one complex-step directional derivative with a central
difference before the mode is used.

Note [Richardson]
-----------------
With central differences ``D(h)``, ``D(2h)``, ``D(4h)`` (error ``c2 h**2 +
c4 h**4 + ...``), ``R(h) = (4 D(h) - D(2h)) / 3`` cancels the ``h**2`` term.
The same combination one step up, ``R(2h)``, differs from ``R(h)`` by about
``15 c4 h**4``; that difference (without dividing by 15, as a safety factor)
plus the rounding of the combination is the error bound reported.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._batched import InputMap
from ._calls import UserCodeError
from .numeric import ROUNDING_SAFETY, FloatArray, default_steps

__all__ = [
    "COMPLEX_STEP",
    "RICHARDSON_STEP_POWER",
    "affine_steps",
    "complex_step_problem",
    "richardson",
]

AFFINE_PROBE = 0.25
AFFINE_STEP = 1.0 / 16.0
AFFINE_ULPS = 2.0**16
COMPLEX_STEP = 1e-20
# Richardson's smallest step, as a power of machine_eps: its error falls like
# h**4 while rounding grows like 1/h, which balance near machine_eps**(1/5).
RICHARDSON_STEP_POWER = 0.2

# Complex step and a central difference must agree this well along a probe
# direction (the central side carries truncation error, so this is loose).
COMPLEX_AGREEMENT = 1e-5


def _relative_scale(x0: FloatArray) -> FloatArray:
    result: FloatArray = np.maximum(1.0, np.abs(x0))
    return result


def affine_steps(
    input_map: InputMap, rng: np.random.Generator, compute_dtype: np.dtype
) -> FloatArray | None:
    """Large steps when the output is affine in the input, else ``None``.

    See Note [affine step].
    """
    if np.dtype(compute_dtype) != np.float64:
        return None
    x0 = input_map.x0
    radius = AFFINE_PROBE * _relative_scale(x0)
    for _ in range(2):
        move = radius * rng.uniform(-1.0, 1.0, size=x0.shape)
        try:
            curvature, size = _second_differences(input_map, move)
        except UserCodeError:
            return None
        limit = AFFINE_ULPS * float(np.finfo(np.float64).eps) * size
        if not curvature <= limit:
            return None
    factor = AFFINE_STEP / float(np.cbrt(np.finfo(np.float64).eps))
    steps: FloatArray = default_steps(x0, np.dtype(np.float64)) * factor
    return steps


def _second_differences(input_map: InputMap, move: FloatArray) -> tuple[float, float]:
    """Largest second difference around ``x0`` and around ``x0 + move``, and scale.

    The one-sided difference catches odd functions (``tanh`` at 0), whose
    symmetric second difference vanishes at ``x0`` although they are curved.
    """
    x0, y0 = input_map.x0, input_map.y0
    plus, minus, double = (
        np.asarray(input_map.output(x0 + factor * move), dtype=np.float64)
        for factor in (1.0, -1.0, 2.0)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        centred = np.abs(plus + minus - 2.0 * y0)
        ahead = np.abs(double - 2.0 * plus + y0)
        curvature = float(np.max(np.maximum(centred, ahead), initial=0.0))
        size = float(np.max(np.abs(np.stack([plus, minus, double, y0])), initial=0.0))
    return curvature, size


def complex_step_problem(
    input_map: InputMap, weights: FloatArray, rng: np.random.Generator
) -> tuple[str, str]:
    """Why the complex step cannot be used here: ``(kind, reason)``.

    ``kind`` is ``""`` when it can, ``"refused"`` when the forward does not
    take complex input, ``"disagrees"`` when it does but the complex-step and
    central derivatives differ (see Note [complex step]).
    """
    x0, y0 = input_map.x0, input_map.y0
    direction = _relative_scale(x0) * rng.standard_normal(x0.shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            output = input_map.output(x0 + 1j * COMPLEX_STEP * direction)
    except UserCodeError as error:
        return "refused", f"the forward raised on complex input: {error}"
    if output.dtype.kind != "c" or output.shape != y0.shape:
        return "refused", (
            f"the forward returned {output.dtype} of shape {output.shape} for "
            "complex input, so the imaginary part (the derivative) is lost"
        )
    complex_value = float(np.sum(weights * output.imag)) / COMPLEX_STEP
    central_value, bound = _central_along(input_map, weights, direction)
    scale = max(abs(complex_value), abs(central_value))
    if abs(complex_value - central_value) <= COMPLEX_AGREEMENT * scale + bound:
        return "", ""
    return "disagrees", (
        f"along a random direction the complex step gives {complex_value:.10e} "
        f"and a central difference {central_value:.10e}: the forward is not "
        "analytic in this input (abs, comparisons, np.real or a cast to float)"
    )


def _central_along(
    input_map: InputMap, weights: FloatArray, direction: FloatArray
) -> tuple[float, float]:
    """Central directional derivative of ``weights . y`` and its rounding bound."""
    machine_eps = float(np.finfo(np.float64).eps)
    h = float(np.cbrt(machine_eps))
    plus = np.asarray(input_map.output(input_map.x0 + h * direction), np.float64)
    minus = np.asarray(input_map.output(input_map.x0 - h * direction), np.float64)
    value = float(np.sum(weights * (plus - minus))) / (2.0 * h)
    size = float(np.sum(np.abs(weights) * np.maximum(np.abs(plus), np.abs(minus))))
    return value, ROUNDING_SAFETY * machine_eps * size / h


def richardson(
    estimates: list[FloatArray], roundings: list[FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """Combine central differences at ``h, 2h, 4h``: value and error bound.

    See Note [Richardson].
    """
    d1, d2, d4 = estimates
    r1, r2, r4 = roundings
    first = (4.0 * d1 - d2) / 3.0
    second = (4.0 * d2 - d4) / 3.0
    rounding = (4.0 * r1 + r2) / 3.0 + (4.0 * r2 + r4) / 3.0
    return first, np.abs(first - second) + rounding
