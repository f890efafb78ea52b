"""Exceptions and warnings raised by gradcheck."""

from __future__ import annotations

__all__ = [
    "GradcheckError",
    "DegenerateLossWarning",
    "GradcheckWarning",
    "GradientMismatch",
    "LooseToleranceWarning",
    "NonSmoothPointWarning",
    "NondeterminismWarning",
    "PrecisionWarning",
]


class GradcheckError(ValueError):
    """The harness was used wrongly; the message names the problem and the fix."""


class GradientMismatch(AssertionError):
    """An analytic gradient disagrees with the numeric one (raised by assertions)."""


class GradcheckWarning(UserWarning):
    """Base class of the warnings gradcheck emits."""


class PrecisionWarning(GradcheckWarning):
    """Inputs in low precision: the check is looser than it would be in float64."""


class LooseToleranceWarning(GradcheckWarning):
    """A tolerance so loose that real bugs can hide under it."""


class NonSmoothPointWarning(GradcheckWarning):
    """Some inputs sit at a kink or tie, where no derivative exists."""


class NondeterminismWarning(GradcheckWarning):
    """The forward or backward changes between calls with identical arguments."""


class DegenerateLossWarning(GradcheckWarning):
    """The loss does not depend on an input: both gradients are noise."""
