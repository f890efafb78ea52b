"""The seed's dense layer against the expected values shipped with it."""

import numpy as np
import pytest

import gradcheck
from gradcheck.layers import dense_forward, dense_grad_b, dense_grad_input, dense_grad_W
from gradcheck.seed import load_seed

SEED = load_seed()


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (dense_grad_input, "grad_input"),
        (dense_grad_W, "grad_W"),
        (dense_grad_b, "grad_b"),
    ],
)
def test_gradients_match_the_seed(function, expected):
    result = function(**SEED.inputs, grad_output=SEED.grad_output)
    np.testing.assert_allclose(result, SEED.expected[expected], rtol=0, atol=1e-12)


def test_forward_matches_the_seed():
    np.testing.assert_allclose(
        dense_forward(**SEED.inputs), SEED.expected["output"], rtol=0, atol=1e-12
    )


def test_seed_grad_input_has_the_documented_value():
    # One value recomputed by hand from the seed's printed arrays.
    expected = float(SEED.grad_output[0] @ SEED.inputs["W"][0])
    assert dense_grad_input(**SEED.inputs, grad_output=SEED.grad_output)[0, 0] == (
        pytest.approx(expected, abs=1e-15)
    )
    assert expected == pytest.approx(1.27781144, abs=5e-9)


def test_numeric_gradient_reaches_the_seed_to_high_accuracy():
    # The loss sum(grad_output * y) has exactly the seed's grad_output upstream.
    def loss(x_input):
        return np.sum(
            SEED.grad_output
            * dense_forward(x_input, SEED.inputs["W"], SEED.inputs["b"])
        )

    numeric = gradcheck.numeric_gradient(loss, SEED.inputs["x_input"])
    error = np.abs(numeric - SEED.expected["grad_input"]) / np.abs(
        SEED.expected["grad_input"]
    )
    assert error.max() < 1e-8


def test_check_layer_passes_on_the_seed():
    report = gradcheck.check_layer(
        dense_forward,
        {"x_input": dense_grad_input, "W": dense_grad_W, "b": dense_grad_b},
        SEED.inputs,
        seed=0,
    )
    assert report.status == "pass", str(report)
    assert set(report.blocks) == {"x_input", "W", "b"}
    assert report.max_rel_error < 1e-7
    assert all(check.passed and check.agrees for check in report.cross_checks)


def test_check_layer_with_the_seed_signature_alone():
    report = gradcheck.check_layer(
        dense_forward, {"x_input": dense_grad_input}, SEED.inputs, seed=3
    )
    assert report.passed
    assert report.blocks["x_input"].n_checked == 90
