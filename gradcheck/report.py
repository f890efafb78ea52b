"""The result of a check: per-input blocks, a verdict, text and JSON renderings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .compare import Tolerance

__all__ = [
    "REPORT_CODES",
    "Block",
    "CrossCheck",
    "Report",
    "combine_status",
    "degenerate_advice",
]

# Block codes that are also raised to ``Report.warnings``.
REPORT_CODES = frozenset(
    {
        "degenerate-loss",
        "kink",
        "tie",
        "tie-routing",
        "nondeterministic-forward",
        "nondeterministic-backward",
        "stateful-backward",
        "ignores-grad-output",
        "nonlinear-backward",
        "adjoint-mismatch",
    }
)

_SEVERITY = {"pass": 0, "inconclusive": 1, "fail": 2}


def combine_status(statuses: list[str]) -> str:
    """The overall verdict: any fail fails; otherwise any inconclusive is so."""
    return max(statuses, key=_SEVERITY.__getitem__) if statuses else "fail"


@dataclass
class Block:
    """The comparison for one input (``x_input``, ``W``, ...).

    Attributes
    ----------
    name : str
    status : {"pass", "fail", "inconclusive"}
    max_rel_error : float
        See Note [the error metric] in ``gradcheck.compare``.
    worst_index : tuple of int
    analytic, numeric : ndarray or None
        The two gradients (``analytic`` may have the wrong shape).
    decided_by : str
        The pre-check that set the status over the comparison's (such as
        ``"adjoint test"``), or empty when the comparison decided.
    """

    name: str
    status: str
    max_rel_error: float
    worst_index: tuple[int, ...]
    analytic: NDArray[Any] | None
    numeric: NDArray[np.float64] | None
    n_checked: int = 0
    n_failed: int = 0
    n_inconclusive: int = 0
    tolerance: Tolerance | None = None
    allowed_at_worst: float = float("nan")
    fd_error_at_worst: float = float("nan")
    step_at_worst: float = float("nan")
    truncation_at_worst: float = float("nan")
    diagnosis: list[str] = field(default_factory=list)
    message: str = ""
    codes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decided_by: str = ""

    @property
    def error_bound_at_worst(self) -> float:
        """Estimated finite-difference error at the worst element.

        The rounding bound plus, where a step sweep measured it, the
        truncation error of the step that was used.
        """
        truncation = self.truncation_at_worst
        extra = truncation if np.isfinite(truncation) else 0.0
        return self.fd_error_at_worst + extra

    def worst_values(self) -> tuple[float, float]:
        """Analytic and numeric value at the worst element."""
        if self.analytic is None or self.numeric is None or not self.worst_index:
            if self.analytic is not None and self.analytic.shape == ():
                return float(self.analytic), float(np.asarray(self.numeric))
            return float("nan"), float("nan")
        if self.analytic.shape != self.numeric.shape:
            return float("nan"), float("nan")
        return (
            float(self.analytic[self.worst_index]),
            float(self.numeric[self.worst_index]),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (no full arrays)."""
        analytic_value, numeric_value = self.worst_values()
        return {
            "status": self.status,
            "max_rel_error": _json_float(self.max_rel_error),
            "worst_index": list(self.worst_index),
            "analytic_at_worst": _json_float(analytic_value),
            "numeric_at_worst": _json_float(numeric_value),
            "n_checked": self.n_checked,
            "n_failed": self.n_failed,
            "n_inconclusive": self.n_inconclusive,
            "rtol": None if self.tolerance is None else self.tolerance.rtol,
            "allowed_at_worst": _json_float(self.allowed_at_worst),
            "fd_error_at_worst": _json_float(self.fd_error_at_worst),
            "truncation_at_worst": _json_float(self.truncation_at_worst),
            "tolerance_source": None
            if self.tolerance is None
            else self.tolerance.source,
            "diagnosis": list(self.diagnosis),
            "message": self.message,
            "codes": list(self.codes),
            "notes": list(self.notes),
            "decided_by": self.decided_by,
        }


@dataclass(frozen=True)
class CrossCheck:
    """An independent opinion from ``scipy.optimize.check_grad``.

    ``below_resolution`` is set when the main check failed on a mismatch too
    small for scipy's metric and tolerance to see; scipy's pass then agrees.
    """

    name: str
    rel_error: float
    tolerance: float
    direction: str
    agrees: bool
    below_resolution: bool = False

    @property
    def passed(self) -> bool:
        """Whether scipy's relative error is within its tolerance."""
        return bool(self.rel_error <= self.tolerance)


@dataclass
class Report:
    """What a gradient check found. ``str(report)`` is the human-readable form."""

    status: str
    blocks: dict[str, Block]
    warnings: list[str] = field(default_factory=list)
    function: str = "gradient"
    loss: str = ""
    seed: int | None = None
    method: str = "central differences"
    cross_checks: list[CrossCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """``status == "pass"``."""
        return self.status == "pass"

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over all checked inputs."""
        errors = [block.max_rel_error for block in self.blocks.values()]
        return max(errors) if errors else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary."""
        return {
            "status": self.status,
            "passed": self.passed,
            "function": self.function,
            "max_rel_error": _json_float(self.max_rel_error),
            "loss": self.loss,
            "seed": self.seed,
            "method": self.method,
            "warnings": list(self.warnings),
            "blocks": {name: block.to_dict() for name, block in self.blocks.items()},
            "cross_checks": [
                {
                    "name": check.name,
                    "rel_error": _json_float(check.rel_error),
                    "tolerance": check.tolerance,
                    "direction": check.direction,
                    "passed": check.passed,
                    "agrees": check.agrees,
                    "below_resolution": check.below_resolution,
                }
                for check in self.cross_checks
            ],
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        from ._render import render_report

        return render_report(self)


def degenerate_advice(report: Report) -> str:
    """What to do about inputs whose gradients are both below the noise floor.

    The advice depends on the loss: the default random-weighted sum already
    weights every output differently, so there the layer output itself does
    not depend on the input at this point, or is saturated.
    """
    names = [n for n, b in report.blocks.items() if "degenerate-loss" in b.codes]
    where = ", ".join(names) or "an input"
    large = "values so large that rounding hides the slope"
    if report.loss == "weighted-sum":
        cause = (
            "the layer output does not depend on it at this point, or it is "
            f"saturated, or has {large}"
        )
        fix = "check at inputs away from saturation"
    elif report.loss in ("f", ""):
        cause = f"f does not change with it at this point, or f has {large}"
        fix = "check where f is not flat, or subtract f's constant part"
    else:
        cause = (
            f"the loss {report.loss!r} may not depend on it here (a plain sum of "
            f"a zero-mean output is constant), or the output is saturated or has "
            f"{large}"
        )
        fix = "use the default random-weighted loss (loss=None), or inputs away "
        fix += "from saturation"
    return (
        f"gradients of {where} are below the finite-difference noise floor: "
        f"{cause}; {fix}."
    )


def _json_float(value: float) -> float | str:
    return float(value) if np.isfinite(value) else str(value)
