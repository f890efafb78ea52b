"""Turn the layer styles users bring into the canonical ``(forward, grads)``.

Three styles are recognised (see the design notes):

1. named-argument functions, as in the seed: ``forward(x_input, W, b)`` and
   ``grads={"x_input": dense_grad_input, ...}`` with
   ``dense_grad_input(x_input, grad_output, W, b)``;
2. cache style: ``forward(x, w, b) -> (out, cache)`` and
   ``backward(dout, cache) -> (dx, dw, db)``;
3. object style: an instance with array attributes for its parameters,
   ``forward(input)`` and ``backward(input, grad_output) -> grad_input``. The
   parameter gradients may be returned after ``grad_input``, stored on
   attributes (``dW``, ``grad_W``, ``W_grad``, ``grads["W"]``, ...), or applied
   to the weights in place by an SGD step inside ``backward``; the last is
   undone as ``(W_before - W_after) / lr``.

:func:`as_layer` detects the style. Every call into an object restores its
parameters (and any other state) afterwards, so a check never trains the
layer; its gradient attributes alone carry over from call to call during a
check, so that a backward which accumulates into them without clearing them
is seen to do so. :meth:`Layer.check` restores those too when it is done.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .check import check_layer
from .errors import GradcheckError
from .layers import LayerSpec
from .report import Report

__all__ = [
    "LR_ATTRIBUTES",
    "Layer",
    "as_layer",
    "from_cache_functions",
    "from_functions",
    "from_object",
    "resolve_layer",
]

Array = NDArray[Any]
GradFn = Callable[..., Any]

LR_ATTRIBUTES = ("lr", "learning_rate", "eta", "step_size", "alpha")
_GRAD_DICTS = ("grads", "gradients", "grad")
_ZERO_GRAD = ("zero_grad", "zero_grads", "zero_gradients")
_EXPECTED_OBJECT = (
    "an object with methods forward(input) and backward(input, grad_output) "
    "(or backward(grad_output))"
)


@dataclass(frozen=True)
class Layer:
    """A user's layer in the canonical form ``check_layer`` takes.

    Attributes
    ----------
    name : str
        Shown in test ids and reports.
    forward : callable
        ``forward(**inputs) -> output``.
    grads : dict of str to callable
        ``{input_name: fn}`` with ``fn(**inputs, grad_output=G)``.
    input_names : tuple of str
        The forward's arguments, in signature order.
    style : str
        ``"spec"``, ``"functions"``, ``"cache"`` or ``"object"``.
    signature : str or None
        Gufunc signature for drawing shapes, one group per input.
    index_inputs, min_side, nonsmooth
        As in :class:`gradcheck.layers.LayerSpec`.
    fixed_sides : dict of str to int
        Dimension sizes fixed by an object's existing parameters.
    defaults : dict of str to ndarray
        Current values of an object's parameters (used when the signature
        leaves them out).
    label : str or None
        The report's subject, e.g. ``"Dense.backward"``; ``None`` keeps the
        one :func:`gradcheck.check_layer` picks.
    session : callable or None
        ``session()`` is a context manager around a whole check that yields
        the parameter values to use when the inputs leave them out, and
        restores the user's object afterwards.
    """

    name: str
    forward: Callable[..., Any]
    grads: Mapping[str, GradFn]
    input_names: tuple[str, ...]
    style: str
    signature: str | None = None
    index_inputs: Mapping[str, str] = field(default_factory=dict)
    min_side: Mapping[str, int] = field(default_factory=dict)
    nonsmooth: Callable[..., Any] | None = None
    fixed_sides: Mapping[str, int] = field(default_factory=dict)
    defaults: Mapping[str, Array] = field(default_factory=dict)
    label: str | None = None
    session: Callable[[], AbstractContextManager[Mapping[str, Array]]] | None = None

    def check(self, inputs: Mapping[str, Any], **options: Any) -> Report:
        """Run :func:`gradcheck.check_layer` on this layer at ``inputs``.

        Parameters an object layer's ``inputs`` leave out take the object's
        current values, so ``as_layer(obj).check({"x": x})`` works.
        """
        session = self.session() if self.session else nullcontext({})
        with session as current:
            missing = {k: v for k, v in current.items() if k not in inputs}
            report = check_layer(
                self.forward, self.grads, {**inputs, **missing}, **options
            )
        if self.label:
            report.function = self.label
        return report


def _parameter_names(fn: Callable[..., Any]) -> list[str]:
    """Names of the positional parameters of ``fn`` that have no default.

    Arguments with a default (``eps=1e-5``) are settings of the layer, not
    inputs to draw or differentiate; they keep their default.
    """
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError) as error:
        raise GradcheckError(
            f"cannot read the arguments of {fn!r} ({error}); pass input_names=..."
        ) from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in parameters if p.kind in kinds and p.default is p.empty]


def _name_of(obj: Any) -> str:
    return str(getattr(obj, "__name__", None) or type(obj).__name__)


def _qualname_of(fn: Any) -> str:
    """``fn``'s qualified name, as a user would write it (no ``<locals>``)."""
    name = str(getattr(fn, "__qualname__", None) or _name_of(fn))
    return name.rpartition("<locals>.")[2]


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _keyword_problem(signature: inspect.Signature, names: Sequence[str]) -> str | None:
    """Why ``fn(**{name: ...})`` cannot work, or ``None`` if it can."""
    parameters = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    for name in names:
        parameter = parameters.get(name)
        if parameter is None:
            return f"it has no argument named {name!r}"
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            return f"its argument {name!r} is positional-only"
    return None


