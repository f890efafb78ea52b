import subprocess
import sys

import numpy as np
import pytest

from gradcheck import GradientMismatch
from gradcheck.layers import REFERENCE_LAYERS
from gradcheck.mutants import mutants_of
from gradcheck.testing import (
    MostlyInconclusive,
    PropertyOptions,
    assert_layer_gradients,
    layer_property,
)

X = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]])


def test_assert_passes_a_correct_layer():
    report = assert_layer_gradients(REFERENCE_LAYERS["relu"], {"x": X}, seed=0)

    assert report.passed


def test_assert_message_is_the_report():
    spec = REFERENCE_LAYERS["relu"]
    mutant = next(m for m in mutants_of("relu") if m.name == "x-scaled-x2")

    with pytest.raises(GradientMismatch, match="gradcheck FAIL") as info:
        assert_layer_gradients((spec.forward, dict(mutant.grads)), {"x": X}, seed=0)

    assert "worst element" in str(info.value)


def test_property_shrinks_a_wrong_layer_to_a_minimal_example():
    spec = REFERENCE_LAYERS["dense"]
    mutant = next(m for m in mutants_of("dense") if m.name == "b-batch-mean")
    wrong = (spec.forward, {**spec.grads, **mutant.grads})
    options = PropertyOptions(
        losses=("weighted-sum",),
        dtypes=("float64",),
        max_examples=50,
        extra={"signature": spec.signature},
    )

    with pytest.raises(GradientMismatch) as info:
        layer_property(wrong, options)()

    text = str(info.value)
    assert "minimal failing example" in text and "in b" in text


def test_import_gradcheck_imports_neither_hypothesis_nor_pytest():
    code = (
        "import sys, gradcheck, gradcheck.adapters;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('hypothesis', 'pytest', '_pytest')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert out.stdout.strip() == "[]", out.stderr


def test_property_that_is_always_inconclusive_says_why():
    def flat_forward(x):
        return 0.0 * x

    def flat_grad(x, grad_output):
        return 0.0 * grad_output

    options = PropertyOptions(
        dtypes=("float64",), max_magnitude=5.0, extra={"signature": "(n)->(n)"}
    )

    with pytest.raises(MostlyInconclusive) as info:
        layer_property((flat_forward, {"x": flat_grad}), options)()

    text = str(info.value)
    assert "most drawn inputs were inconclusive" in text
    assert "why: degenerate-loss" in text
    assert "dtypes float64; max magnitude 5" in text


def test_property_of_a_correct_layer_still_passes():
    spec = REFERENCE_LAYERS["dense"]
    options = PropertyOptions(max_examples=10, extra={"signature": spec.signature})

    layer_property(spec, options)()
