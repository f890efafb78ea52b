"""Validation of what users hand to the checks, with messages that say the fix."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import GradcheckError

__all__ = [
    "compute_dtype_of",
    "validate_callable",
    "validate_grads",
    "validate_inputs",
    "validate_nonnegative",
    "validate_optional_callable",
]


def validate_callable(fn: object, name: str) -> None:
    """Refuse a non-callable argument."""
    if not callable(fn):
        raise GradcheckError(
            f"{name} must be callable, got {type(fn).__name__} {fn!r:.60}; pass the "
            "function itself, not the result of calling it."
        )


def validate_grads(grads: object, inputs: object) -> dict[str, Callable[..., Any]]:
    """``grads`` must map input names to callables, and name at least one input."""
    if not isinstance(inputs, Mapping):
        raise GradcheckError(
            f"inputs must be a dict {{name: array}}, got {type(inputs).__name__}; "
            "e.g. inputs={'x_input': x, 'W': W, 'b': b}."
        )
    if not isinstance(grads, Mapping):
        raise GradcheckError(
            f"grads must be a dict {{input_name: gradient_function}}, got "
            f"{type(grads).__name__}; e.g. grads={{'x_input': dense_grad_input}}."
        )
    if not grads:
        raise GradcheckError(
            "grads is empty, so nothing would be checked; name at least one input, "
            "e.g. grads={'x_input': dense_grad_input}."
        )
    for name, fn in grads.items():
        if name not in inputs:
            known = ", ".join(map(repr, inputs)) or "none"
            raise GradcheckError(
                f"grads names {name!r}, which is not among the inputs ({known}); "
                "use the same names as the forward's arguments."
            )
        validate_callable(fn, f"grads[{name!r}]")
    return dict(grads)


def validate_inputs(
    inputs: object, differentiated: tuple[str, ...]
) -> dict[str, NDArray[Any]]:
    """Arrays of real numbers, finite and non-empty where differentiated."""
    if not isinstance(inputs, Mapping):
        raise GradcheckError(
            f"inputs must be a dict {{name: array}}, got {type(inputs).__name__}."
        )
    arrays = {}
    for name, value in inputs.items():
        if not isinstance(name, str):
            raise GradcheckError(f"input names must be strings, got {name!r}.")
        arrays[name] = _as_array(name, value, name in differentiated)
    return arrays


def _as_array(name: str, value: object, differentiated: bool) -> NDArray[Any]:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise GradcheckError(
            f"input {name!r} cannot be turned into an array ({error}); pass a "
            "numpy array of one shape."
        ) from None
    if not differentiated:
        return array
    if array.dtype.kind == "b":
        raise GradcheckError(
            f"input {name!r} is boolean; a gradient w.r.t. True/False does not "
            "exist. Leave it out of grads, or pass a float64 array."
        )
    if array.dtype.kind not in "iuf":
        raise GradcheckError(
            f"input {name!r} has dtype {array.dtype}; gradients need real numbers. "
            "Pass a float64 array (complex and object arrays are not supported)."
        )
    if array.size == 0:
        raise GradcheckError(
            f"input {name!r} is empty (shape {array.shape}); there is nothing to "
            "check. Give it at least one element."
        )
    if not np.all(np.isfinite(array)):
        count = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise GradcheckError(
            f"input {name!r} holds {count} NaN or inf value(s); a gradient is only "
            "defined at finite points. Replace them before checking."
        )
    if array.dtype.kind in "iu":
        # NOTE: an integer array would truncate every perturbation; both sides
        # of the check get the same float64 values instead.
        return np.array(array, dtype=np.float64, copy=True)
    return array


def validate_nonnegative(value: object, name: str) -> float:
    """A finite float >= 0 (``nondet_tol``, ``atol``), or a clear refusal."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise GradcheckError(
            f"{name} must be a number, got {type(value).__name__} {value!r}; "
            f"e.g. {name}=1e-6."
        )
    number = float(value)
    if not (np.isfinite(number) and number >= 0):
        raise GradcheckError(f"{name} must be finite and >= 0, got {value!r}.")
    return number


def validate_optional_callable(fn: object, name: str) -> None:
    """``None`` or a callable."""
    if fn is not None:
        validate_callable(fn, name)


def compute_dtype_of(*dtypes: np.dtype) -> np.dtype:
    """The least precise floating dtype among these (float64 for ints).

    A gradient is only as precise as its least precise participant: a
    float32 input among float64 ones rounds whatever it touches to float32.
    """
    floats = [np.dtype(d) for d in dtypes if np.dtype(d).kind == "f"]
    if not floats:
        return np.dtype(np.float64)
    return max(floats, key=lambda dtype: float(np.finfo(dtype).eps))
