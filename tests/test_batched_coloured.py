"""Stacked and coloured evaluation: detected numerically, never trusted blindly."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck import _batched
from gradcheck._batched import InputMap, supports_stack
from gradcheck._coloured import rows_independent
from gradcheck.layers import REFERENCE_LAYERS, example_inputs

DENSE = REFERENCE_LAYERS["dense"]
BATCHNORM = REFERENCE_LAYERS["batchnorm"]


def dense_inputs(n=6, n_in=5, n_out=4, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_input": rng.standard_normal((n, n_in)),
        "W": rng.standard_normal((n_in, n_out)),
        "b": rng.standard_normal(n_out),
    }


def input_map(forward, inputs, name):
    points = {key: np.array(value, dtype=np.float64) for key, value in inputs.items()}
    return InputMap(forward, points, name, points[name].copy())


def mixing_forward(x):
    """Rows depend on each other a little, through the column mean."""
    return np.tanh(x) + 1e-3 * x.mean(axis=0)


def mixing_grad_rowwise(x, grad_output):
    """Wrong: ignores the column-mean term, as if rows were independent."""
    return grad_output * (1 - np.tanh(x) ** 2)


def reshaping_forward(x):
    """Uses its own shape, so it cannot take a stack."""
    return np.tanh(x.reshape(x.shape[0], -1))


def test_dense_takes_a_stack_and_has_independent_rows():
    imap = input_map(DENSE.forward, dense_inputs(), "x_input")
    rng = np.random.default_rng(0)
    assert supports_stack(imap, rng)
    assert rows_independent(imap, rng)


def test_batchnorm_neither_stacks_nor_has_independent_rows():
    imap = input_map(BATCHNORM.forward, example_inputs("batchnorm"), "x")
    rng = np.random.default_rng(0)
    assert not supports_stack(imap, rng)
    assert not rows_independent(imap, rng)


def test_weak_row_mixing_is_detected():
    x = np.random.default_rng(1).standard_normal((5, 3))
    assert not rows_independent(
        input_map(mixing_forward, {"x": x}, "x"), np.random.default_rng(0)
    )


@pytest.mark.parametrize("seed", range(5))
def test_mixing_through_a_column_maximum_is_detected(seed):
    x = np.random.default_rng(seed).standard_normal((6, 1))
    imap = input_map(lambda x: x - x.max(axis=0), {"x": x}, "x")
    assert not rows_independent(imap, np.random.default_rng(seed))


def test_shape_dependent_forward_is_not_stacked():
    x = np.random.default_rng(1).standard_normal((4, 3))
    imap = input_map(reshaping_forward, {"x": x}, "x")
    assert not supports_stack(imap, np.random.default_rng(0))


def test_a_row_mixing_layer_is_not_checked_as_if_rows_were_independent():
    x = np.random.default_rng(2).standard_normal((5, 3))
    report = gradcheck.check_layer(
        mixing_forward, {"x": mixing_grad_rowwise}, {"x": x}, seed=0
    )
    assert report.status == "fail"
    assert "per element" in report.method


@pytest.mark.parametrize("method", ["auto", "loop", "batched", "coloured"])
def test_every_method_agrees_with_the_loop(method):
    inputs = dense_inputs()
    reports = {
        m: gradcheck.check_layer(DENSE.forward, DENSE.grads, inputs, seed=3, method=m)
        for m in ("loop", method)
    }
    assert all(report.status == "pass" for report in reports.values())
    for name in DENSE.grads:
        np.testing.assert_allclose(
            reports[method].blocks[name].numeric,
            reports["loop"].blocks[name].numeric,
            rtol=1e-8,
            atol=1e-9,
        )


def test_method_is_recorded_per_input():
    report = gradcheck.check_layer(DENSE.forward, DENSE.grads, dense_inputs(), seed=0)
    assert "x_input: coloured, batched" in report.method
    assert "b: per element, loop" in report.method


def test_coloured_request_on_batchnorm_falls_back_with_a_note():
    report = gradcheck.check_layer(
        BATCHNORM.forward,
        BATCHNORM.grads,
        example_inputs("batchnorm"),
        seed=0,
        method="coloured",
    )
    assert report.status == "pass"
    assert "x: per element, loop" in report.method
    assert any("method='coloured'" in note for note in report.notes)


def test_small_chunks_give_the_same_estimate(monkeypatch):
    inputs = dense_inputs(n=7, n_in=6, n_out=5)
    whole = gradcheck.check_layer(DENSE.forward, DENSE.grads, inputs, seed=1)
    monkeypatch.setattr(_batched, "CHUNK_BYTES", 64)
    chunked = gradcheck.check_layer(DENSE.forward, DENSE.grads, inputs, seed=1)
    for name in DENSE.grads:
        np.testing.assert_allclose(
            whole.blocks[name].numeric, chunked.blocks[name].numeric, rtol=1e-12
        )


def test_declared_batched_forward_that_does_not_stack_fails_loudly():
    x = np.random.default_rng(1).standard_normal((4, 3))

    def grad(x, grad_output):
        return grad_output * (1 - np.tanh(x) ** 2)

    report = gradcheck.check_layer(
        reshaping_forward, {"x": grad}, {"x": x}, seed=0, batched=True
    )
    assert report.status == "fail"
    assert "batched=False" in report.blocks["x"].message


def test_user_arrays_are_not_modified():
    inputs = dense_inputs()
    before = {name: value.copy() for name, value in inputs.items()}
    gradcheck.check_layer(DENSE.forward, DENSE.grads, inputs, seed=0)
    for name, value in inputs.items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("name", sorted(REFERENCE_LAYERS))
def test_reference_layers_pass_with_the_fast_estimators(name):
    spec = REFERENCE_LAYERS[name]
    report = gradcheck.check_layer(
        spec.forward, spec.grads, example_inputs(name, seed=5), seed=5
    )
    assert report.status == "pass", str(report)