def _require_keywords(
    forward: Callable[..., Any], names: Sequence[str], *, trusted: bool
) -> None:
    """Refuse a forward that cannot be called as ``forward(**inputs)``.

    ``trusted``: the user named the inputs, so an unreadable signature is
    taken on trust (a C function may still take them as keywords).
    """
    signature = _signature(forward)
    if signature is None and trusted:
        return
    if signature is None:
        problem, arguments = "its arguments cannot be read", list(names)
    else:
        found = _keyword_problem(signature, names)
        if found is None:
            return
        problem = found
        positional = (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
        arguments = [
            p.name
            for p in signature.parameters.values()
            if p.default is inspect.Parameter.empty and p.kind in positional
        ]
    listed = ", ".join(arguments or ["x"])
    prefix = "np." if isinstance(forward, np.ufunc) else ""
    raise GradcheckError(
        f"{_name_of(forward)} cannot be the forward: {problem}. Forwards are "
        "called with keyword arguments named after the inputs, forward(**inputs), "
        f"so wrap it: forward=lambda {listed}: {prefix}{_name_of(forward)}({listed}), "
        "with grads keyed by the same names."
    )


def from_functions(
    forward: Callable[..., Any],
    grads: Mapping[str, GradFn],
    **fields: Any,
) -> Layer:
    """Style 1: a forward with named arguments and one gradient per input.

    Parameters
    ----------
    forward : callable
        ``forward(**inputs) -> output``, e.g. ``dense_forward(x_input, W, b)``.
    grads : dict of str to callable
        ``{"x_input": dense_grad_input, ...}``; each is called with the inputs
        by name plus ``grad_output``.
    **fields
        Further :class:`Layer` fields (``signature``, ``name``, ...).
    """
    given = fields.pop("input_names", None)
    names = tuple(given or _parameter_names(forward))
    _require_keywords(forward, names, trusted=bool(given))
    unknown = [key for key in grads if key not in names]
    if unknown:
        raise GradcheckError(
            f"grads names {unknown}, which are not arguments of "
            f"{_name_of(forward)}{tuple(names)}; use the forward's argument names."
        )
    fields.setdefault("name", _name_of(forward))
    fields.setdefault("signature", getattr(forward, "signature", None))
    return Layer(
        forward=forward,
        grads=dict(grads),
        input_names=names,
        style="functions",
        **fields,
    )


def _pick_gradient(
    result: Any, name: str, names: Sequence[str], wrt: Sequence[str]
) -> Any:
    """Select ``name``'s gradient from what a cache-style backward returned."""
    if isinstance(result, Mapping):
        return result[name]
    parts = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(parts) == len(names):
        return parts[list(names).index(name)]
    if len(parts) == len(wrt):
        return parts[list(wrt).index(name)]
    raise GradcheckError(
        f"the backward returned {len(parts)} gradient(s); expected one per input "
        f"of the forward {list(names)} or one per differentiated input {list(wrt)}."
    )


def from_cache_functions(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    *,
    wrt: Sequence[str] | None = None,
    **fields: Any,
) -> Layer:
    """Style 2: ``forward(*inputs) -> (out, cache)``, ``backward(dout, cache)``.

    Parameters
    ----------
    forward, backward : callable
        The backward returns one gradient per input of the forward, in order
        (a single array for a one-input layer), or a dict by input name.
    wrt : sequence of str, optional
        Inputs to differentiate; by default all but ``index_inputs``.
    **fields
        Further :class:`Layer` fields (``signature``, ``index_inputs``, ...).
    """
    names = tuple(fields.pop("input_names", None) or _parameter_names(forward))
    index_inputs = fields.get("index_inputs") or {}
    chosen = tuple(wrt or [n for n in names if n not in index_inputs])

    def run_forward(inputs: Mapping[str, Any]) -> tuple[Any, Any]:
        result = forward(*(inputs[n] for n in names))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise GradcheckError(
                f"cache-style forward {_name_of(forward)} must return (out, cache); "
                f"it returned {type(result).__name__}."
            )
        return result

    def canonical_forward(**inputs: Any) -> Any:
        return run_forward(inputs)[0]

    canonical_forward.__qualname__ = _qualname_of(forward)

    def gradient_of(name: str) -> GradFn:
        def grad(**inputs: Any) -> Any:
            grad_output = inputs.pop("grad_output")
            _, cache = run_forward(inputs)
            return _pick_gradient(backward(grad_output, cache), name, names, chosen)

        grad.__qualname__ = f"{_qualname_of(backward)}[{name}]"
        return grad

    fields.setdefault("name", _name_of(forward))
    fields.setdefault("signature", getattr(forward, "signature", None))
    fields.setdefault("label", _qualname_of(backward))
    grads = {name: gradient_of(name) for name in chosen}
    return Layer(
        forward=canonical_forward,
        grads=grads,
        input_names=names,
        style="cache",
        **fields,
    )


def _looks_like_gradient(name: str, others: Sequence[str]) -> bool:
    """``grad_W``, ``W_grad``, ``d_W``, ``gradW``, or ``dW`` beside a ``W``."""
    lowered = name.lower()
    if lowered.startswith(("grad", "d_")) or lowered.endswith("grad"):
        return True
    rest = lowered[1:]
    return lowered.startswith("d") and any(rest == o.lower() for o in others)


def _is_parameter(name: str, value: Any, others: Sequence[str]) -> bool:
    """Public float arrays that do not look like gradients or caches."""
    if name.startswith("_") or not isinstance(value, np.ndarray):
        return False
    if value.dtype.kind != "f" or name.lower() in ("input", "output", "cache"):
        return False
    return not _looks_like_gradient(name, others)


def _gradient_attributes(param: str) -> tuple[str, ...]:
    """Attribute names under which objects commonly store ``param``'s gradient."""
    names = (
        f"grad_{param}",
        f"{param}_grad",
        f"d{param}",
        f"d_{param}",
        f"grad{param}",
    )
    return names if param.islower() else (*names, f"d{param.lower()}")


def _detect_parameters(obj: Any) -> tuple[str, ...]:
    state = vars(obj)
    return tuple(
        name for name, value in state.items() if _is_parameter(name, value, state)
    )


def _refuse_gradient_params(obj: Any, params: Sequence[str]) -> None:
    """A gradient attribute named as a parameter would be checked as one."""
    for name in params:
        owners = [p for p in params if p != name and name in _gradient_attributes(p)]
        if owners:
            raise GradcheckError(
                f"params lists {name!r}, which is where {type(obj).__name__} keeps "
                f"the gradient of {owners[0]!r}, not a parameter; leave it out."
            )


def _detect_lr(obj: Any) -> str | None:
    for name in LR_ATTRIBUTES:
        value = getattr(obj, name, None)
        if isinstance(value, (int, float, np.floating)) and not isinstance(value, bool):
            return name
    return None


_RANDOM_STATE = (np.random.Generator, np.random.RandomState, np.random.BitGenerator)


@contextmanager
def _preserved(
    obj: Any, keep: Callable[[str], bool] = lambda _: False
) -> Iterator[None]:
    """Restore every attribute of ``obj`` (array data included) on exit.

    Attributes for which ``keep(name)`` holds are left as the call left them.
    """
    before = dict(vars(obj))
    saved = {
        name: value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)
        for name, value in before.items()
        if not keep(name)
    }
    try:
        yield
    finally:
        for name in [n for n in vars(obj) if n not in before and not keep(n)]:
            delattr(obj, name)
        for name, original in before.items():
            if keep(name):
                continue
            if isinstance(original, np.ndarray):
                original[...] = saved[name]
                setattr(obj, name, original)
            else:
                setattr(obj, name, copy.deepcopy(saved[name]))


