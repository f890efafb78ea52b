"""One-line gradient tests for users' test files.

Two tools, for layers in any style :func:`gradcheck.adapters.as_layer` knows:

``assert_layer_gradients(layer, inputs)``
    checks at given inputs and raises :class:`~gradcheck.GradientMismatch`
    whose message is the report;
``layer_test(layer, signature)``
    returns a pytest test: hypothesis draws shapes, values, dtypes and
    losses, and on failure shrinks to a minimal example that the message
    shows. Assign it to a ``test_`` name::

        test_dense = layer_test(Dense(4, 3), "(n,i),(i,o),(o)->(n,o)")

The ``gradcheck`` pytest marker and the ``--gradcheck-*`` options (see
:mod:`gradcheck.pytest_plugin`) adjust what ``layer_test`` draws.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import event, given, reject, settings
from hypothesis.control import currently_in_test_context
from hypothesis.errors import FailedHealthCheck, Unsatisfiable

from . import strategies
from ._options import OPTIONS
from .adapters import Layer, as_layer
from .errors import GradcheckError, GradcheckWarning, GradientMismatch
from .report import Report

__all__ = [
    "MostlyInconclusive",
    "PropertyOptions",
    "assert_layer_gradients",
    "check_case",
    "layer_property",
    "layer_test",
]


@dataclass(frozen=True)
class PropertyOptions:
    """What a property test draws and how strictly it compares.

    ``losses`` and ``dtypes`` are names (``None`` for all bundled losses,
    float64 and float32); ``max_examples`` of ``None`` keeps the active
    hypothesis profile's.
    """

    losses: tuple[str, ...] | None = None
    dtypes: tuple[str, ...] = ("float64", "float32")
    max_magnitude: float = 1e3
    max_side: int | None = None
    avoid_kinks: bool = True
    rtol: float | None = None
    atol: float | None = None
    max_examples: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def merged(self, **changes: Any) -> PropertyOptions:
        """A copy with the given (non-``None``) fields replaced."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


class MostlyInconclusive(GradcheckError):
    """Most drawn cases were inconclusive, so the property proved nothing.

    The message says why (the codes of the rejected reports) and which
    options narrow what is drawn.
    """


@dataclass
class _Tally:
    """What the checks of one property run concluded."""

    conclusive: int = 0
    inconclusive: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    example: str = ""

    def reset(self) -> None:
        """Forget a previous run."""
        self.conclusive = self.inconclusive = 0
        self.codes.clear()
        self.example = ""

    def record(self, report: Report) -> None:
        """Count ``report``; keep the reason of the first inconclusive one."""
        if report.status != "inconclusive":
            self.conclusive += 1
            return
        self.inconclusive += 1
        blocks = [b for b in report.blocks.values() if b.status == "inconclusive"]
        self.codes.update({code for block in blocks for code in block.codes})
        if not self.example:
            self.example = _first_reason(report)

    def explain(self, name: str, options: PropertyOptions) -> str:
        """The message of :class:`MostlyInconclusive` for layer ``name``."""
        ran = self.conclusive + self.inconclusive
        codes = ", ".join(f"{c} ({n})" for c, n in self.codes.most_common(3))
        return "\n".join(
            [
                f"gradcheck INCONCLUSIVE: {name}: most drawn inputs were "
                f"inconclusive for this layer ({self.inconclusive} of {ran} checks; "
                "hypothesis gave up drawing more), so its gradients were not "
                "verified.",
                f"why: {codes or 'inputs were filtered while drawing'}"
                + (f"; e.g. {self.example}" if self.example else ""),
                f"drawn: {_drawn(options)}",
                "narrow the inputs: " + _narrowing_hints(options),
            ]
        )


def _first_reason(report: Report) -> str:
    """The message of the first inconclusive block of ``report``."""
    for name, block in report.blocks.items():
        if block.status == "inconclusive" and block.message:
            return f"{name}: {block.message}"
    return ""


def _drawn(options: PropertyOptions) -> str:
    losses = ", ".join(options.losses) if options.losses else "all bundled"
    return (
        f"losses {losses}; dtypes {', '.join(options.dtypes)}; "
        f"max magnitude {options.max_magnitude:g}"
    )


def _narrowing_hints(options: PropertyOptions) -> str:
    """Where to set the options that change what is drawn."""
    flags = {spec.name: spec for spec in OPTIONS}
    parts = [
        f"{flags[name].flag}=... (ini {flags[name].ini})"
        for name in ("max_magnitude", "losses", "dtypes")
    ]
    return (
        f"{'; '.join(parts)}; or per test @pytest.mark.gradcheck("
        "max_magnitude=10.0, losses=['weighted-sum']); for a kink or tie, pass "
        "the layer's nonsmooth= mask so drawn inputs avoid it."
    )


def _raise_or_reject(report: Report, context: str) -> Report:
    """Fail on a failing report; skip an inconclusive one inside hypothesis."""
    if report.status == "fail":
        raise GradientMismatch(f"{report}{context}")
    if report.status == "inconclusive":
        if currently_in_test_context():
            reject()
        warnings.warn(
            f"inconclusive gradient check, nothing was compared: "
            f"{str(report).splitlines()[0]}",
            GradcheckWarning,
            stacklevel=3,
        )
    return report


