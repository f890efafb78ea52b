"""gradcheck: tells whether the backward pass of a numpy layer is right.

The names below are the stable public interface; everything else may change.
"""

from __future__ import annotations

from .check import check_gradient, check_layer
from .errors import GradcheckError, GradcheckWarning, GradientMismatch
from .numeric import numeric_gradient
from .report import Block, Report

__version__ = "0.1.0"

__all__ = [
    "Block",
    "GradcheckError",
    "GradcheckWarning",
    "GradientMismatch",
    "Report",
    "__version__",
    "check_gradient",
    "check_layer",
    "numeric_gradient",
]
