"""The reference layers' backward passes are right, and their records are usable."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from gradcheck.layers import REFERENCE_LAYERS, LayerSpec
from gradcheck.layers.batchnorm import batchnorm_forward, batchnorm_grad_x
from gradcheck.layers.conv2d import conv2d_output_shape, convolve
from gradcheck.layers.dropout import dropout_forward, dropout_grad_x, dropout_mask
from gradcheck.layers.embedding import embedding_grad_table
from gradcheck.layers.examples import example_inputs
from gradcheck.layers.log_softmax import log_softmax_forward
from gradcheck.layers.maxpool import (
    maxpool2x2_grad_x,
    maxpool2x2_nonsmooth,
    maxpool3x3_nonsmooth,
    window_routing_sums,
)
from gradcheck.layers.relu import relu_nonsmooth
from gradcheck.layers.sigmoid import sigmoid_forward, sigmoid_grad_x
from gradcheck.layers.softmax import softmax_forward
from gradcheck.layers.softmax_cross_entropy import softmax_cross_entropy_forward

NAMES = sorted(REFERENCE_LAYERS)
GRAD_CASES = [(name, key) for name in NAMES for key in REFERENCE_LAYERS[name].grads]

# Layers whose signature names only the output's leading dims (see their modules).
PARTIAL_OUTPUT = {
    "conv2d_strided",
    "maxpool2x2",
    "maxpool3x3",
    "avgpool2x2",
    "avgpool3x3",
}


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference gradient of scalar ``f`` at ``x``, one element at a time."""
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        step = 1e-6 * max(1.0, abs(float(x[index])))
        up, down = x.copy(), x.copy()
        up[index] += step
        down[index] -= step
        grad[index] = (f(up) - f(down)) / (up[index] - down[index])
    return grad


def weighted_sum_loss(spec: LayerSpec, inputs: dict, key: str, weights: np.ndarray):
    """``x -> sum(weights * forward(**inputs with inputs[key] = x))``."""

    def loss(value: np.ndarray) -> float:
        return float(np.sum(weights * spec.forward(**{**inputs, key: value})))

    return loss


@pytest.mark.parametrize(("name", "key"), GRAD_CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_analytic_gradient_matches_central_differences(name, key, seed):
    spec = REFERENCE_LAYERS[name]
    inputs = example_inputs(name, seed=seed)
    weights = np.random.default_rng(seed + 100).standard_normal(
        spec.forward(**inputs).shape
    )

    analytic = spec.grads[key](**inputs, grad_output=weights)
    numeric = central_difference(
        weighted_sum_loss(spec, inputs, key, weights), inputs[key]
    )

    assert analytic.shape == inputs[key].shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out(name):
    spec = REFERENCE_LAYERS[name]
    inputs = example_inputs(name, dtype=np.float32)

    output = spec.forward(**inputs)
    grads = [
        fn(**inputs, grad_output=np.ones_like(output)) for fn in spec.grads.values()
    ]

    assert output.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in grads)


@pytest.mark.parametrize("name", NAMES)
def test_callers_arrays_are_left_alone(name):
    spec = REFERENCE_LAYERS[name]
    inputs = example_inputs(name)
    before = {key: value.copy() for key, value in inputs.items()}
    upstream = np.ones_like(spec.forward(**inputs))
    upstream_before = upstream.copy()

    for fn in spec.grads.values():
        fn(**inputs, grad_output=upstream)

    for key, value in inputs.items():
        np.testing.assert_array_equal(value, before[key])
    np.testing.assert_array_equal(upstream, upstream_before)


@pytest.mark.parametrize("name", NAMES)
def test_record_is_consistent(name):
    spec = REFERENCE_LAYERS[name]
    core_inputs = spec.signature.split("->")[0]

    assert spec.name == name
    assert len(re.findall(r"\(", core_inputs)) == len(spec.input_names)
    assert set(spec.grads) | set(spec.index_inputs) == set(spec.input_names)
    assert not set(spec.grads) & set(spec.index_inputs)


def _dim_sizes(signature: str, shapes: tuple[tuple[int, ...], ...]) -> dict:
    """Map each named core dimension to its size in ``shapes``."""
    groups = re.findall(r"\(([^)]*)\)", signature.split("->")[0])
    sizes = {}
    for group, shape in zip(groups, shapes, strict=True):
        names = [n for n in group.split(",") if n]
        for dim, size in zip(names, shape[len(shape) - len(names) :], strict=True):
            sizes[dim] = size
    return sizes


def _inputs_for(spec: LayerSpec, shapes, rng: np.random.Generator) -> dict:
    """Random inputs of ``shapes``, index inputs within their dimension."""
    sizes = _dim_sizes(spec.signature, shapes)
    inputs = {}
    for key, shape in zip(spec.input_names, shapes, strict=True):
        if key in spec.index_inputs:
            inputs[key] = rng.integers(0, sizes[spec.index_inputs[key]], size=shape)
        else:
            inputs[key] = rng.standard_normal(shape)
    return inputs


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_signature_drives_hypothesis_shapes(name, data):
    spec = REFERENCE_LAYERS[name]
    min_side = max(spec.min_side.values(), default=1)
    strategy = mutually_broadcastable_shapes(
        signature=spec.signature, min_side=min_side, max_side=6, max_dims=0
    )
    drawn = data.draw(strategy)
    inputs = _inputs_for(spec, drawn.input_shapes, np.random.default_rng(0))

    output = spec.forward(**inputs)
    grads = {
        k: fn(**inputs, grad_output=np.ones_like(output))
        for k, fn in spec.grads.items()
    }

    assert output.shape[: len(drawn.result_shape)] == drawn.result_shape
    if name not in PARTIAL_OUTPUT:
        assert output.shape == drawn.result_shape
    assert all(grads[k].shape == inputs[k].shape for k in grads)