@dataclass(frozen=True)
class _ObjectRunner:
    """Calls into an object-style layer, each on restored parameters.

    Between calls only the parameters, the learning rate and random
    generators are restored (the last so that a dropout mask is drawn alike
    for the forward and the backward). Everything else, gradient attributes
    (``dW``, ``grads``, ...) and private buffers included, carries over: a
    backward that adds to state it never clears must return a different
    gradient when called again, or the check could not see it. The session
    around a whole check restores everything.
    """

    obj: Any
    input_name: str
    params: tuple[str, ...]
    lr_attribute: str | None
    backward_takes_input: bool

    @property
    def owner(self) -> str:
        """The user's class name, for labels and messages."""
        return type(self.obj).__name__

    @contextmanager
    def session(self) -> Iterator[dict[str, Array]]:
        """Around a whole check: yield parameter copies, then restore everything."""
        with _preserved(self.obj):
            yield {n: np.array(getattr(self.obj, n), copy=True) for n in self.params}

    @contextmanager
    def loaded(self, inputs: Mapping[str, Any]) -> Iterator[None]:
        """Write the given parameter values into the object, in place."""
        with _preserved(self.obj, keep=self._carries_over):
            for name in self.params:
                target = getattr(self.obj, name)
                value = np.asarray(inputs[name])
                if value.shape != target.shape:
                    # NOTE: a ValueError, not GradcheckError: check_layer may probe
                    # whether a forward accepts stacked points, and this says no.
                    raise ValueError(
                        f"parameter {name!r} of {self.owner} has shape "
                        f"{target.shape}; got {value.shape}. Pin its sizes in the "
                        "signature or let the adapter fix them from the object."
                    )
                target[...] = value
            yield

    def _carries_over(self, name: str) -> bool:
        """Whether attribute ``name`` keeps what a call left in it."""
        if name in self.params or name == self.lr_attribute:
            return False
        return not isinstance(getattr(self.obj, name, None), _RANDOM_STATE)

    def forward(self, **inputs: Any) -> Any:
        with self.loaded(inputs):
            return np.array(self.obj.forward(inputs[self.input_name]), copy=True)

    def _backward(self, inputs: Mapping[str, Any]) -> Any:
        x, grad_output = inputs[self.input_name], inputs["grad_output"]
        self.obj.forward(x)
        for name in _ZERO_GRAD:
            zero = getattr(self.obj, name, None)
            if callable(zero):
                # NOTE: the training loop of such a layer clears its gradients
                # before each backward; without one, accumulation is a bug.
                zero()
                break
        if self.backward_takes_input:
            return self.obj.backward(x, grad_output)
        return self.obj.backward(grad_output)

    def grad_input(self, **inputs: Any) -> Any:
        with self.loaded(inputs):
            result = self._backward(inputs)
            first = result[0] if isinstance(result, (tuple, list)) else result
            return np.array(first, copy=True)

    def grad_param(self, name: str) -> GradFn:
        def grad(**inputs: Any) -> Any:
            with self.loaded(inputs):
                before = np.array(getattr(self.obj, name), dtype=np.float64)
                result = self._backward(inputs)
                gradient, rounding = self._recover(name, result, before)
                grad.gradcheck_rounding = rounding  # type: ignore[attr-defined]
                return gradient

        grad.__qualname__ = f"{self.owner}.backward[{name}]"
        return grad

    def named(self) -> tuple[GradFn, GradFn]:
        """The forward and the input's gradient, named after the user's class."""

        def forward(**inputs: Any) -> Any:
            return self.forward(**inputs)

        def backward(**inputs: Any) -> Any:
            return self.grad_input(**inputs)

        forward.__qualname__ = f"{self.owner}.forward"
        backward.__qualname__ = f"{self.owner}.backward"
        return forward, backward

    def _recover(
        self, name: str, result: Any, before: Array
    ) -> tuple[Any, Array | float]:
        """The gradient and its rounding: returned, stored, or undone from SGD."""
        if isinstance(result, (tuple, list)) and len(result) == 1 + len(self.params):
            return np.array(result[1 + self.params.index(name)], copy=True), 0.0
        shape = before.shape
        for attribute in _gradient_attributes(name):
            stored = getattr(self.obj, attribute, None)
            if isinstance(stored, np.ndarray) and stored.shape == shape:
                return stored.copy(), 0.0
        for attribute in _GRAD_DICTS:
            stored = getattr(self.obj, attribute, None)
            if isinstance(stored, Mapping) and name in stored:
                return np.array(stored[name], copy=True), 0.0
        gradient = self._undo_sgd(name, before)
        return gradient, self._recovery_rounding(name, before)

    def _recovery_rounding(self, name: str, before: Array) -> Array | float:
        """Rounding of a gradient undone from an SGD step.

        ``W_after`` is rounded to the spacing of ``W``, so the recovered
        ``(W_before - W_after) / lr`` carries up to that spacing over ``lr``:
        large weights and a small learning rate cost digits, and a step
        smaller than the spacing leaves ``W`` unchanged and reads as zero.
        The check reads it as the attribute ``gradcheck_rounding`` of the
        gradient function.
        """
        if self.lr_attribute is None:
            return 0.0
        lr = abs(float(getattr(self.obj, self.lr_attribute))) or 1.0
        after = np.asarray(getattr(self.obj, name), dtype=np.float64)
        dtype = np.asarray(getattr(self.obj, name)).dtype
        spacing = np.spacing(np.maximum(np.abs(before), np.abs(after)).astype(dtype))
        rounding: Array = 2.0 * spacing.astype(np.float64) / lr
        return rounding

    def _undo_sgd(self, name: str, before: Array) -> Any:
        after = np.asarray(getattr(self.obj, name), dtype=np.float64)
        if self.lr_attribute is not None:
            lr = float(getattr(self.obj, self.lr_attribute))
            # TODO: (W_before - W_after) / lr loses digits when lr * grad is tiny
            # next to W (declared through _recovery_rounding); a check that set
            # lr to 1 would lose none, but would change what a backward that
            # clips or schedules by lr computes.
            return ((before - after) / lr).astype(getattr(self.obj, name).dtype)
        changed = (
            "changed it in place"
            if not np.array_equal(before, after)
            else ("left it unchanged")
        )
        raise GradcheckError(
            f"{self.owner}.backward neither returned a gradient for "
            f"{name!r} nor stored one (as {', '.join(_gradient_attributes(name))} or "
            f"grads[{name!r}]), and {changed}. If backward applies an SGD step, give "
            f"the learning-rate attribute: lr_attribute='lr' (looked for "
            f"{', '.join(LR_ATTRIBUTES)})."
        )


