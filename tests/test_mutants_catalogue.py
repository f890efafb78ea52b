"""The mutant catalogue is complete, and every mutant is really wrong."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import gradcheck
from gradcheck.layers import REFERENCE_LAYERS
from gradcheck.layers.examples import example_inputs
from gradcheck.mutants import MUTANTS, mutants_of

MUTANT_IDS = [f"{m.layer}:{m.name}" for m in MUTANTS]


def _upstream(layer: str, inputs: dict, seed: int = 7) -> np.ndarray:
    """A generic upstream gradient of the layer's output shape."""
    output = REFERENCE_LAYERS[layer].forward(**inputs)
    return np.random.default_rng(seed).standard_normal(output.shape)


def test_names_are_unique_per_layer():
    counts = Counter((m.layer, m.name) for m in MUTANTS)

    assert [key for key, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("layer", sorted(REFERENCE_LAYERS))
def test_every_layer_has_at_least_three_mutants(layer):
    assert len(mutants_of(layer)) >= 3


@pytest.mark.parametrize("layer", sorted(REFERENCE_LAYERS))
def test_every_layer_has_both_scale_mutants(layer):
    names = {m.name for m in mutants_of(layer)}

    assert any(name.endswith("-scaled-x2") for name in names)
    assert any(name.endswith("-scaled-1e-6") for name in names)


@pytest.mark.parametrize("mutant", MUTANTS, ids=MUTANT_IDS)
def test_mutant_record_is_well_formed(mutant):
    spec = REFERENCE_LAYERS[mutant.layer]

    assert mutant.grads
    assert set(mutant.grads) <= set(spec.grads)
    assert mutant.description.endswith(".")
    assert "\n" not in mutant.description


def test_unknown_layer_is_refused():
    with pytest.raises(KeyError, match="no reference layer"):
        mutants_of("dense_typo")


@pytest.mark.parametrize("mutant", MUTANTS, ids=MUTANT_IDS)
def test_mutant_differs_from_reference_on_generic_inputs(mutant):
    spec = REFERENCE_LAYERS[mutant.layer]
    inputs = example_inputs(mutant.layer, seed=3)
    upstream = _upstream(mutant.layer, inputs)

    for key, wrong in mutant.grads.items():
        right = spec.grads[key](**inputs, grad_output=upstream)
        bad = wrong(**inputs, grad_output=upstream)

        assert bad.shape == right.shape
        gap = np.linalg.norm(bad - right) / np.linalg.norm(right)
        assert gap > 1e-7, f"{key}: relative gap {gap:.1e}"


@pytest.mark.parametrize(
    "mutant",
    [m for m in MUTANTS if m.name.endswith("-scaled-1e-6")],
    ids=lambda m: f"{m.layer}:{m.name}",
)
def test_tiny_scale_mutants_are_off_by_one_part_per_million(mutant):
    spec = REFERENCE_LAYERS[mutant.layer]
    inputs = example_inputs(mutant.layer, seed=4)
    upstream = _upstream(mutant.layer, inputs)
    ((key, wrong),) = mutant.grads.items()

    right = spec.grads[key](**inputs, grad_output=upstream)
    ratio = wrong(**inputs, grad_output=upstream) / np.where(right == 0, 1, right)

    np.testing.assert_allclose(ratio[right != 0], 1 + 1e-6, rtol=1e-12)


@pytest.mark.parametrize("layer", sorted(REFERENCE_LAYERS))
def test_reference_layer_passes_check_layer(layer):
    spec = REFERENCE_LAYERS[layer]

    report = gradcheck.check_layer(
        spec.forward, spec.grads, example_inputs(layer), seed=0
    )

    assert report.passed, str(report)


@pytest.mark.parametrize("mutant", MUTANTS, ids=MUTANT_IDS)
def test_mutant_fails_check_layer(mutant):
    spec = REFERENCE_LAYERS[mutant.layer]
    grads = {**spec.grads, **mutant.grads}

    report = gradcheck.check_layer(
        spec.forward, grads, example_inputs(mutant.layer), seed=0
    )

    assert report.status == "fail", str(report)
    assert not report.passed
