"""The table of gradcheck's pytest options, shared by the plugin and its docs.

Each option exists as ``--gradcheck-<name>`` on the command line and as the ini
key ``gradcheck_<name>``; the command line wins. The same names are the
keywords the ``gradcheck`` marker accepts (except ``layers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["MARKER_KEYWORDS", "OPTIONS", "OptionSpec", "parse_value"]


@dataclass(frozen=True)
class OptionSpec:
    """One option: its name, value kind, help text and ini type."""

    name: str
    kind: str
    help: str
    ini_type: Literal["string", "linelist"] = "string"

    @property
    def flag(self) -> str:
        """The command-line flag, e.g. ``--gradcheck-max-magnitude``."""
        return "--gradcheck-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        """The ini key, e.g. ``gradcheck_max_magnitude``."""
        return f"gradcheck_{self.name}"


OPTIONS = (
    OptionSpec(
        "layers",
        "targets",
        "layer to run the bundled gradient property on, as module:name with an "
        "optional signature after a space; repeatable",
        ini_type="linelist",
    ),
    OptionSpec("losses", "names", "comma-separated bundled losses to draw from"),
    OptionSpec("dtypes", "names", "comma-separated dtypes: float64,float32"),
    OptionSpec("max_magnitude", "float", "largest absolute input value drawn"),
    OptionSpec("max_examples", "int", "hypothesis examples per layer property"),
    OptionSpec("rtol", "float", "relative tolerance (default: per dtype)"),
)

MARKER_KEYWORDS = frozenset(
    {
        "losses",
        "dtypes",
        "max_magnitude",
        "max_side",
        "avoid_kinks",
        "rtol",
        "atol",
        "max_examples",
    }
)


def parse_value(spec: OptionSpec, raw: Any) -> Any:
    """Turn a command-line or ini value into the option's Python value.

    Raises
    ------
    ValueError
        Naming the option and the bad value.
    """
    if raw is None or raw == "" or raw == []:
        return None
    try:
        if spec.kind == "float":
            return float(raw)
        if spec.kind == "int":
            return int(raw)
        if spec.kind == "names":
            return tuple(part.strip() for part in str(raw).split(",") if part.strip())
        return tuple(str(line).strip() for line in raw if str(line).strip())
    except ValueError:
        raise ValueError(f"{spec.flag} / {spec.ini}: cannot read {raw!r}") from None
