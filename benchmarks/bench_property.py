"""Time hypothesis examples of the dense property (all dimensions at most 8).

Run from the repository root::

    python benchmarks/bench_property.py              # 10,000 examples
    python benchmarks/bench_property.py --examples 1000

Each example draws shapes, values, a dtype and a loss, and runs a full
``check_layer`` of the reference dense layer on all three inputs (through
``gradcheck.testing.layer_property``). Prints the wall time and the time per
example.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, settings  # noqa: E402

from gradcheck.layers import REFERENCE_LAYERS  # noqa: E402
from gradcheck.testing import PropertyOptions, layer_property  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--max-side", type=int, default=8)
    parser.add_argument(
        "--dtypes", default="float64", help="comma-separated: float64,float32"
    )
    arguments = parser.parse_args()

    settings.register_profile(
        "bench", database=None, suppress_health_check=list(HealthCheck)
    )
    settings.load_profile("bench")
    options = PropertyOptions(
        max_side=arguments.max_side,
        max_examples=arguments.examples,
        dtypes=tuple(arguments.dtypes.split(",")),
    )
    test = layer_property(REFERENCE_LAYERS["dense"], options)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test()
    seconds = time.perf_counter() - start
    print(
        f"{arguments.examples} examples of the dense property (sides <= "
        f"{arguments.max_side}, {arguments.dtypes}): {seconds:.1f} s, "
        f"{seconds / arguments.examples * 1e3:.2f} ms per example"
    )


if __name__ == "__main__":
    main()
