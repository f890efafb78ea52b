"""Numeric gradient of a layer's scalar loss w.r.t. one of its inputs.

This is the single place where the check decides *how* the finite differences
are evaluated; the comparison downstream only needs the resulting
:class:`~gradcheck.numeric.CentralDifference`. Without a :class:`LayerProblem`
(``check_gradient``, or ``method="loop"``) it perturbs one element at a time
and differentiates the loss itself. With one, it differentiates the layer
output and contracts with ``grad_output`` (see Note [output differences
contracted with grad_output] in ``gradcheck._coloured``), stacking points in
one forward call when the forward allows it (Note [stacked evaluation]) and
moving a whole column of rows at once when rows are independent (Note
[coloured differences]). Every shortcut is verified numerically first; the
fallback is the plain loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._batched import InputMap, supports_stack
from ._coloured import Plan, difference_quotients, rows_independent
from ._precision import (
    COMPLEX_STEP,
    RICHARDSON_STEP_POWER,
    affine_steps,
    complex_step_problem,
    richardson,
)
from .errors import GradcheckError
from .losses import ScalarLoss
from .numeric import (
    CentralDifference,
    FloatArray,
    central_difference,
    default_steps,
    scalar_value,
)

__all__ = [
    "METHODS",
    "PRECISIONS",
    "LayerProblem",
    "describe_method",
    "estimate_gradient",
    "validate_options",
]

METHODS = ("auto", "loop", "batched", "coloured")
PRECISIONS = ("central", "richardson", "complex-step")
LOOP_LABEL = "loop"


@dataclass
class LayerProblem:
    """What the estimators need beyond ``loss_of_input``: the layer itself.

    Attributes
    ----------
    forward, points, scalar_loss, numeric_dtype
        The user's forward, private float64 copies of all inputs, the loss and
        the dtype the forward computes in.
    method, precision, batched, seed
        The options of ``check_layer`` (see its docstring).
    labels, notes
        Filled in by :func:`estimate_gradient`: the method used per input, and
        remarks for the report.
    """

    forward: Callable[..., Any]
    points: Mapping[str, Any]
    scalar_loss: ScalarLoss
    numeric_dtype: np.dtype
    method: str = "auto"
    precision: str = "central"
    batched: bool | None = None
    seed: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """``Report.method``: the estimator of each input."""
        if not self.labels:
            return "central differences, one element at a time"
        parts = [f"{name}: {label}" for name, label in self.labels.items()]
        return "; ".join(parts)


def validate_options(method: str, precision: str, mode: str, n_directions: int) -> None:
    """Refuse unknown option values with the list of valid ones."""
    choices = {"method": (method, METHODS), "precision": (precision, PRECISIONS)}
    choices["mode"] = (mode, ("full", "fast"))
    for knob, (value, valid) in choices.items():
        if value not in valid:
            raise GradcheckError(
                f"{knob}={value!r} is not known; choose one of {', '.join(valid)}."
            )
    if isinstance(n_directions, bool) or not isinstance(n_directions, int):
        raise GradcheckError(f"n_directions must be an int, got {n_directions!r}.")
    if n_directions < 1:
        raise GradcheckError(f"n_directions must be at least 1, got {n_directions}.")


def estimate_gradient(
    loss_of_input: Callable[[FloatArray], float],
    x0: FloatArray,
    numeric_dtype: np.dtype,
    *,
    problem: LayerProblem | None = None,
    name: str = "x",
) -> CentralDifference:
    """Numeric gradient of the loss w.r.t. one input, with its error bound.

    Parameters
    ----------
    loss_of_input : callable
        ``x -> loss``, the other inputs held fixed.
    x0 : ndarray of float64
        The point (a private copy).
    numeric_dtype : numpy dtype
        The dtype the forward computes in; sets the step and rounding bound.
    problem : LayerProblem, optional
        The layer; without it, or with ``method="loop"`` and central
        precision, the plain element loop on ``loss_of_input`` is used.
    name : str
        Which input ``x0`` is, in ``problem.points``.
    """
    if problem is None or (problem.method == "loop" and problem.precision == "central"):
        if problem is not None:
            problem.labels[name] = f"{LOOP_LABEL}, central"
        return central_difference(
            loss_of_input, x0, dtype=numeric_dtype, what="the loss"
        )
    return _layer_estimate(problem, name, x0)


def _layer_estimate(
    problem: LayerProblem, name: str, x0: FloatArray
) -> CentralDifference:
    rng = np.random.default_rng([problem.seed, len(problem.labels)])
    input_map = InputMap(problem.forward, problem.points, name, x0)
    weights = np.asarray(problem.scalar_loss.gradient(input_map.y0), dtype=np.float64)
    f0 = scalar_value(problem.scalar_loss.value(input_map.y0), "the loss")

    input_map.stacked = _use_stack(problem, input_map, rng)
    plan = Plan(x0.shape, coloured=_use_colours(problem, input_map, rng))
    labels = [
        "coloured" if plan.coloured else "per element",
        "batched" if input_map.stacked else LOOP_LABEL,
    ]
    precision = _resolve_precision(problem, name, input_map, weights, rng)
    estimate, label = _PRECISION_ESTIMATORS[precision](
        input_map, weights, plan, problem.numeric_dtype, rng, f0
    )
    problem.labels[name] = ", ".join([*labels, label])
    return estimate


def _use_stack(
    problem: LayerProblem, input_map: InputMap, rng: np.random.Generator
) -> bool:
    if problem.method == "loop":
        return False
    if problem.batched is not None:
        return problem.batched
    stacked = supports_stack(input_map, rng)
    if not stacked and problem.method == "batched":
        problem.notes.append(
            f"method='batched': the forward does not map a stack of "
            f"{input_map.name!r} values to a stack of outputs, so points were "
            "evaluated one at a time."
        )
    return stacked


def _use_colours(
    problem: LayerProblem, input_map: InputMap, rng: np.random.Generator
) -> bool:
    if problem.method not in ("auto", "coloured"):
        return False
    independent = rows_independent(input_map, rng)
    if not independent and problem.method == "coloured":
        problem.notes.append(
            f"method='coloured': output rows do not depend on {input_map.name!r} "
            "row by row (or the shapes do not allow it), so elements were "
            "perturbed one at a time."
        )
    return independent


def _resolve_precision(
    problem: LayerProblem,
    name: str,
    input_map: InputMap,
    weights: FloatArray,
    rng: np.random.Generator,
) -> str:
    """The precision to use; refuse or downgrade an unusable complex step."""
    if problem.precision != "complex-step":
        return problem.precision
    kind, reason = complex_step_problem(input_map, weights, rng)
    if kind == "refused":
        raise GradcheckError(
            f"precision='complex-step' needs a forward that accepts complex "
            f"{name!r}: {reason}. Use precision='richardson' instead."
        )
    if kind == "disagrees":
        problem.notes.append(
            f"complex step refused for {name!r} ({reason}); central differences "
            "were used. The oracles disagree about the numerics, not about your "
            "backward."
        )
        return "central"
    return "complex-step"


Estimator = Callable[
    [InputMap, FloatArray, Plan, np.dtype, np.random.Generator, float],
    tuple[CentralDifference, str],
]


def _central(
    input_map: InputMap,
    weights: FloatArray,
    plan: Plan,
    dtype: np.dtype,
    rng: np.random.Generator,
    f0: float,
) -> tuple[CentralDifference, str]:
    steps = affine_steps(input_map, rng, dtype)
    label = "central (affine: large step)" if steps is not None else "central"
    if steps is None:
        steps = default_steps(input_map.x0, dtype)
    eps = float(np.finfo(dtype).eps)
    gradient, rounding = _checked(
        difference_quotients(input_map, weights, steps, plan, "central", eps)
    )
    return CentralDifference(gradient, steps, rounding, f0), label


def _richardson(
    input_map: InputMap,
    weights: FloatArray,
    plan: Plan,
    dtype: np.dtype,
    rng: np.random.Generator,
    f0: float,
) -> tuple[CentralDifference, str]:
    eps = float(np.finfo(dtype).eps)
    steps = affine_steps(input_map, rng, dtype)
    if steps is None:
        steps = default_steps(input_map.x0, dtype) * eps ** (
            RICHARDSON_STEP_POWER - 1 / 3
        )
    steps = steps / 2.0
    results = [
        _checked(
            difference_quotients(
                input_map, weights, steps * factor, plan, "central", eps
            )
        )
        for factor in (1.0, 2.0, 4.0)
    ]
    gradient, bound = richardson(
        [value for value, _ in results], [rounding for _, rounding in results]
    )
    return CentralDifference(gradient, steps, bound, f0), "richardson (h, 2h, 4h)"


def _complex_step(
    input_map: InputMap,
    weights: FloatArray,
    plan: Plan,
    dtype: np.dtype,
    rng: np.random.Generator,
    f0: float,
) -> tuple[CentralDifference, str]:
    steps = COMPLEX_STEP * np.maximum(1.0, np.abs(input_map.x0))
    eps = float(np.finfo(dtype).eps)
    gradient, rounding = _checked(
        difference_quotients(input_map, weights, steps, plan, "complex", eps)
    )
    return CentralDifference(gradient, steps, rounding, f0), "complex step"


_PRECISION_ESTIMATORS: dict[str, Estimator] = {
    "central": _central,
    "richardson": _richardson,
    "complex-step": _complex_step,
}


def _checked(result: tuple[FloatArray, FloatArray]) -> tuple[FloatArray, FloatArray]:
    """Refuse non-finite differences, as the element loop does."""
    gradient, rounding = result
    if not (np.all(np.isfinite(gradient)) and np.all(np.isfinite(rounding))):
        raise GradcheckError(
            "the forward returned NaN or inf at a perturbed point; keep inputs "
            "inside the layer's domain or use a smaller step."
        )
    return result


def describe_method(problem: LayerProblem, n_directions: int) -> str:
    """``Report.method``: fast mode's directions, then each input's estimator."""
    estimators = problem.describe() if problem.labels else ""
    if not n_directions:
        return estimators or "central differences, one element at a time"
    fast = f"fast: {n_directions} random projection(s) per input"
    return f"{fast}; full check of {estimators}" if estimators else fast