def assert_layer_gradients(
    layer: Any,
    inputs: Mapping[str, Any],
    *,
    loss: Any = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int | None = None,
    **adapter_options: Any,
) -> Report:
    """Assert that a layer's backward agrees with finite differences at ``inputs``.

    Parameters
    ----------
    layer
        Any style :func:`gradcheck.adapters.as_layer` recognises.
    inputs : dict of str to array
        The layer's inputs by name (an object's parameters included).
    loss, rtol, atol, seed
        As in :func:`gradcheck.check_layer`.
    **adapter_options
        Passed to :func:`~gradcheck.adapters.as_layer` (``grads=``,
        ``backward=``, ``lr_attribute=``, ...).

    Returns
    -------
    Report
        The passing (or, with a warning, inconclusive) report.

    Raises
    ------
    GradientMismatch
        If the check fails; the message is the full report. Inside a
        hypothesis test an inconclusive check rejects the example instead.
    """
    adapted = as_layer(layer, **adapter_options)
    report = adapted.check(inputs, loss=loss, rtol=rtol, atol=atol, seed=seed)
    return _raise_or_reject(report, "")


def check_case(
    layer: Layer,
    case: strategies.Case,
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> Report:
    """Check ``layer`` on a drawn :class:`~gradcheck.strategies.Case`.

    Raises :class:`~gradcheck.GradientMismatch` (message: report, then the
    inputs) on a failure, and rejects an inconclusive case.
    """
    report = _run_case(layer, case, rtol=rtol, atol=atol)
    return _raise_or_reject(report, f"\n\nminimal failing example: {case!r}")


def _run_case(
    layer: Layer,
    case: strategies.Case,
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> Report:
    """The report of ``layer`` on ``case``, whatever its verdict."""
    event(f"loss={case.loss if isinstance(case.loss, str) else 'user'}")
    event(f"dtype={case.dtype}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        return layer.check(
            case.inputs, loss=case.loss, rtol=rtol, atol=atol, seed=case.seed
        )


def layer_property(
    layer: Any, options: PropertyOptions | None = None
) -> Callable[[], None]:
    """The hypothesis test "the chain rule holds" for ``layer``, ready to call.

    Parameters
    ----------
    layer
        Any style :func:`gradcheck.adapters.as_layer` recognises.
    options : PropertyOptions, optional
        What to draw; adapter options go in ``options.extra``.

    Returns
    -------
    callable
        Runs the property. It raises :class:`~gradcheck.GradientMismatch` on
        a failing case, and :class:`MostlyInconclusive` when hypothesis gives
        up because most drawn cases were inconclusive.
    """
    options = options or PropertyOptions()
    adapted = as_layer(layer, **dict(options.extra))
    cases = strategies.layer_cases(
        adapted,
        loss=strategies.losses(names=options.losses),
        dtype=strategies.dtypes().filter(lambda d: d.name in options.dtypes)
        if set(options.dtypes) != {"float64", "float32"}
        else None,
        max_side=options.max_side,
        max_magnitude=options.max_magnitude,
        avoid_kinks=options.avoid_kinks,
    )

    tally = _Tally()

    def chain_rule_holds(case: strategies.Case) -> None:
        report = _run_case(adapted, case, rtol=options.rtol, atol=options.atol)
        tally.record(report)
        _raise_or_reject(report, f"\n\nminimal failing example: {case!r}")

    # NOTE: the name feeds hypothesis's database key, one per layer.
    safe = "".join(c if c.isalnum() else "_" for c in adapted.name)
    chain_rule_holds.__name__ = f"chain_rule_holds_{safe}"
    chain_rule_holds.__qualname__ = chain_rule_holds.__name__
    # NOTE: no deadline: a check evaluates the forward hundreds of times.
    chosen: dict[str, Any] = {"deadline": None}
    if options.max_examples is not None:
        chosen["max_examples"] = options.max_examples
    test = settings(**chosen)(given(case=cases)(chain_rule_holds))

    def run() -> None:
        tally.reset()
        try:
            test()
        except (FailedHealthCheck, Unsatisfiable):
            # NOTE: hypothesis gives up when it must discard most draws; a
            # health check for other reasons (too slow, too large) stays as is.
            if tally.inconclusive < max(1, tally.conclusive):
                raise
            message = tally.explain(adapted.name, options)
        else:
            return
        raise MostlyInconclusive(message)

    run.__name__ = run.__qualname__ = chain_rule_holds.__name__
    return run


def layer_test(
    layer: Any,
    signature: str | None = None,
    **options: Any,
) -> Callable[[Any], None]:
    """A pytest test function checking ``layer`` on hypothesis-drawn cases.

    Parameters
    ----------
    layer
        Any style :func:`gradcheck.adapters.as_layer` recognises.
    signature : str, optional
        Gufunc signature, one group per input (object style: the input,
        then the parameters), e.g. ``"(n,i),(i,o),(o)->(n,o)"``.
    **options
        :class:`PropertyOptions` fields (``losses``, ``dtypes``,
        ``max_magnitude``, ``rtol``, ...) and adapter options (``grads``,
        ``backward``, ``lr_attribute``, ``params``, ``nonsmooth``, ...).

    Returns
    -------
    callable
        ``test(request)``; a ``gradcheck`` marker on it and the plugin's
        options override ``options``.
    """
    fields = set(PropertyOptions.__dataclass_fields__) - {"extra"}
    chosen = {k: v for k, v in options.items() if k in fields}
    extra = {k: v for k, v in options.items() if k not in fields}
    if signature is not None:
        extra["signature"] = signature
    base = PropertyOptions(**_normalised(chosen), extra=extra)

    def test_layer_gradients(request: Any) -> None:
        import pytest

        from .pytest_plugin import options_for

        try:
            layer_property(layer, options_for(request, base))()
        except MostlyInconclusive as error:
            message = str(error)
        else:
            return
        pytest.fail(message, pytrace=False)

    return test_layer_gradients


def _normalised(options: Mapping[str, Any]) -> dict[str, Any]:
    """Lists become tuples, so options stay hashable and comparable."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
