"""Precision modes: affine step, Richardson, complex step, and their refusals."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck.errors import GradcheckError
from gradcheck.layers import REFERENCE_LAYERS, example_inputs

DENSE = REFERENCE_LAYERS["dense"]
TANH = REFERENCE_LAYERS["tanh"]


def dense_inputs(shape=(16, 40, 12), seed=0):
    rng = np.random.default_rng(seed)
    n, n_in, n_out = shape
    return {
        "x_input": rng.standard_normal((n, n_in)),
        "W": rng.standard_normal((n_in, n_out)),
        "b": rng.standard_normal(n_out),
    }


def numeric_error(report, name):
    block = report.blocks[name]
    scale = np.max(np.abs(block.analytic))
    return np.max(np.abs(block.numeric - block.analytic)) / scale


@pytest.mark.parametrize(
    ("precision", "limit"),
    [("central", 1e-10), ("richardson", 1e-10), ("complex-step", 1e-14)],
)
def test_accuracy_on_a_linear_layer(precision, limit):
    report = gradcheck.check_layer(
        DENSE.forward, DENSE.grads, dense_inputs(), seed=0, precision=precision
    )
    assert report.status == "pass"
    for name in DENSE.grads:
        assert numeric_error(report, name) <= limit


def test_an_odd_function_at_zero_is_not_taken_for_affine():
    report = gradcheck.check_layer(
        TANH.forward, TANH.grads, {"x": np.zeros((3, 4))}, seed=0
    )
    assert report.status == "pass"
    assert "affine" not in report.method


def test_affine_inputs_get_the_large_step_and_kinked_ones_do_not():
    dense = gradcheck.check_layer(DENSE.forward, DENSE.grads, dense_inputs(), seed=0)
    assert "x_input: coloured, batched, central (affine" in dense.method
    relu = REFERENCE_LAYERS["relu"]
    report = gradcheck.check_layer(
        relu.forward, relu.grads, example_inputs("relu"), seed=0
    )
    assert "affine" not in report.method


def test_richardson_is_accurate_on_a_curved_layer():
    x = np.random.default_rng(0).uniform(-2, 2, size=(5, 7))
    report = gradcheck.check_layer(
        TANH.forward, TANH.grads, {"x": x}, seed=0, precision="richardson"
    )
    central = gradcheck.check_layer(TANH.forward, TANH.grads, {"x": x}, seed=0)
    assert report.status == "pass"
    assert numeric_error(report, "x") <= 1e-10
    assert numeric_error(report, "x") < numeric_error(central, "x") / 10
    assert "richardson" in report.method


def test_complex_step_allows_a_tolerance_near_rounding():
    report = gradcheck.check_layer(
        TANH.forward,
        TANH.grads,
        example_inputs("tanh"),
        seed=0,
        precision="complex-step",
        rtol=1e-13,
    )
    assert report.status == "pass"
    assert numeric_error(report, "x") <= 1e-14


def test_complex_step_catches_a_tiny_error_that_central_cannot_resolve():
    grads = {"x": lambda **kw: TANH.grads["x"](**kw) * (1 + 1e-11)}
    inputs = example_inputs("tanh")
    report = gradcheck.check_layer(
        TANH.forward, grads, inputs, seed=0, precision="complex-step", rtol=1e-13
    )
    assert report.status == "fail"


def test_complex_step_is_refused_for_a_forward_that_drops_the_imaginary_part():
    def forward(x):
        return np.tanh(np.asarray(x, dtype=np.float64))

    with pytest.raises(GradcheckError, match="complex"):
        gradcheck.check_layer(
            forward,
            TANH.grads,
            example_inputs("tanh"),
            seed=0,
            precision="complex-step",
        )


def test_complex_step_is_refused_for_a_forward_that_raises_on_complex_input():
    def forward(x):
        if np.iscomplexobj(x):
            raise TypeError("real input only")
        return np.tanh(x)

    with pytest.raises(GradcheckError, match="real input only"):
        gradcheck.check_layer(
            forward,
            TANH.grads,
            example_inputs("tanh"),
            seed=0,
            precision="complex-step",
        )


def test_non_analytic_forward_blames_the_numerics_and_uses_central():
    def forward(x):
        # |x|**3 written through the conjugate: complex in, complex out, but
        # not analytic, so the complex step gives a wrong derivative.
        return (x * np.conj(x)) ** 1.5

    def grad(x, grad_output):
        return grad_output * 3 * x * np.abs(x)

    x = np.random.default_rng(0).uniform(0.5, 2.0, (3, 4)) * np.array([1, -1, 1, -1])
    report = gradcheck.check_layer(
        forward, {"x": grad}, {"x": x}, seed=0, precision="complex-step"
    )
    assert report.status == "pass"
    assert "central" in report.method
    assert any("not about your backward" in note for note in report.notes)
