"""Time gradient checks of dense layers: gradcheck against the usual tools.

Run from the repository root::

    python benchmarks/bench_dense.py            # the README table
    python benchmarks/bench_dense.py --quick    # two small sizes only

Every tool checks the same thing: the gradient w.r.t. ``x`` of the scalar
``L(x) = sum(G * (x @ W + b))`` for a float64 dense layer ``(n, n_in, n_out)``.
For each size the script prints the median time of each tool, its ratio to
gradcheck's full check measured in the same run, and the largest error of the
numeric gradient it computed, ``max|numeric - exact| / max|exact|``.

Tools whose full run would exceed ``--budget`` seconds (the per-element loop,
scipy's check_grad over all coordinates, torch's slow mode at the large sizes)
are timed on a random subset of input elements and extrapolated linearly to
all of them; those rows are marked ``~``. Pass ``--exact`` to run them in
full (minutes at (128, 512, 256)).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# One BLAS thread unless told otherwise: on a shared 2-core machine a threaded
# BLAS that waits for a busy core makes timings vary a hundredfold.
THREADS = os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", THREADS)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gradcheck  # noqa: E402
from gradcheck.layers import dense_forward, dense_grad_input  # noqa: E402

SIZES = [(5, 18, 5), (32, 64, 32), (64, 256, 128), (128, 512, 256)]
QUICK_SIZES = SIZES[:2]
MAX_REPS = 101
SUBSET = 256


@dataclass
class Case:
    """One dense layer and its exact gradient w.r.t. ``x``."""

    x: np.ndarray
    W: np.ndarray
    b: np.ndarray
    G: np.ndarray

    @classmethod
    def draw(cls, n: int, n_in: int, n_out: int, dtype: type = np.float64) -> Case:
        rng = np.random.default_rng(0)
        return cls(
            *(
                rng.standard_normal(shape).astype(dtype)
                for shape in [(n, n_in), (n_in, n_out), (n_out,), (n, n_out)]
            )
        )

    def loss(self, x: np.ndarray) -> float:
        return float(np.sum(self.G * (x @ self.W + self.b)))

    def exact(self) -> np.ndarray:
        return self.G @ self.W.T

    def error(self, numeric: np.ndarray, index: np.ndarray | None = None) -> float:
        exact = self.exact().reshape(-1)
        numeric = np.asarray(numeric, dtype=np.float64).reshape(-1)
        if index is not None:
            exact = exact[index]
        return float(np.max(np.abs(numeric - exact)) / np.max(np.abs(exact)))


@dataclass
class Row:
    """One tool's result at one size."""

    tool: str
    seconds: float
    error: float | None
    verdict: str
    extrapolated: bool = False


