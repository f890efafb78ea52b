"""Command line: ``python -m gradcheck`` and ``gradcheck check FILE.py:NAME``.

Exit status: 0 pass, 1 fail, 3 inconclusive, 2 usage error or bad input.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .check import check_layer
from .errors import GradcheckError, GradcheckWarning
from .layers import dense_forward, dense_grad_b, dense_grad_input, dense_grad_W
from .losses import BUNDLED_LOSSES
from .report import Report
from .seed import load_seed

__all__ = ["main"]

EXIT_CODES = {"pass": 0, "fail": 1, "inconclusive": 3}
USAGE_ERROR = 2
SEED_SIGNATURE = ("x_input", "grad_output", "W", "b")


class UsageError(Exception):
    """Bad command-line input: one clear line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    np.set_printoptions(precision=8, suppress=True, linewidth=100)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GradcheckWarning)
            status = _run_check(args) if args.command == "check" else _run_seed(args)
    except (UsageError, GradcheckError) as error:
        print(f"gradcheck: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    _print_warnings(caught)
    return status


def _emit(text: object = "") -> None:
    """Print to stdout; if the reader has gone (``| head``), stay quiet."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # NOTE: point stdout at devnull so the interpreter's final flush
        # does not raise again; the exit status still carries the verdict.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Print each of gradcheck's warnings as one line on stderr."""
    for record in caught:
        if issubclass(record.category, GradcheckWarning):
            print(f"gradcheck: warning: {record.message}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Check a layer's backward pass against finite differences. "
        "With no command: check the bundled dense layer on the seed's arrays.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the loss")
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser(
        "check",
        help="check a user's function, e.g. student.py:dense_grad_input",
        description="Check FILE.py:NAME, a function with the seed's signature "
        "(x_input, grad_output, W, b) -> gradient w.r.t. x_input.",
    )
    check.add_argument("target", metavar="FILE.py:NAME")
    check.add_argument("--inputs", metavar="FILE.npz", help="arrays x_input, W, b")
    check.add_argument("--loss", choices=sorted(BUNDLED_LOSSES), default=None)
    check.add_argument("--json", action="store_true", help="print JSON only")
    check.add_argument("--seed", type=int, default=0, help="seed of the loss")
    return parser


def _run_seed(args: argparse.Namespace) -> int:
    """The main job: the reference dense layer on the seed's arrays."""
    seed = load_seed()
    grad_input = dense_grad_input(**seed.inputs, grad_output=seed.grad_output)
    deviation = float(np.max(np.abs(grad_input - seed.expected["grad_input"])))
    report = check_layer(
        dense_forward,
        {"x_input": dense_grad_input, "W": dense_grad_W, "b": dense_grad_b},
        seed.inputs,
        seed=args.seed,
    )
    if args.json:
        summary = report.to_dict() | {"grad_input": grad_input.tolist()}
        _emit(json.dumps(summary, indent=2))
    else:
        _emit(
            "The seed's dense layer y = x_input @ W + b "
            f"(x_input {seed.inputs['x_input'].shape}, W {seed.inputs['W'].shape})."
        )
        _emit("grad_input = grad_output @ W.T for the seed's grad_output:")
        _emit(grad_input)
        _emit(
            f"largest difference from the seed's expected grad_input: {deviation:.1e}"
        )
        _emit()
        _emit(report)
    return EXIT_CODES[report.status]


def _run_check(args: argparse.Namespace) -> int:
    """Check a user's gradient function on the seed's arrays or on ``--inputs``."""
    function = _load_target(args.target)
    inputs = _load_inputs(args.inputs) if args.inputs else load_seed().inputs
    _require_dense_shapes(inputs)
    report = check_layer(
        dense_forward, {"x_input": function}, inputs, loss=args.loss, seed=args.seed
    )
    _print_report(report, args.json)
    return EXIT_CODES[report.status]


def _print_report(report: Report, as_json: bool) -> None:
    _emit(json.dumps(report.to_dict(), indent=2) if as_json else report)


def _load_target(target: str) -> Callable[..., Any]:
    """Import ``FILE.py:NAME`` and return a function with the seed's signature."""
    path_text, _, name = target.rpartition(":")
    if not path_text or not name:
        raise UsageError(f"expected FILE.py:NAME, got {target!r}")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    module = _import_file(path)
    if not hasattr(module, name):
        found = ", ".join(n for n in vars(module) if not n.startswith("_")) or "none"
        raise UsageError(f"{path} defines no {name!r} (it defines: {found})")
    function = getattr(module, name)
    _require_seed_signature(function, target)
    return function  # type: ignore[no-any-return]


def _import_file(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_gradcheck_user_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{path} is not a Python file that can be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - any import failure is the user's
        raise UsageError(
            f"importing {path} failed: {type(error).__name__}: {error}"
        ) from None
    return module


def _require_seed_signature(function: object, target: str) -> None:
    if not callable(function):
        raise UsageError(f"{target} is a {type(function).__name__}, not a function")
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return
    missing = [name for name in SEED_SIGNATURE if name not in parameters]
    if missing:
        raise UsageError(
            f"{target} must take (x_input, grad_output, W, b); it lacks "
            f"{', '.join(missing)}"
        )


def _load_inputs(path_text: str) -> dict[str, np.ndarray]:
    path = Path(path_text)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError):
        raise UsageError(
            f"cannot read {path} as an .npz archive of arrays; write one with "
            "numpy.savez(path, x_input=..., W=..., b=...)"
        ) from None
    missing = [name for name in ("x_input", "W", "b") if name not in arrays]
    if missing:
        raise UsageError(f"{path} lacks the array(s) {', '.join(missing)}")
    return {name: arrays[name] for name in ("x_input", "W", "b")}


def _require_dense_shapes(inputs: dict[str, np.ndarray]) -> None:
    x_input, weights, bias = inputs["x_input"], inputs["W"], inputs["b"]
    if x_input.ndim != 2 or weights.ndim != 2 or bias.ndim != 1:
        raise UsageError(
            f"expected x_input (n, n_in), W (n_in, n_out), b (n_out,); got "
            f"{x_input.shape}, {weights.shape}, {bias.shape}"
        )
    if x_input.shape[1] != weights.shape[0] or weights.shape[1] != bias.shape[0]:
        raise UsageError(
            f"shapes do not fit y = x_input @ W + b: x_input {x_input.shape}, "
            f"W {weights.shape}, b {bias.shape}"
        )