def test_sigmoid_known_values():
    x = np.array([[0.0, -1000.0, 1000.0]])

    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid_forward(x)
        grad = sigmoid_grad_x(x, np.ones_like(x))

    np.testing.assert_array_equal(s, [[0.5, 0.0, 1.0]])
    assert grad[0, 0] == 0.25


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    x = np.array([[1000.0, 1001.0, 999.0], [-5.0, 0.0, 5.0]])

    probs = softmax_forward(x)

    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(np.exp(log_softmax_forward(x)), probs, rtol=1e-12)


def test_cross_entropy_is_minus_log_probability_of_the_label():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    labels = np.array([0, 2])

    loss = softmax_cross_entropy_forward(logits, labels)

    expected = -np.log(softmax_forward(logits)[[0, 1], [0, 2]])
    np.testing.assert_allclose(loss, expected, rtol=1e-14)
    assert loss[1] == pytest.approx(np.log(3.0))


def test_batchnorm_normalises_columns_and_sum_loss_has_zero_gradient():
    inputs = example_inputs("batchnorm")
    gamma, beta = np.ones(4), np.zeros(4)
    x = inputs["x"]

    y = batchnorm_forward(x, gamma, beta)
    grad = batchnorm_grad_x(x, gamma, beta, np.ones_like(y))

    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1.0, rtol=1e-4)
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)


def _naive_convolution(x, weight, bias, stride):
    """Independent oracle: explicit loops over output pixels."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    shape = conv2d_output_shape(x.shape, len(weight), stride)
    out = np.empty(shape)
    for p, q in np.ndindex(shape[2:]):
        patch = padded[:, :, p * stride : p * stride + 3, q * stride : q * stride + 3]
        out[:, :, p, q] = np.tensordot(patch, weight, axes=([1, 2, 3], [1, 2, 3]))
    return out + bias[:, None, None]


@pytest.mark.parametrize("stride", [1, 2])
def test_convolution_matches_naive_loops(stride):
    inputs = example_inputs("conv2d")

    fast = convolve(inputs["x"], inputs["weight"], inputs["bias"], stride)
    slow = _naive_convolution(inputs["x"], inputs["weight"], inputs["bias"], stride)

    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    assert fast.shape[2:] == (-(-5 // stride), -(-6 // stride))


def test_maxpool_routes_one_unit_per_window_even_with_ties():
    x = np.ones((2, 3, 4, 5))
    upstream = np.random.default_rng(0).standard_normal((2, 3, 2, 2))

    grad = maxpool2x2_grad_x(x, upstream)

    np.testing.assert_array_equal(window_routing_sums(grad, 2, 2), upstream)
    assert np.count_nonzero(grad) == upstream.size
    assert not grad[:, :, :, 4].any()


def test_window_routing_sums_refuses_overlapping_windows():
    with pytest.raises(ValueError, match="overlap"):
        window_routing_sums(np.zeros((1, 1, 5, 5)), 3, 2)


def test_maxpool_nonsmooth_flags_ties_and_near_ties_only():
    tied = {"x": np.ones((1, 1, 4, 4))}
    generic = example_inputs("maxpool3x3")
    near = np.array([[[[0.5, 0.5 + 3e-7], [0.1, 0.2]]]])

    assert maxpool2x2_nonsmooth(tied, 1e-6)["x"].all()
    assert not maxpool3x3_nonsmooth(generic, 1e-6)["x"].any()
    np.testing.assert_array_equal(
        maxpool2x2_nonsmooth({"x": near}, 1e-6)["x"], [[[[True, True], [False, False]]]]
    )


def test_relu_nonsmooth_flags_the_kink():
    x = np.array([[-1.0, -1e-9, 0.0, 2e-9, 0.3]])

    mask = relu_nonsmooth({"x": x}, 1e-8)["x"]

    np.testing.assert_array_equal(mask, [[False, True, True, True, False]])


def test_embedding_accumulates_repeated_indices():
    indices = np.array([0, 2, 2, 3, 2, 0])
    table = np.zeros((5, 3))

    grad = embedding_grad_table(indices, table, np.ones((6, 3)))

    np.testing.assert_array_equal(grad[:, 0], np.bincount(indices, minlength=5))
    np.testing.assert_array_equal(grad[:, 0], grad[:, 2])


def test_dropout_is_deterministic_and_inverted():
    x = np.random.default_rng(0).standard_normal((50, 40))
    mask = dropout_mask(x.shape)

    first, second = dropout_forward(x), dropout_forward(x.copy())

    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, np.where(mask, 2 * x, 0.0))
    np.testing.assert_array_equal(dropout_grad_x(x, x), first)
    assert 0.4 < mask.mean() < 0.6
