"""Calling user code: copies in, exceptions turned into readable failures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .errors import GradcheckError

__all__ = ["UserCodeError", "call_user", "describe_function", "shapes_of"]


class UserCodeError(Exception):
    """A user's forward or backward raised; the check fails with this message."""


def describe_function(fn: object) -> str:
    """A readable name for a user's callable."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return str(name) if name else type(fn).__name__


def _private(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def shapes_of(arguments: Mapping[Any, Any]) -> str:
    """``name=shape dtype`` for each array argument, for error messages."""
    parts = []
    for name, value in arguments.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{name}: {value.shape} {value.dtype}")
        else:
            parts.append(f"{name}: {type(value).__name__}")
    return ", ".join(parts)


def call_user(
    fn: Callable[..., Any], role: str, *positional: Any, **arguments: Any
) -> Any:
    """Call ``fn(*positional, **arguments)`` with private copies of the arrays.

    Raises
    ------
    UserCodeError
        When ``fn`` raises anything but a :class:`GradcheckError`; the message
        names the function, its role, the exception and the shapes it got.
    """
    copies = {name: _private(value) for name, value in arguments.items()}
    try:
        return fn(*(_private(value) for value in positional), **copies)
    except GradcheckError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure of user code is reported
        raise UserCodeError(
            f"{role} {describe_function(fn)} raised {type(error).__name__}: {error} "
            f"(called with {shapes_of(dict(enumerate(positional)) | arguments)})"
        ) from error
