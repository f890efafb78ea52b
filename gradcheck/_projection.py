"""Fast mode: compare random projections of the gradient, then localise.

Note [random projections]
-------------------------
For a random direction ``v`` the analytic side gives ``g . v`` (the backward's
gradient dotted with ``v``) and the numeric side a directional central
difference ``(L(x + h v) - L(x - h v)) / 2h``: two forward evaluations, however
large ``x`` is. A wrong gradient ``g + e`` shifts the projection by ``e . v``,
which is non-zero for almost every ``v`` unless ``e = 0``. Each input gets its
own directions (and its own differences), scaled element-wise like the default
steps, by ``max(1, |x|)``: an error in a small input such as a bias is never
drowned by the projection of a large weight matrix. A projection that misses
its tolerance is first re-examined with a step sweep along ``v`` (curvature,
not a bug, can spoil one step); if it still fails, the full check of that input
runs and localises the error element by element.

One direction per input already fails every mutant of ``gradcheck.mutants``
in float64 (``tests/test_fast_mode.py``). The default is two: a single
direction can, by bad luck, give a projection ``g . v`` so small that the
rounding bound swallows a relative error near the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._precision import AFFINE_STEP
from .compare import Tolerance, converges_to
from .numeric import ROUNDING_SAFETY, FloatArray, sweep_element
from .report import Block

__all__ = ["DEFAULT_DIRECTIONS", "projection_block"]

DEFAULT_DIRECTIONS = 2


@dataclass(frozen=True)
class Projection:
    """One direction's comparison."""

    analytic: float
    numeric: float
    error_bound: float
    rel_error: float
    passed: bool


def projection_block(
    name: str,
    analytic: FloatArray,
    loss_of_input: Callable[[FloatArray], float],
    x0: FloatArray,
    tolerance: Tolerance,
    compute_dtype: np.dtype,
    n_directions: int,
    seed: int,
    full_block: Callable[[], Block],
) -> Block:
    """A block from ``n_directions`` random projections; the full check on failure.

    See Note [random projections].
    """
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    scale = np.maximum(1.0, np.abs(x0))
    f0 = loss_of_input(x0)
    projections = []
    for _ in range(n_directions):
        direction = scale * rng.standard_normal(x0.shape)
        projection = _project(
            analytic, loss_of_input, x0, direction, f0, tolerance, compute_dtype
        )
        projections.append(projection)
        if not projection.passed:
            return _localised(full_block(), len(projections), projection)
    return _passed_block(name, analytic, projections, tolerance)


def _project(
    analytic: FloatArray,
    loss_of_input: Callable[[FloatArray], float],
    x0: FloatArray,
    direction: FloatArray,
    f0: float,
    tolerance: Tolerance,
    compute_dtype: np.dtype,
) -> Projection:
    machine_eps = float(np.finfo(compute_dtype).eps)
    h = float(np.cbrt(machine_eps))
    large_step = False
    if np.dtype(compute_dtype) == np.float64:
        numeric, error_bound = _large_step(
            loss_of_input, x0, direction, f0, machine_eps
        )
        large_step = error_bound < ROUNDING_SAFETY * machine_eps * abs(f0) / h
    if not large_step:
        numeric, error_bound = _directional(
            loss_of_input, x0, direction, h, machine_eps
        )
    projection = _judge(
        float(np.sum(analytic * direction)),
        numeric,
        error_bound,
        float(np.sum(np.abs(analytic * direction))),
        float(np.sum(np.abs(direction))),
        tolerance,
    )
    if projection.passed or large_step:
        # NOTE: the large-step bound already holds the measured curvature, so a
        # miss there is final; a sweep of noisier small steps could excuse it.
        return projection
    return _swept(projection, loss_of_input, x0, direction, h, tolerance, compute_dtype)


def _directional(
    loss_of_input: Callable[[FloatArray], float],
    x0: FloatArray,
    direction: FloatArray,
    h: float,
    machine_eps: float,
) -> tuple[float, float]:
    """Central difference along ``direction`` at step ``h``, and its rounding."""
    f_plus = loss_of_input(x0 + h * direction)
    f_minus = loss_of_input(x0 - h * direction)
    rounding = ROUNDING_SAFETY * machine_eps * max(abs(f_plus), abs(f_minus))
    return (f_plus - f_minus) / (2.0 * h), rounding / h


