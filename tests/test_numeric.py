"""The estimators' building blocks: perturbation plans, quotients, Richardson."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck._batched import InputMap
from gradcheck._coloured import Plan, difference_quotients
from gradcheck._precision import affine_steps, complex_step_problem, richardson
from gradcheck.numeric import central_difference, default_steps

EPS = float(np.finfo(np.float64).eps)


def cubic_rows(x):
    """Row-wise: each output row depends only on its input row."""
    return np.stack([np.sum(x**3, axis=-1), np.sum(np.sin(x), axis=-1)], axis=-1)


def make_map(forward, x, stacked=False):
    imap = InputMap(forward, {"x": x}, "x", x.copy())
    imap.stacked = stacked
    return imap


@pytest.mark.parametrize("coloured", [False, True])
def test_plan_moves_exactly_the_planned_elements(coloured):
    x0 = np.arange(12.0).reshape(3, 4)
    steps = np.full_like(x0, 0.5)
    plan = Plan(x0.shape, coloured=coloured)
    indices = np.array([1, 2])
    stack = plan.perturbed(x0, steps, indices, (1.0, -1.0))
    assert stack.shape == (4, 3, 4)
    moved = stack - x0
    if coloured:
        assert np.all(moved[0][:, 1] == 0.5) and np.count_nonzero(moved[0]) == 3
        assert np.all(moved[3][:, 2] == -0.5) and np.count_nonzero(moved[3]) == 3
    else:
        assert moved[0].reshape(-1)[1] == 0.5 and np.count_nonzero(moved[0]) == 1
        assert moved[3].reshape(-1)[2] == -0.5 and np.count_nonzero(moved[3]) == 1


@pytest.mark.parametrize("coloured", [False, True])
@pytest.mark.parametrize("stacked", [False, True])
def test_quotients_match_the_loop_on_the_contracted_loss(coloured, stacked):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(4, 3))
    weights = rng.standard_normal((4, 2))
    imap = make_map(cubic_rows, x, stacked)
    steps = default_steps(x)
    gradient, rounding = difference_quotients(
        imap, weights, steps, Plan(x.shape, coloured), "central", EPS
    )
    loop = central_difference(lambda v: np.sum(weights * cubic_rows(v)), x)
    np.testing.assert_allclose(gradient, loop.gradient, rtol=1e-8, atol=1e-9)
    assert np.all(rounding > 0)


def test_complex_quotients_reach_rounding_accuracy():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(4, 3))
    weights = rng.standard_normal((4, 2))
    exact = weights[:, :1] * 3 * x**2 + weights[:, 1:] * np.cos(x)
    imap = make_map(cubic_rows, x, stacked=True)
    steps = 1e-20 * np.ones_like(x)
    gradient, rounding = difference_quotients(
        imap, weights, steps, Plan(x.shape, True), "complex", EPS
    )
    assert np.max(np.abs(gradient - exact)) <= 1e-15 * np.max(np.abs(exact))
    assert np.all(np.abs(gradient - exact) <= rounding + 1e-300)


def test_richardson_cancels_the_second_order_term_and_bounds_its_error():
    x, h = 0.7, 1e-2
    estimates = [
        np.array([(np.exp(x + s) - np.exp(x - s)) / (2 * s)]) for s in (h, 2 * h, 4 * h)
    ]
    zero = [np.zeros(1)] * 3
    value, bound = richardson(estimates, zero)
    exact = np.exp(x)
    assert abs(value[0] - exact) < abs(estimates[0][0] - exact) / 1000
    assert abs(value[0] - exact) <= bound[0]


def test_affine_steps_only_for_affine_maps():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    matrix = rng.standard_normal((4, 5))
    affine = make_map(lambda x: x @ matrix + 1.0, x)
    curved = make_map(lambda x: np.tanh(x) @ matrix, x)
    odd = make_map(lambda x: x**3, np.zeros((3, 4)))
    assert affine_steps(affine, rng, np.dtype(np.float64)) is not None
    assert affine_steps(curved, rng, np.dtype(np.float64)) is None
    assert affine_steps(odd, rng, np.dtype(np.float64)) is None
    assert affine_steps(affine, rng, np.dtype(np.float32)) is None


def test_complex_step_problem_kinds():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 1.5, size=(2, 3))
    weights = rng.standard_normal((2, 2))
    assert complex_step_problem(make_map(cubic_rows, x), weights, rng)[0] == ""
    real_only = make_map(lambda x: cubic_rows(np.real(x)), x)
    assert complex_step_problem(real_only, weights, rng)[0] == "refused"
    conj = make_map(lambda x: cubic_rows(np.sqrt(x * np.conj(x))), x)
    assert complex_step_problem(conj, weights, rng)[0] == "disagrees"


def test_input_map_copies_outputs_of_a_buffer_reusing_forward():
    buffer = np.empty((2, 3))

    def forward(x):
        np.multiply(x, 2.0, out=buffer)
        return buffer

    x = np.ones((2, 3))
    imap = make_map(forward, x)
    outputs = imap.outputs(np.stack([x, 2 * x]))
    assert np.all(imap.y0 == 2.0)
    assert np.all(outputs[0] == 2.0) and np.all(outputs[1] == 4.0)