def _input_name(obj: Any, params: Sequence[str]) -> str:
    names = _parameter_names(obj.forward)
    if len(names) != 1:
        raise GradcheckError(
            f"{type(obj).__name__}.forward takes {names}; object style expects one "
            "input: forward(input)."
        )
    if names[0] in params:
        raise GradcheckError(
            f"{type(obj).__name__}.forward's argument {names[0]!r} has the name of a "
            "parameter attribute; rename one of them."
        )
    return names[0]


def _pin_sides(signature: str | None, params: Mapping[str, Array]) -> dict[str, int]:
    """Sizes of the signature's dimensions that the parameters already fix."""
    if not signature:
        return {}
    from .strategies import parse_signature

    groups = parse_signature(signature)[0][1:]
    fixed: dict[str, int] = {}
    for dims, value in zip(groups, params.values(), strict=False):
        if len(dims) != value.ndim:
            raise GradcheckError(
                f"signature {signature!r} gives a parameter dims {dims}, but it has "
                f"shape {value.shape}; list the parameters in attribute order."
            )
        fixed.update({d: n for d, n in zip(dims, value.shape, strict=True)})
    return fixed


def from_object(
    obj: Any,
    *,
    params: Sequence[str] | None = None,
    lr_attribute: str | None = None,
    **fields: Any,
) -> Layer:
    """Style 3: an object with ``forward(input)`` and ``backward(...)``.

    Parameters
    ----------
    obj : object
        Its parameters are float array attributes; ``backward(input,
        grad_output)`` (or ``backward(grad_output)``) returns the gradient of
        the input, optionally followed by the parameter gradients in
        ``params`` order.
    params : sequence of str, optional
        Parameter attribute names; by default every public float array
        attribute that does not look like a gradient (``dW`` beside a ``W``,
        ``grad_W``, ``W_grad``, ...). A gradient attribute of another listed
        parameter is refused.
    lr_attribute : str, optional
        Attribute holding the learning rate of an SGD step applied inside
        ``backward``; detected among ``LR_ATTRIBUTES`` when omitted.
    **fields
        Further :class:`Layer` fields; ``signature`` lists the input first,
        then the parameters, e.g. ``"(n,i),(i,o),(o)->(n,o)"``.
    """
    names = tuple(params) if params is not None else _detect_parameters(obj)
    _refuse_gradient_params(obj, names)
    state = {name: np.array(getattr(obj, name), copy=True) for name in names}
    backward_args = _parameter_names(obj.backward)
    runner = _ObjectRunner(
        obj=obj,
        input_name=_input_name(obj, names),
        params=names,
        lr_attribute=lr_attribute or _detect_lr(obj),
        backward_takes_input=len(backward_args) >= 2,
    )
    fields.setdefault("name", runner.owner)
    fields.setdefault("signature", getattr(obj, "signature", None))
    fields.setdefault("label", f"{runner.owner}.backward")
    forward, grad_input = runner.named()
    grads = {runner.input_name: grad_input}
    grads.update({name: runner.grad_param(name) for name in names})
    return Layer(
        forward=forward,
        grads=grads,
        input_names=(runner.input_name, *names),
        style="object",
        fixed_sides=_pin_sides(fields["signature"], state),
        defaults=state,
        session=runner.session,
        **fields,
    )