def _large_step(
    loss_of_input: Callable[[FloatArray], float],
    x0: FloatArray,
    direction: FloatArray,
    f0: float,
    machine_eps: float,
) -> tuple[float, float]:
    """A secant over ``[-2H, H]`` along ``direction``, bounded by its curvature.

    The slopes of ``[-2H, 0]`` and ``[0, H]`` agree exactly when the loss is
    affine along the direction; their gap bounds the secant's truncation error
    (twice the gap covers the leading term whether the loss is curved or,
    like ``tanh`` at 0, odd). Two evaluations, and asymmetric nodes, so an odd
    loss cannot look affine (see Note [affine step] in ``gradcheck._precision``).
    Used when this bound beats the small step's rounding error, i.e. along
    directions where the loss is nearly affine.
    """
    big = AFFINE_STEP
    ahead = loss_of_input(x0 + big * direction)
    behind = loss_of_input(x0 - 2.0 * big * direction)
    gap = abs((ahead - f0) / big - (f0 - behind) / (2.0 * big))
    rounding = ROUNDING_SAFETY * machine_eps * max(abs(ahead), abs(behind), abs(f0))
    return (ahead - behind) / (3.0 * big), 2.0 * rounding / (3.0 * big) + 2.0 * gap


def _judge(
    analytic: float,
    numeric: float,
    error_bound: float,
    abs_sum: float,
    direction_size: float,
    tolerance: Tolerance,
) -> Projection:
    """The element metric of ``gradcheck.compare`` applied to one projection.

    The user's ``atol`` applies to every element, hence ``atol * sum|v|``; the
    analytic rounding floor is taken relative to ``sum |g_i v_i|``.
    """
    rtol = tolerance.rtol
    floor = rtol * tolerance.floor_fraction * abs_sum
    atol = max(tolerance.atol * direction_size, error_bound, floor, 1e-300)
    scale = max(abs(analytic), abs(numeric))
    difference = abs(analytic - numeric)
    rel_error = difference / (scale + atol / rtol)
    passed = bool(np.isfinite(difference) and difference <= rtol * scale + atol)
    return Projection(analytic, numeric, atol, rel_error, passed)


def _swept(
    projection: Projection,
    loss_of_input: Callable[[FloatArray], float],
    x0: FloatArray,
    direction: FloatArray,
    h: float,
    tolerance: Tolerance,
    compute_dtype: np.dtype,
) -> Projection:
    """Re-examine a failed projection with a step sweep along its direction."""

    def along(t: FloatArray) -> float:
        return loss_of_input(x0 + float(t[0]) * direction)

    sweep = sweep_element(along, np.zeros(1), (0,), h, dtype=compute_dtype)
    if converges_to(
        projection.analytic,
        sweep.steps,
        sweep.estimates,
        sweep.rounding_bounds,
        tolerance.rtol,
        projection.error_bound,
    ):
        return Projection(
            projection.analytic, projection.numeric, projection.error_bound, 0.0, True
        )
    return projection


def _passed_block(
    name: str,
    analytic: FloatArray,
    projections: list[Projection],
    tolerance: Tolerance,
) -> Block:
    noise = all(
        max(abs(p.analytic), abs(p.numeric)) <= p.error_bound for p in projections
    )
    status, codes = ("inconclusive", ["degenerate-loss"]) if noise else ("pass", [])
    worst = max(projections, key=lambda p: p.rel_error)
    return Block(
        name=name,
        status=status,
        max_rel_error=float(worst.rel_error),
        worst_index=(),
        analytic=analytic,
        numeric=None,
        n_checked=int(analytic.size),
        tolerance=tolerance,
        allowed_at_worst=float(worst.error_bound),
        fd_error_at_worst=float(worst.error_bound),
        message=(
            f"fast mode: {len(projections)} random projection(s) g.v agree with "
            "directional differences; no element-wise comparison was made"
        ),
        codes=codes,
    )


def _localised(block: Block, count: int, projection: Projection) -> Block:
    """The full check's block, prefixed with what the projection saw."""
    seen = (
        f"fast mode: projection {count} disagreed (analytic g.v = "
        f"{projection.analytic:.10e}, directional difference "
        f"{projection.numeric:.10e}); the full check below localises it"
    )
    if block.status == "pass":
        seen += (
            ", and passes: the oracles disagree, so suspect the numerics (a kink, "
            "a tie or noise) rather than the backward"
        )
    block.message = f"{seen}. {block.message}".strip().rstrip(".") + "."
    return block
