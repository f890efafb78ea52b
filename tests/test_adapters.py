import numpy as np
import pytest

from gradcheck import GradcheckError
from gradcheck.adapters import as_layer
from gradcheck.layers import dense_forward, dense_grad_input


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


class SGDDense:
    def __init__(self, scale=1.0):
        self.W = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
        self.b = np.array([0.1, 0.2, 0.3])
        self.lr = 0.05
        self.scale = scale

    def forward(self, input):
        return input @ self.W + self.b

    def backward(self, input, grad_output):
        grad_input = grad_output @ self.W.T
        self.W -= self.lr * input.T @ grad_output
        self.b -= self.lr * self.scale * grad_output.sum(axis=0)
        return grad_input


class StoringDense(SGDDense):
    def backward(self, input, grad_output):
        self.dW = input.T @ grad_output
        self.grads = {"b": grad_output.sum(axis=0)}
        return grad_output @ self.W.T


INPUTS = {"x": np.array([[1.0, 2.0], [-0.5, 0.25], [3.0, -1.0], [0.0, 1.0]])}


def test_named_argument_functions():
    layer = as_layer(dense_forward, grads={"x_input": dense_grad_input})
    inputs = {"x_input": INPUTS["x"], "W": SGDDense().W, "b": SGDDense().b}

    assert layer.style == "functions"
    assert layer.check(inputs, seed=0).passed


def test_cache_style_pair():
    layer = as_layer((affine_forward, affine_backward))
    inputs = {"x": INPUTS["x"], "w": SGDDense().W, "b": SGDDense().b}

    assert layer.style == "cache"
    assert set(layer.grads) == {"x", "w", "b"}
    assert layer.check(inputs, seed=0).passed


def test_lone_forward_finds_its_backward():
    assert as_layer(affine_forward).style == "cache"


@pytest.mark.parametrize("cls", [SGDDense, StoringDense])
def test_object_gradients_recovered_and_state_restored(cls):
    obj = cls()
    before = {k: v.copy() for k, v in vars(obj).items() if isinstance(v, np.ndarray)}
    layer = as_layer(obj)
    inputs = {"input": INPUTS["x"], "W": obj.W.copy(), "b": obj.b.copy()}

    report = layer.check(inputs, seed=0)

    assert layer.style == "object" and report.passed, str(report)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(obj, name), value)
    assert not hasattr(obj, "dW")


def test_object_with_wrong_sgd_gradient_fails_on_that_parameter():
    obj = SGDDense(scale=0.5)
    inputs = {"input": INPUTS["x"], "W": obj.W.copy(), "b": obj.b.copy()}

    report = as_layer(obj).check(inputs, seed=0)

    assert report.status == "fail"
    assert report.blocks["b"].status == "fail"
    assert report.blocks["W"].status == "pass"


def test_object_signature_pins_parameter_sides():
    layer = as_layer(SGDDense(), signature="(n,i),(i,o),(o)->(n,o)")

    assert layer.fixed_sides == {"i": 2, "o": 3}


def test_unrecognised_object_names_the_expected_methods():
    class Mystery:
        def run(self, x):
            return x

    with pytest.raises(GradcheckError, match=r"forward\(input\) and backward"):
        as_layer(Mystery())


def test_lone_function_without_gradients_is_explained():
    def lonely(x):
        return x

    with pytest.raises(GradcheckError, match="grads="):
        as_layer(lonely)
