"""The bundled property: every reference layer passes, every mutant fails.

"Passes" means no drawn case fails (inconclusive draws, where nothing could be
compared, are rejected); inputs are drawn away from kinks and ties. "Fails"
means hypothesis finds at least one failing case, blamed on a mutated input.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from gradcheck.adapters import as_layer
from gradcheck.layers import REFERENCE_LAYERS
from gradcheck.mutants import MUTANTS
from gradcheck.strategies import Case, layer_cases
from gradcheck.testing import check_case

LAYERS = sorted(REFERENCE_LAYERS)
DTYPES = ["float64", "float32"]
MUTANT_IDS = [f"{m.layer}:{m.name}" for m in MUTANTS]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", LAYERS)
def test_reference_layer_obeys_the_chain_rule(name, dtype):
    layer = as_layer(REFERENCE_LAYERS[name])

    @settings(suppress_health_check=[HealthCheck.filter_too_much])
    @given(case=layer_cases(layer, dtype=dtype))
    def chain_rule_holds(case: Case) -> None:
        check_case(layer, case)

    chain_rule_holds()


def _fails(layer, case: Case) -> bool:
    report = layer.check(case.inputs, loss=case.loss, seed=case.seed)
    return report.status == "fail"


@pytest.mark.parametrize("mutant", MUTANTS, ids=MUTANT_IDS)
def test_mutant_breaks_the_chain_rule(mutant):
    spec = REFERENCE_LAYERS[mutant.layer]
    layer = as_layer(spec)
    wrong = replace(layer, grads={**spec.grads, **mutant.grads})
    dtype = "float64" if mutant.name.endswith("1e-6") else None

    # A catch is a case where the mutant fails and the reference does not.
    found = find(
        layer_cases(wrong, dtype=dtype),
        lambda case: _fails(wrong, case) and not _fails(layer, case),
        settings=settings(
            max_examples=300, phases=[Phase.generate], database=None, derandomize=True
        ),
    )

    report = wrong.check(found.inputs, loss=found.loss, seed=found.seed)
    failing = {n for n, block in report.blocks.items() if block.status == "fail"}
    assert failing and failing <= set(mutant.grads), str(report)


MINIMAL_FALSE_FAILURES = [
    ("tanh", "weighted-sum", {"x": np.array([[0.0, 100.0]])}),
    (
        "softmax",
        "softmax-cross-entropy",
        {"x": np.array([[0.0, 0.0, 233.0, 233.0], [0.0, 0.0, 233.0, 233.0]])},
    ),
    (
        "batchnorm",
        "weighted-sum",
        {"x": np.zeros((2, 1)), "gamma": np.array([100.0]), "beta": np.zeros(1)},
    ),
    (
        "layernorm",
        "weighted-sum",
        {"x": np.zeros((1, 2)), "gamma": np.array([100.0, 100.0]), "beta": np.zeros(2)},
    ),
]


@pytest.mark.parametrize(("name", "loss", "inputs"), MINIMAL_FALSE_FAILURES)
def test_check_layer_passes_correct_layer_at_shrunk_example(name, loss, inputs):
    layer = as_layer(REFERENCE_LAYERS[name])

    report = layer.check(inputs, loss=loss, seed=0)

    assert report.status != "fail", str(report)
