"""Fast mode: random projections catch every mutant and localise on failure."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck.errors import GradcheckError
from gradcheck.layers import REFERENCE_LAYERS, example_inputs
from gradcheck.mutants import MUTANTS

# The number of directions at which fast mode is claimed to catch every
# mutant of the catalogue (float64, generic example inputs).
DIRECTIONS = 1
DENSE = REFERENCE_LAYERS["dense"]


def mutant_id(mutant):
    return f"{mutant.layer}:{mutant.name}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=mutant_id)
def test_fast_mode_fails_every_mutant(mutant):
    spec = REFERENCE_LAYERS[mutant.layer]
    grads = {**spec.grads, **mutant.grads}
    report = gradcheck.check_layer(
        spec.forward,
        grads,
        example_inputs(mutant.layer, seed=1),
        seed=1,
        mode="fast",
        n_directions=DIRECTIONS,
    )
    assert report.status == "fail", mutant.description


@pytest.mark.parametrize("name", sorted(REFERENCE_LAYERS))
@pytest.mark.parametrize("seed", [0, 1])
def test_fast_mode_passes_every_reference_layer(name, seed):
    spec = REFERENCE_LAYERS[name]
    report = gradcheck.check_layer(
        spec.forward,
        spec.grads,
        example_inputs(name, seed=seed),
        seed=seed,
        mode="fast",
    )
    assert report.status == "pass", str(report)
    assert report.method.startswith("fast: 2 random projection")


def test_a_failure_is_localised_by_the_full_check():
    wrong = dict(DENSE.grads)
    good_b = DENSE.grads["b"]

    def one_wrong_element(**kwargs):
        grad = good_b(**kwargs).copy()
        grad[2] += 0.5
        return grad

    wrong["b"] = one_wrong_element
    report = gradcheck.check_layer(
        DENSE.forward, wrong, example_inputs("dense"), seed=0, mode="fast"
    )
    block = report.blocks["b"]
    assert report.status == "fail"
    assert block.worst_index == (2,)
    assert block.numeric is not None
    assert "fast mode: projection" in block.message
    assert report.blocks["W"].status == "pass"


def test_a_large_input_does_not_hide_a_wrong_small_one():
    rng = np.random.default_rng(0)
    inputs = {
        "x_input": 100.0 * rng.standard_normal((6, 40)),
        "W": 100.0 * rng.standard_normal((40, 30)),
        "b": 1e-3 * rng.standard_normal(30),
    }
    grads = dict(DENSE.grads)
    grads["b"] = lambda **kw: DENSE.grads["b"](**kw) * (1 + 1e-5)
    report = gradcheck.check_layer(DENSE.forward, grads, inputs, seed=0, mode="fast")
    assert report.blocks["b"].status == "fail"
    assert report.blocks["W"].status == "pass"


def test_passing_blocks_say_what_was_compared():
    report = gradcheck.check_layer(
        DENSE.forward,
        DENSE.grads,
        example_inputs("dense"),
        seed=0,
        mode="fast",
        n_directions=3,
    )
    block = report.blocks["x_input"]
    assert block.numeric is None
    assert "3 random projection(s)" in block.message
    assert report.cross_checks == []


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "quick"},
        {"n_directions": 0},
        {"n_directions": 1.5},
        {"method": "magic"},
        {"precision": "double"},
    ],
)
def test_bad_options_are_refused(options):
    with pytest.raises(GradcheckError):
        gradcheck.check_layer(
            DENSE.forward, DENSE.grads, example_inputs("dense"), **options
        )
