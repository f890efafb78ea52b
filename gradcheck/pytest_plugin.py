"""The gradcheck pytest plugin, registered through the ``pytest11`` entry point.

- ``--gradcheck-layers`` / ini ``gradcheck_layers``: layers (``module:name``)
  to run the bundled gradient property on; each becomes a test item;
- ``--gradcheck-losses``, ``--gradcheck-dtypes``, ``--gradcheck-max-magnitude``,
  ``--gradcheck-max-examples``, ``--gradcheck-rtol`` and their ini keys;
- the ``gradcheck(...)`` marker, whose keywords override those per test.

Only pytest and the option table are imported at load time; the package's
checks are imported when a gradcheck test runs.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from ._options import MARKER_KEYWORDS, OPTIONS, parse_value

__all__ = ["GradcheckItem", "options_for"]

SETTINGS_KEY = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--gradcheck-*`` options and their ini keys."""
    group = parser.getgroup("gradcheck", "gradient checks of user layers")
    for spec in OPTIONS:
        action = "append" if spec.kind == "targets" else "store"
        group.addoption(spec.flag, action=action, dest=spec.ini, help=spec.help)
        parser.addini(spec.ini, spec.help, type=spec.ini_type)


def _session_settings(config: pytest.Config) -> dict[str, Any]:
    """Each option from the command line, else the ini file; unset ones dropped."""
    chosen = {}
    for spec in OPTIONS:
        raw = config.getoption(spec.ini) or config.getini(spec.ini)
        try:
            value = parse_value(spec, raw)
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None
        if value is not None:
            chosen[spec.name] = value
    return chosen


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and keep the session settings in ``config.stash``."""
    keywords = ", ".join(sorted(MARKER_KEYWORDS))
    config.addinivalue_line(
        "markers", f"gradcheck({keywords}): per-test settings of gradient properties"
    )
    config.stash[SETTINGS_KEY] = _session_settings(config)


def pytest_report_header(config: pytest.Config) -> str | None:
    """Name the layers and settings in effect, when there are any."""
    chosen = config.stash.get(SETTINGS_KEY, {})
    if not chosen:
        return None
    parts = [
        f"{k}={','.join(v) if isinstance(v, tuple) else v}" for k, v in chosen.items()
    ]
    return "gradcheck: " + "; ".join(parts)


def _marker_settings(node: Any) -> dict[str, Any]:
    """Keywords of the ``gradcheck`` markers on ``node``, closest first."""
    chosen: dict[str, Any] = {}
    for marker in node.iter_markers("gradcheck"):
        unknown = set(marker.kwargs) - MARKER_KEYWORDS
        if marker.args or unknown:
            allowed = ", ".join(sorted(MARKER_KEYWORDS))
            raise pytest.UsageError(
                f"{node.nodeid}: gradcheck marker takes keywords only, among "
                f"{allowed}; got {sorted(unknown) or list(marker.args)}"
            )
        for key, value in marker.kwargs.items():
            chosen.setdefault(key, value)
    return chosen


def options_for(request: Any, base: Any) -> Any:
    """``base`` (a ``PropertyOptions``) with the session, then marker settings."""
    session = dict(request.config.stash.get(SETTINGS_KEY, {}))
    session.pop("layers", None)
    marker = _marker_settings(request.node)
    return base.merged(**_tupled({**session, **marker}))


def _tupled(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}


class GradcheckItem(pytest.Item):
    """The bundled gradient property, run on one layer named in the options."""

    def __init__(self, *, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def runtest(self) -> None:
        """Resolve the layer and run its chain-rule property."""
        from .adapters import resolve_layer
        from .testing import PropertyOptions, layer_property

        root = str(self.config.rootpath)
        if root not in sys.path:
            sys.path.insert(0, root)
        stored = self.config.stash.get(SETTINGS_KEY, None)
        settings: dict[str, Any] = dict(stored) if stored else {}
        settings.pop("layers", None)
        options = PropertyOptions().merged(**_marker_settings(self), **settings)
        layer_property(resolve_layer(self.target), options)()

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        """The report and hypothesis's minimal example, without a traceback."""
        from .errors import GradcheckError, GradientMismatch

        if isinstance(excinfo.value, (GradientMismatch, GradcheckError)):
            notes = getattr(excinfo.value, "__notes__", [])
            return "\n".join([str(excinfo.value), *notes])
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        """Where the layer was named, and the test's name."""
        return str(self.config.inipath or self.config.rootpath), None, self.name


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append one gradient-property item per configured layer."""
    for target in config.stash.get(SETTINGS_KEY, {}).get("layers", ()):
        name = f"gradcheck[{target.split()[0]}]"
        items.append(GradcheckItem.from_parent(session, name=name, target=target))