def _from_spec(spec: LayerSpec, fields: dict[str, Any]) -> Layer:
    base = Layer(
        name=spec.name,
        forward=spec.forward,
        grads=dict(spec.grads),
        input_names=tuple(spec.input_names),
        style="spec",
        signature=spec.signature,
        index_inputs=dict(spec.index_inputs),
        min_side=dict(spec.min_side),
        nonsmooth=spec.nonsmooth,
    )
    return replace(base, **fields)


def _siblings(fn: Callable[..., Any]) -> tuple[str, ModuleType | None]:
    """The name stem of a forward function and the module it lives in."""
    name = _name_of(fn)
    stem = name[: -len("forward")] if name.endswith("forward") else f"{name}_"
    return stem, inspect.getmodule(fn)


def _from_function(fn: Callable[..., Any], options: dict[str, Any]) -> Layer:
    """A lone forward: find its backward or its grad functions beside it."""
    stem, module = _siblings(fn)
    backward = getattr(module, f"{stem}backward", None) if module else None
    if callable(backward):
        return from_cache_functions(fn, backward, **options)
    grads = {}
    for arg in _parameter_names(fn):
        for suffix in {arg, arg.rsplit("_", 1)[-1]}:
            candidate = (
                getattr(module, f"{stem}grad_{suffix}", None) if module else None
            )
            if callable(candidate) and arg not in grads:
                grads[arg] = candidate
    if grads:
        return from_functions(fn, grads, **options)
    raise GradcheckError(
        f"{_name_of(fn)} alone is not a layer: pass grads={{input: fn}} (named "
        f"arguments) or backward=fn (cache style), or define {stem}backward or "
        f"{stem}grad_<input> functions next to it."
    )


