"""Misuse of the harness raises GradcheckError naming the argument and the fix;
user exceptions fail the check; the caller's arrays never change."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradcheck
from gradcheck import GradcheckError
from gradcheck.layers import (
    RELU,
    dense_forward,
    dense_grad_b,
    dense_grad_input,
    dense_grad_W,
)

pytestmark = pytest.mark.filterwarnings("ignore::gradcheck.GradcheckWarning")

DENSE_GRADS = {"x_input": dense_grad_input, "W": dense_grad_W, "b": dense_grad_b}


def dense_inputs(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_input": rng.normal(size=(5, 18)),
        "W": rng.normal(size=(18, 3)),
        "b": rng.normal(size=3),
    }


def square(x):
    return x * x


def square_grad(x, grad_output):
    return 2 * x * grad_output


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"forward": "dense"}, r"forward must be callable.*not the result"),
        ({"grads": [square_grad]}, r"grads must be a dict"),
        ({"grads": {"y": square_grad}}, r"'y'.*not among the inputs.*'x'"),
        ({"grads": {"x": 3.0}}, r"grads\['x'\] must be callable"),
        ({"inputs": [np.ones(3)]}, r"inputs must be a dict"),
        ({"inputs": {"x": np.array([1.0, np.nan])}}, r"'x'.*NaN or inf.*Replace"),
        ({"inputs": {"x": np.array([np.inf, 1.0])}}, r"'x'.*NaN or inf"),
        ({"inputs": {"x": np.empty((0, 3))}}, r"'x' is empty.*\(0, 3\)"),
        ({"inputs": {"x": np.array([True, False])}}, r"'x' is boolean"),
        ({"inputs": {"x": np.array([1j, 2j])}}, r"'x' has dtype complex128"),
        ({"inputs": {"x": np.array(["a", "b"])}}, r"'x' has dtype <U1"),
        ({"rtol": "1e-3"}, r"rtol must be a float or None.*str"),
        ({"rtol": -1.0}, r"rtol must be positive"),
        ({"atol": -1e-9}, r"atol must be >= 0"),
        ({"atol": float("nan")}, r"atol must be finite"),
        ({"nondet_tol": -1.0}, r"nondet_tol must be finite and >= 0"),
        ({"nondet_tol": "small"}, r"nondet_tol must be a number"),
        ({"reset": 42}, r"reset must be callable"),
        ({"seed": 1.5}, r"seed must be an int"),
        ({"loss": "hinge"}, r"unknown loss 'hinge'; choose one of"),
        ({"loss": lambda y: y}, r"must return a scalar.*shape \(3,\)"),
        (
            {"nonsmooth": {"x": np.ones(4, dtype=bool)}},
            r"mask has shape \(4,\).*\(3,\)",
        ),
    ],
)
def test_misuse_raises_a_gradcheck_error_that_names_the_fix(kwargs, pattern):
    arguments = {
        "forward": square,
        "grads": {"x": square_grad},
        "inputs": {"x": np.array([0.5, -1.0, 2.0])},
        **kwargs,
    }
    if "nonsmooth" in kwargs:
        arguments["grads"] = {"x": lambda x, grad_output: 5 * x * grad_output}

    with pytest.raises(GradcheckError, match=pattern):
        gradcheck.check_layer(
            arguments.pop("forward"),
            arguments.pop("grads"),
            arguments.pop("inputs"),
            **arguments,
        )


def test_gradcheck_error_is_a_value_error():
    assert issubclass(GradcheckError, ValueError)


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (("f", lambda v: v, np.ones(2)), r"f must be callable"),
        ((np.sum, None, np.ones(2)), r"grad must be callable"),
        ((np.sum, lambda v: v, np.ones(0)), r"'x' is empty"),
        ((lambda v: v.reshape(2, 3), lambda v: v, np.ones(6)), r"\(2, 3\)"),
    ],
)
def test_check_gradient_refuses_misuse(args, pattern):
    with pytest.raises(GradcheckError, match=pattern):
        gradcheck.check_gradient(*args)


def test_mismatched_matmul_inside_the_forward_fails_the_check_with_shapes():
    inputs = {**dense_inputs(), "W": np.ones((17, 3))}

    report = gradcheck.check_layer(dense_forward, DENSE_GRADS, inputs)

    assert report.status == "fail"
    text = str(report)
    assert "the forward dense_forward raised ValueError" in text
    assert "W: (17, 3) float64" in text and "x_input: (5, 18) float64" in text


def test_exception_in_one_backward_fails_only_that_block():
    def broken(x_input, W, b, grad_output):
        return grad_output @ W  # (5, 3) @ (18, 3): mismatched

    report = gradcheck.check_layer(
        dense_forward, {**DENSE_GRADS, "x_input": broken}, dense_inputs()
    )

    assert report.blocks["x_input"].status == "fail"
    assert report.blocks["x_input"].codes == ["user-code-raised"]
    assert "broken raised ValueError" in report.blocks["x_input"].message
    assert report.blocks["W"].status == "pass"


def _mutating_forward(x_input, W, b):
    out = dense_forward(x_input=x_input, W=W, b=b)
    x_input *= 2
    W[...] = 0
    return out


def _mutating_grad(x_input, W, b, grad_output):
    result = dense_grad_input(x_input=x_input, W=W, b=b, grad_output=grad_output)
    b += 1
    grad_output *= 0
    return result


def _wrong_grad(x_input, W, b, grad_output):
    x_input[0, 0] = 99.0
    return 2 * dense_grad_W(x_input=x_input, W=W, b=b, grad_output=grad_output)


@pytest.mark.parametrize(
    ("forward", "grads"),
    [
        (dense_forward, DENSE_GRADS),
        (_mutating_forward, {"x_input": _mutating_grad}),
        (dense_forward, {"x_input": _mutating_grad, "W": _wrong_grad}),
    ],
    ids=["pass", "mutating", "fail"],
)
def test_callers_arrays_are_bit_for_bit_unchanged(forward, grads):
    inputs = dense_inputs(3)
    inputs["W"] = np.asfortranarray(inputs["W"])
    before = {
        name: (a.tobytes(), a.dtype, a.shape, a.strides) for name, a in inputs.items()
    }

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gradcheck.check_layer(forward, grads, inputs, seed=0)

    after = {
        name: (a.tobytes(), a.dtype, a.shape, a.strides) for name, a in inputs.items()
    }
    assert after == before


def test_check_gradient_leaves_x_unchanged_even_when_f_mutates_it():
    x = np.array([0.5, -1.0, 2.0])
    saved = x.copy()

    def f(v):
        total = np.sum(v**2)
        v[:] = 0
        return total

    report = gradcheck.check_gradient(f, lambda v: 2 * v, x)

    assert report.status == "pass"
    assert np.array_equal(x, saved)


def test_nonsmooth_from_a_layer_spec_is_accepted():
    report = gradcheck.check_layer(
        RELU.forward, RELU.grads, {"x": np.zeros((2, 3))}, nonsmooth=RELU.nonsmooth
    )

    assert report.status == "inconclusive"
    assert "kink" in report.warnings