def median_time(fn: Callable[[], object], budget: float) -> tuple[float, object]:
    """Median wall time of ``fn``; a slow first call is the only one."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    if first > budget / 3:
        return first, result
    times: list[float] = []
    while sum(times) < budget and len(times) < MAX_REPS:
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run_gradcheck(case: Case, budget: float, label: str, **options: object) -> Row:
    inputs = {"x_input": case.x, "W": case.W, "b": case.b}

    def check() -> gradcheck.Report:
        return gradcheck.check_layer(
            dense_forward, {"x_input": dense_grad_input}, inputs, seed=0, **options
        )

    seconds, report = median_time(check, budget)
    block = report.blocks["x_input"]
    error = None
    if block.numeric is not None:
        analytic = np.asarray(block.analytic, dtype=np.float64)
        scale = np.max(np.abs(analytic))
        error = float(np.max(np.abs(block.numeric - analytic)) / scale)
    return Row(label, seconds, error, report.status)


def run_floor(case: Case, budget: float) -> Row:
    def forward_backward() -> np.ndarray:
        case.x @ case.W + case.b
        return case.G @ case.W.T

    seconds, _ = median_time(forward_backward, budget)
    return Row("one forward + backward", seconds, None, "-")


def naive_loop(case: Case, index: np.ndarray) -> np.ndarray:
    """Central differences, one element per pair of loss evaluations."""
    flat = case.x.reshape(-1).copy()
    result = np.empty(len(index))
    for k, i in enumerate(index):
        h = 1e-6 * max(1.0, abs(flat[i]))
        saved = flat[i]
        flat[i] = saved + h
        plus = case.loss(flat.reshape(case.x.shape))
        flat[i] = saved - h
        minus = case.loss(flat.reshape(case.x.shape))
        flat[i] = saved
        result[k] = (plus - minus) / (2 * h)
    return result


def scipy_all(case: Case, index: np.ndarray) -> float:
    """scipy.optimize.check_grad over the coordinates ``index``: relative error."""
    from scipy.optimize import check_grad

    flat = case.x.reshape(-1).copy()
    exact = case.exact().reshape(-1)[index]

    def func(values: np.ndarray) -> float:
        point = flat.copy()
        point[index] = values
        return case.loss(point.reshape(case.x.shape))

    error = check_grad(func, lambda values: exact, flat[index])
    return float(error / np.linalg.norm(exact))


def subset_or_all(
    case: Case, tool: Callable[[Case, np.ndarray], object], budget: float, exact: bool
) -> tuple[float, object, np.ndarray, bool]:
    """Time ``tool`` on all elements, or on a subset and extrapolate."""
    size = case.x.size
    everything = np.arange(size)
    if exact or size <= SUBSET:
        seconds, result = median_time(lambda: tool(case, everything), budget)
        return seconds, result, everything, False
    index = np.random.default_rng(1).choice(size, SUBSET, replace=False)
    seconds, result = median_time(lambda: tool(case, index), budget)
    predicted = seconds * size / SUBSET
    if predicted <= 10 * budget:
        seconds, result = median_time(lambda: tool(case, everything), budget)
        return seconds, result, everything, False
    return predicted, result, index, True


def run_loop(case: Case, budget: float, exact: bool) -> Row:
    seconds, numeric, index, guessed = subset_or_all(case, naive_loop, budget, exact)
    error = case.error(np.asarray(numeric), index)
    return Row("per-element numpy loop", seconds, error, "-", guessed)


def run_scipy(case: Case, budget: float, exact: bool) -> Row:
    seconds, error, _, guessed = subset_or_all(case, scipy_all, budget, exact)
    verdict = "pass" if float(error) < 1e-5 else "fail"
    return Row("scipy check_grad (all)", seconds, float(error), verdict, guessed)


def torch_rows(case: Case, budget: float, exact: bool) -> list[Row]:
    """torch.autograd.gradcheck in slow and fast mode, when torch is installed."""
    try:
        import torch
    except ImportError:
        return []
    torch.set_num_threads(int(THREADS))
    W, b, G = (torch.from_numpy(a) for a in (case.W, case.b, case.G))
    x_full = torch.from_numpy(case.x.copy()).reshape(-1)

    def slow(_: Case, index: np.ndarray) -> bool:
        where = torch.from_numpy(index)
        values = x_full[where].clone().requires_grad_(True)

        def loss(part: torch.Tensor) -> torch.Tensor:
            x = x_full.index_put((where,), part).reshape(case.x.shape)
            return (G * (x @ W + b)).sum()

        return bool(torch.autograd.gradcheck(loss, (values,), raise_exception=False))

    def fast() -> bool:
        x = torch.from_numpy(case.x.copy()).requires_grad_(True)
        return bool(
            torch.autograd.gradcheck(
                lambda x: (G * (x @ W + b)).sum(),
                (x,),
                fast_mode=True,
                raise_exception=False,
            )
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slow(case, np.arange(2))
        seconds, passed, _, guessed = subset_or_all(case, slow, budget, exact)
        fast_seconds, fast_passed = median_time(fast, budget)
    return [
        Row("torch gradcheck slow", seconds, None, _verdict(passed), guessed),
        Row("torch gradcheck fast", fast_seconds, None, _verdict(fast_passed)),
    ]


def _verdict(passed: object) -> str:
    return "pass" if passed else "fail"


def rows_for(case: Case, budget: float, exact: bool) -> list[Row]:
    rows = [
        run_gradcheck(case, budget, "gradcheck full (auto)"),
        run_gradcheck(
            case, budget, "gradcheck coloured loop", method="coloured", batched=False
        ),
        run_gradcheck(case, budget, "gradcheck fast", mode="fast"),
        run_gradcheck(case, budget, "gradcheck complex step", precision="complex-step"),
        run_scipy(case, budget, exact),
        run_loop(case, budget, exact),
        *torch_rows(case, budget, exact),
        run_floor(case, budget),
    ]
    return rows


def format_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def print_table(size: tuple[int, int, int], rows: list[Row]) -> None:
    reference = rows[0].seconds
    print(f"\n### dense {size}, float64, gradient w.r.t. x")
    print("| tool | median time | × gradcheck full | max rel error | verdict |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        mark = "~" if row.extrapolated else ""
        error = "-" if row.error is None else f"{row.error:.1e}"
        print(
            f"| {row.tool} | {mark}{format_time(row.seconds)} | "
            f"{mark}{row.seconds / reference:.2f} | {error} | {row.verdict} |"
        )


def float32_verdicts() -> None:
    """A correct float32 dense layer at (64, 256, 128): whose check passes it?"""
    case = Case.draw(64, 256, 128, np.float32)
    inputs = {"x_input": case.x, "W": case.W, "b": case.b}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = gradcheck.check_layer(
            dense_forward, {"x_input": dense_grad_input}, inputs, seed=0
        )
    print("\n### correct float32 dense (64, 256, 128)")
    print(f"gradcheck full: {report.status} (max rel error {report.max_rel_error:.1e})")
    try:
        import torch
    except ImportError:
        print("torch not installed: skipped")
        return
    W, b, G = (torch.from_numpy(a) for a in (case.W, case.b, case.G))
    x = torch.from_numpy(case.x.copy()).requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fast in (True, False):
            try:
                torch.autograd.gradcheck(
                    lambda x: (G * (x @ W + b)).sum(), (x,), fast_mode=fast
                )
                verdict = "pass"
            except Exception as error:  # noqa: BLE001 - torch's mismatch error
                verdict = f"fail ({str(error).splitlines()[0][:60]})"
            print(f"torch gradcheck {'fast' if fast else 'slow'}: {verdict}")


def peak_memory_of_full_check(size: tuple[int, int, int]) -> float:
    """Peak RSS in MB of a fresh process that runs one full check."""
    code = (
        "import resource, numpy as np, gradcheck\n"
        "from gradcheck.layers import dense_forward, dense_grad_input\n"
        f"n, i, o = {size}\n"
        "r = np.random.default_rng(0)\n"
        "inputs = {'x_input': r.standard_normal((n, i)),\n"
        "          'W': r.standard_normal((i, o)), 'b': r.standard_normal(o)}\n"
        "gradcheck.check_layer(dense_forward, {'x_input': dense_grad_input},\n"
        "                      inputs, seed=0)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root
    )
    return float(result.stdout.strip() or "nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per tool")
    parser.add_argument("--exact", action="store_true", help="never extrapolate")
    arguments = parser.parse_args()

    sizes = QUICK_SIZES if arguments.quick else SIZES
    for size in sizes:
        rows = rows_for(Case.draw(*size), arguments.budget, arguments.exact)
        print_table(size, rows)
    if not arguments.quick:
        float32_verdicts()
        peak = peak_memory_of_full_check(SIZES[-1])
        print(f"\npeak RSS of a full check of {SIZES[-1]}: {peak:.0f} MB")
    print(
        f"\nnumpy {np.__version__}, {_torch_version()}, {sys.platform}, "
        f"{THREADS} BLAS thread(s), {os.cpu_count()} cores"
    )


def _torch_version() -> str:
    try:
        import torch
    except ImportError:
        return "torch not installed"
    return f"torch {torch.__version__}"


if __name__ == "__main__":
    main()