def _describe_methods(obj: Any) -> str:
    methods = [
        n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n))
    ]
    return ", ".join(methods[:12]) or "none"


def as_layer(layer: Any, **options: Any) -> Layer:
    """Detect a layer's style and return it in the canonical form.

    Parameters
    ----------
    layer
        One of: a :class:`Layer` or ``LayerSpec``; a ``(forward, grads_dict)``
        pair (named arguments); a ``(forward, backward)`` pair (cache style); a
        forward function whose module also holds ``<stem>backward`` or
        ``<stem>grad_<input>`` functions; a module with ``forward`` and
        ``backward``; or an object (or zero-argument class) with ``forward``
        and ``backward`` methods.
    **options
        ``grads=`` or ``backward=`` for a lone forward, ``params=`` and
        ``lr_attribute=`` for objects, and :class:`Layer` fields such as
        ``signature``, ``index_inputs`` or ``nonsmooth``.

    Raises
    ------
    GradcheckError
        If the style is not recognised; the message lists what was expected.
    """
    grads, backward = options.pop("grads", None), options.pop("backward", None)
    if isinstance(layer, Layer):
        return replace(layer, **options)
    if isinstance(layer, LayerSpec):
        return _from_spec(layer, options)
    if isinstance(layer, tuple) and len(layer) == 2 and callable(layer[0]):
        if isinstance(layer[1], Mapping):
            return from_functions(layer[0], layer[1], **options)
        return from_cache_functions(layer[0], layer[1], **options)
    if inspect.isroutine(layer) or isinstance(layer, (np.ufunc, functools.partial)):
        if grads is not None:
            return from_functions(layer, grads, **options)
        if backward is not None:
            return from_cache_functions(layer, backward, **options)
        return _from_function(layer, options)
    if inspect.ismodule(layer) and callable(getattr(layer, "forward", None)):
        return _from_function(layer.forward, options)
    if inspect.isclass(layer):
        layer = _instantiate(layer)
    if callable(getattr(layer, "forward", None)) and callable(
        getattr(layer, "backward", None)
    ):
        return from_object(layer, **options)
    raise GradcheckError(
        f"{type(layer).__name__} {_name_of(layer)!r} is not a layer gradcheck knows: "
        f"expected {_EXPECTED_OBJECT}, a (forward, grads) or (forward, backward) "
        f"pair, or a LayerSpec. It has: {_describe_methods(layer)}."
    )


def _instantiate(cls: type) -> Any:
    try:
        return cls()
    except TypeError as error:
        raise GradcheckError(
            f"{cls.__name__} is a class that needs arguments ({error}); pass an "
            f"instance, e.g. {cls.__name__}(4, 3), or name one in your layers file."
        ) from None


def resolve_layer(target: str, **options: Any) -> Layer:
    """Import ``"package.module:name"`` and adapt it with :func:`as_layer`.

    Text after the name, separated by whitespace, is the gufunc signature:
    ``"mylayers:Dense (n,i),(i,o),(o)->(n,o)"``.
    """
    spec, _, signature = target.strip().partition(" ")
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise GradcheckError(
            f"layer {target!r} must be written module:name, e.g. mylayers:Dense."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise GradcheckError(
            f"cannot import {module_name!r} for {target!r}: {error}"
        ) from None
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise GradcheckError(f"{module_name!r} has no attribute {attribute!r}.")
        obj = getattr(obj, part)
    if signature.strip():
        options.setdefault("signature", signature.strip())
    options.setdefault("name", spec)
    return as_layer(obj, **options)
