"""The 21 field cases of ../shared/cases/field-cases.md, each with its right verdict.

Every test rebuilds the case's trigger in numpy and checks it through the
public API (``check_layer``, ``check_gradient``, ``numeric_gradient``).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import gradcheck
from gradcheck.errors import (
    DegenerateLossWarning,
    LooseToleranceWarning,
    NondeterminismWarning,
    NonSmoothPointWarning,
    PrecisionWarning,
)
from gradcheck.layers import (
    batchnorm_forward,
    batchnorm_grad_beta,
    batchnorm_grad_gamma,
    batchnorm_grad_x,
)

pytestmark = pytest.mark.filterwarnings("ignore::gradcheck.GradcheckWarning")


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gradcheck.check_layer(*args, **kwargs)


# --- a linear layer y = x W^T + b, as in R01 ---------------------------------


def linear(x, W, b):
    return x @ W.T + b


LINEAR_GRADS = {
    "x": lambda x, W, b, grad_output: grad_output @ W,
    "W": lambda x, W, b, grad_output: grad_output.T @ x,
    "b": lambda x, W, b, grad_output: np.sum(grad_output).reshape(np.shape(b)),
}


def test_r01_float32_linear_passes_with_a_precision_warning():
    rng = np.random.default_rng(0)
    inputs = {
        "x": rng.uniform(0, 1, (1, 2)).astype(np.float32),
        "W": rng.normal(size=(1, 2)).astype(np.float32),
        "b": np.float32(0.3),
    }

    with pytest.warns(PrecisionWarning):
        report = gradcheck.check_layer(linear, LINEAR_GRADS, inputs, loss=np.sum)

    assert report.status == "pass"
    assert "float32-input" in report.warnings
    assert "float32" in str(report)
    assert report.blocks["x"].tolerance.rtol >= 1e-4


def test_r01_same_layer_in_float64_passes_tightly():
    rng = np.random.default_rng(0)
    inputs = {
        "x": rng.uniform(0, 1, (1, 2)),
        "W": rng.normal(size=(1, 2)),
        "b": np.float64(0.3),
    }

    report = _quiet(linear, LINEAR_GRADS, inputs, loss=np.sum)

    assert report.status == "pass"
    assert report.max_rel_error < 1e-9
    assert not any(code.endswith("-input") for code in report.warnings)


def test_r03_float16_step_is_resolvable_and_gives_the_right_value():
    x = np.array([1.0], dtype=np.float16)

    gradient = gradcheck.numeric_gradient(lambda v: np.sum(v**2), x)

    assert gradient[0] == pytest.approx(2.0, rel=1e-6)
    steps = gradcheck.numeric.default_steps(x)
    assert np.all(x + steps.astype(np.float16) != x)


def test_r04_large_loss_does_not_drown_a_correct_gradient():
    n = 1000
    a = np.random.default_rng(4).uniform(0, 1, n)
    x = np.arange(1.0, n + 1)

    report = gradcheck.check_gradient(
        lambda v: np.sum((v - a) ** 2), lambda v: 2 * (v - a), x
    )

    assert report.status == "pass"
    assert report.blocks["x"].n_failed == 0
    assert report.blocks["x"].error_bound_at_worst > 0
    assert "error within expected FD noise" in str(report)


def test_r06_relu_at_its_kink_is_inconclusive_not_failed():
    def relu(x):
        return np.maximum(x, 0)

    def relu_grad(x, grad_output):
        return np.where(x > 0, grad_output, 0.0)

    with pytest.warns(NonSmoothPointWarning):
        report = gradcheck.check_layer(relu, {"x": relu_grad}, {"x": np.zeros((3, 4))})

    assert report.status == "inconclusive"
    assert "kink" in report.warnings
    assert report.blocks["x"].n_inconclusive == 12


def _pool_windows(x):
    return x.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)


def _unpool(cols):
    return cols.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)


def maxpool(x):
    return _pool_windows(x).max(axis=-1)


def maxpool_grad_first(x, grad_output):
    cols = _pool_windows(x)
    routed = np.zeros_like(cols)
    winner = cols.argmax(axis=-1)[..., None]
    np.put_along_axis(routed, winner, grad_output[..., None], axis=-1)
    return _unpool(routed)


def maxpool_grad_spread(x, grad_output):
    cols = _pool_windows(x)
    winners = cols == cols.max(axis=-1, keepdims=True)
    share = winners / winners.sum(axis=-1, keepdims=True)
    return _unpool(share * grad_output[..., None])


def maxpool_grad_all_tied(x, grad_output):
    cols = _pool_windows(x)
    winners = cols == cols.max(axis=-1, keepdims=True)
    return _unpool(winners * grad_output[..., None])


@pytest.mark.parametrize("grad", [maxpool_grad_first, maxpool_grad_spread])
def test_r08_tied_maxpool_is_inconclusive_with_a_tie_warning(grad):
    with pytest.warns(NonSmoothPointWarning):
        report = gradcheck.check_layer(
            maxpool, {"x": grad}, {"x": np.ones((4, 4))}, loss=np.sum
        )

    assert report.status == "inconclusive"
    assert "tie" in report.warnings
    assert report.blocks["x"].numeric == pytest.approx(np.full((4, 4), 0.5))


def test_r08_routing_more_than_one_unit_per_window_fails():
    report = _quiet(
        maxpool, {"x": maxpool_grad_all_tied}, {"x": np.ones((4, 4))}, loss=np.sum
    )

    assert report.status == "fail"
    assert "tie-routing" in report.warnings
    assert "route exactly" in str(report)


def test_r09_near_tie_closer_than_the_step_is_not_a_failure():
    x = np.array([[0.5, 0.5 + 3e-7], [0.1, 0.2]])
    x = np.tile(x, (2, 2)) + np.kron(np.arange(4.0).reshape(2, 2), np.ones((2, 2)))

    report = _quiet(maxpool, {"x": maxpool_grad_first}, {"x": x}, loss=np.sum)

    assert report.status == "inconclusive"
    assert "tie" in report.warnings


def test_r09_same_windows_with_a_clear_gap_pass():
    x = np.array([[0.5, 0.6], [0.1, 0.2]])
    x = np.tile(x, (2, 2)) + np.kron(np.arange(4.0).reshape(2, 2), np.ones((2, 2)))

    report = _quiet(maxpool, {"x": maxpool_grad_first}, {"x": x}, loss=np.sum)

    assert report.status == "pass"


BN_GRADS = {
    "x": batchnorm_grad_x,
    "gamma": batchnorm_grad_gamma,
    "beta": batchnorm_grad_beta,
}


def _bn_inputs():
    rng = np.random.default_rng(11)
    return {"x": rng.normal(size=(5, 3)), "gamma": np.ones(3), "beta": np.zeros(3)}


def test_r11_batchnorm_with_sum_loss_is_degenerate_not_failed():
    with pytest.warns(DegenerateLossWarning):
        report = gradcheck.check_layer(
            batchnorm_forward, BN_GRADS, _bn_inputs(), loss=np.sum
        )

    assert report.status == "inconclusive"
    assert "degenerate-loss" in report.warnings
    assert report.blocks["x"].codes == ["degenerate-loss"]
    assert np.abs(report.blocks["x"].numeric).max() < 1e-6
    assert report.blocks["beta"].status == "pass"


def test_r11_batchnorm_with_the_default_weighted_loss_passes():
    report = _quiet(batchnorm_forward, BN_GRADS, _bn_inputs(), seed=3)

    assert report.status == "pass"


def _negative_sampling(rng_holder):
    def loss(v):
        idx = rng_holder[0].integers(0, 5, size=3)
        return np.sum(v[idx] ** 2)

    def grad(v):
        idx = rng_holder[0].integers(0, 5, size=3)
        g = np.zeros_like(v)
        np.add.at(g, idx, 2 * v[idx])
        return g

    return loss, grad


def test_r12_stochastic_loss_without_reset_is_flagged():
    holder = [np.random.default_rng(12)]
    loss, grad = _negative_sampling(holder)

    with pytest.warns(NondeterminismWarning):
        report = gradcheck.check_gradient(loss, grad, np.arange(1.0, 6.0))

    assert report.status == "inconclusive"
    assert "nondeterministic-forward" in report.warnings
    assert "reset=" in str(report)


def test_r12_stochastic_loss_with_a_reset_hook_passes():
    holder = [np.random.default_rng(0)]
    loss, grad = _negative_sampling(holder)

    def reset():
        holder[0] = np.random.default_rng(0)

    report = gradcheck.check_gradient(loss, grad, np.arange(1.0, 6.0), reset=reset)

    assert report.status == "pass"


def _scatter_add_layer():
    """Embedding lookup whose backward sums rows in a new order on every call."""
    calls = itertools.count()
    indices = np.random.default_rng(1).integers(0, 3, size=400)

    def forward(table):
        return table[indices]

    def grad_table(table, grad_output):
        order = np.random.default_rng(next(calls)).permutation(len(indices))
        result = np.zeros(table.shape, dtype=np.float32)
        for i in order:
            result[indices[i]] += grad_output[i].astype(np.float32)
        return result

    return forward, grad_table


def test_r13_nondeterministic_backward_gets_its_own_verdict():
    forward, grad_table = _scatter_add_layer()
    table = np.random.default_rng(2).normal(size=(3, 2)).astype(np.float32)

    report = _quiet(forward, {"table": grad_table}, {"table": table}, seed=5)

    assert report.status == "fail"
    assert "nondeterministic-backward" in report.warnings
    assert "not a Jacobian mismatch" in str(report)
    assert "comparison itself gave 'pass'" in str(report)


def test_r13_nondet_tol_accepts_the_reordering_noise():
    forward, grad_table = _scatter_add_layer()
    table = np.random.default_rng(2).normal(size=(3, 2)).astype(np.float32)

    report = _quiet(
        forward, {"table": grad_table}, {"table": table}, seed=5, nondet_tol=1e-3
    )

    assert report.status == "pass"


def test_r15_expanded_input_is_differentiated_per_element():
    base = np.array([0.7])
    vec = np.lib.stride_tricks.as_strided(base, shape=(2,), strides=(0,))
    M = np.random.default_rng(15).normal(size=(2, 2))
    grads = {"vec": lambda M, vec, grad_output: M.T @ grad_output}

    report = _quiet(lambda M, vec: M @ vec, grads, {"M": M, "vec": vec}, loss=np.sum)

    assert report.status == "pass"
    assert report.blocks["vec"].numeric == pytest.approx(M.sum(axis=0))
    assert "aliased-input" in report.warnings


def test_r16_integer_input_is_promoted_not_truncated():
    x = np.array([1, 2])

    gradient = gradcheck.numeric_gradient(lambda v: np.sum(v**2), x)
    report = gradcheck.check_gradient(lambda v: np.sum(v**2), lambda v: 2 * v, x)

    assert gradient == pytest.approx([2.0, 4.0])
    assert report.status == "pass"
    assert report.blocks["x"].numeric == pytest.approx([2.0, 4.0])
    assert "integer-input" in report.warnings


def test_r17_vector_valued_function_is_refused_with_its_shape():
    x = np.array([1.0, 2.0, 3.0])

    with pytest.raises(gradcheck.GradcheckError, match=r"scalar.*\(3,\)"):
        gradcheck.check_gradient(lambda v: v**2 / 2, lambda v: v, x)


def test_r18_one_loss_drives_both_sides():
    x, target = np.array([1.0, 0.0]), 0.1056

    def forward(w, b):
        return np.array([w @ x + b])

    def loss(y):
        return 0.5 * np.sum((target - y) ** 2)

    grads = {"w": lambda w, b, grad_output: grad_output[0] * x}
    inputs = {"w": np.array([0.34, 0.56]), "b": np.array(0.54)}

    report = _quiet(forward, grads, inputs, loss=loss)

    assert report.status == "pass"
    assert report.blocks["w"].numeric == pytest.approx([0.7744, 0.0], abs=1e-6)


def test_r18_differentiating_the_output_instead_of_the_loss_fails():
    x = np.array([1.0, 0.0])
    grads = {"w": lambda w, b, grad_output: x.copy()}
    inputs = {"w": np.array([0.34, 0.56]), "b": np.array(0.54)}

    report = _quiet(
        lambda w, b: np.array([w @ x + b]),
        grads,
        inputs,
        loss=lambda y: 0.5 * np.sum((0.1056 - y) ** 2),
    )

    assert report.status == "fail"
    assert "ignores-grad-output" in report.warnings
    assert "ignores grad_output" in str(report)


def test_r20_time_mean_in_backprop_fails_with_a_constant_ratio_hint():
    rng = np.random.default_rng(20)
    T = 40
    inputs = {
        "x": rng.normal(size=(T, 3)),
        "W": rng.normal(size=(2, 3)),
        "b": np.zeros(2),
    }
    grads = {"W": lambda x, W, b, grad_output: grad_output.T @ x / T}

    report = _quiet(linear, grads, inputs, loss=np.sum)

    assert report.status == "fail"
    hint = " ".join(report.blocks["W"].diagnosis)
    assert "constant ratio" in hint and "0.025" in hint and "1/40" in hint
    assert "batch or time mean" in hint


def _three_layer_net():
    def forward(X, W1, b1, W2, b2, W3, b3):
        A1 = np.maximum(W1 @ X + b1, 0)
        A2 = np.maximum(W2 @ A1 + b2, 0)
        return 1 / (1 + np.exp(-(W3 @ A2 + b3)))

    def backprop(X, W1, b1, W2, b2, W3, b3, grad_output):
        Z1 = W1 @ X + b1
        A1 = np.maximum(Z1, 0)
        Z2 = W2 @ A1 + b2
        A2 = np.maximum(Z2, 0)
        A3 = 1 / (1 + np.exp(-(W3 @ A2 + b3)))
        dZ3 = grad_output * A3 * (1 - A3)
        dZ2 = (W3.T @ dZ3) * (Z2 > 0)
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)
        return {
            "W3": dZ3 @ A2.T,
            "b3": dZ3.sum(axis=1, keepdims=True),
            "W2": 2 * (dZ2 @ A1.T),
            "b2": dZ2.sum(axis=1, keepdims=True),
            "W1": dZ1 @ X.T,
            "b1": 4 * dZ1.sum(axis=1, keepdims=True),
        }

    def grad_of(name):
        return lambda **kwargs: backprop(**kwargs)[name]

    return forward, {
        name: grad_of(name) for name in ("W1", "b1", "W2", "b2", "W3", "b3")
    }


def test_r21_injected_scale_bugs_are_localised_to_dW2_and_db1():
    rng = np.random.default_rng(21)
    inputs = {
        "X": rng.normal(size=(4, 3)),
        "W1": rng.normal(size=(5, 4)),
        "b1": rng.normal(size=(5, 1)) + 1.0,
        "W2": rng.normal(size=(3, 5)),
        "b2": rng.normal(size=(3, 1)) + 1.0,
        "W3": rng.normal(size=(1, 3)),
        "b3": rng.normal(size=(1, 1)),
    }
    forward, grads = _three_layer_net()

    report = _quiet(forward, grads, inputs, seed=1)

    statuses = {name: block.status for name, block in report.blocks.items()}
    assert report.status == "fail"
    assert statuses == {
        "W1": "pass",
        "b1": "fail",
        "W2": "fail",
        "b2": "pass",
        "W3": "pass",
        "b3": "pass",
    }
    assert "analytic = 2 × numeric:" in report.blocks["W2"].diagnosis[0]
    assert "analytic = 4 × numeric:" in report.blocks["b1"].diagnosis[0]
    assert "localised: the gradients for b1, W2 are wrong" in str(report)


def test_r22_sigmoid_backward_on_the_input_fails_on_every_element():
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def wrong(x, grad_output):
        return x * (1 - x) * grad_output

    def right(x, grad_output):
        return sigmoid(x) * (1 - sigmoid(x)) * grad_output

    x = np.array([0.2, -1.0])
    bad = _quiet(sigmoid, {"x": wrong}, {"x": x}, loss=np.sum)
    good = _quiet(sigmoid, {"x": right}, {"x": x}, loss=np.sum)

    assert bad.status == "fail"
    assert bad.blocks["x"].n_failed == 2
    assert good.status == "pass"
    assert good.blocks["x"].numeric == pytest.approx([0.2475, 0.1966], abs=1e-4)


def test_r23_broadcast_gradient_of_the_wrong_shape_fails_on_shape():
    rng = np.random.default_rng(23)
    X, Y = rng.normal(size=(2, 3)), (rng.uniform(size=(1, 3)) > 0.5).astype(float)

    def forward(w, b):
        return 1 / (1 + np.exp(-(w.T @ X + b)))

    def dw_broadcast(w, b, grad_output):
        A = forward(w, b)
        return X * (grad_output * A * (1 - A)) / 3

    inputs = {"w": rng.normal(size=(2, 1)), "b": np.zeros((1, 1))}
    report = _quiet(forward, {"w": dw_broadcast}, inputs)

    assert report.status == "fail"
    assert report.blocks["w"].codes == ["wrong-shape"]
    assert "(2, 3) != expected (2, 1)" in str(report)
    assert Y.shape == (1, 3)


def test_r25_known_wrong_backward_fails():
    report = _quiet(
        lambda x: x * x,
        {"x": lambda x, grad_output: 3 * x * grad_output},
        {"x": np.array([0.5, -1.5, 2.0])},
    )

    assert report.status == "fail"
    assert report.blocks["x"].n_failed == 3


def test_r25_a_check_of_nothing_raises_instead_of_passing():
    with pytest.raises(gradcheck.GradcheckError, match="nothing would be checked"):
        gradcheck.check_layer(lambda x: x * x, {}, {"x": np.ones(3)})


def test_r26_one_exact_zero_does_not_mask_other_errors():
    def f(v):
        return 1.5 * v[1] + 2.0 * v[2]

    report = gradcheck.check_gradient(
        f, lambda v: np.array([0.0, 1.0, 2.0]), np.array([0.3, 0.4, 0.5])
    )

    assert report.status == "fail"
    assert report.blocks["x"].worst_index == (1,)
    assert report.blocks["x"].n_failed == 1
    assert np.isfinite(report.max_rel_error)


def _matmul_case(scale):
    rng = np.random.default_rng(27)
    inputs = {
        "X": rng.normal(size=(32, 84)).astype(np.float32),
        "Y": rng.normal(size=(84, 100)).astype(np.float32),
    }
    grads = {"Y": lambda X, Y, grad_output: scale * (X.T @ grad_output)}
    return (lambda X, Y: X @ Y), grads, inputs


def test_r27_forty_percent_wrong_gradient_fails_at_default_tolerance():
    forward, grads, inputs = _matmul_case(1.4)

    report = _quiet(forward, grads, inputs, seed=0)

    assert report.status == "fail"


def test_r27_correct_float32_matmul_passes_and_loose_rtol_warns():
    forward, grads, inputs = _matmul_case(1.0)
    good = _quiet(forward, grads, inputs, seed=0)
    forward, grads, inputs = _matmul_case(1.4)

    with pytest.warns(LooseToleranceWarning):
        loose = gradcheck.check_layer(forward, grads, inputs, seed=0, rtol=0.5)

    assert good.status == "pass"
    assert "loose-tolerance" in loose.warnings


class _Value:
    """A micrograd-style scalar node whose backward adds into ``grad``."""

    def __init__(self, data, children=()):
        self.data, self.grad, self.children = data, 0.0, children
        self.backward_rule = lambda: None

    def __mul__(self, other):
        out = _Value(self.data * other.data, (self, other))

        def rule():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out.backward_rule = rule
        return out

    def __add__(self, other):
        out = _Value(self.data + other.data, (self, other))

        def rule():
            self.grad += out.grad
            other.grad += out.grad

        out.backward_rule = rule
        return out


def _stale_graph():
    leaves = {name: _Value(0.0) for name in "abc"}
    product = leaves["a"] * leaves["b"]
    out = product + leaves["c"]

    def forward(a, b, c):
        return np.array(float(a) * float(b) + float(c))

    def grad_of(name):
        def grad(a, b, c, grad_output):
            for key, value in zip("abc", (a, b, c), strict=True):
                leaves[key].data, leaves[key].grad = float(value), 0.0
            product.data = leaves["a"].data * leaves["b"].data
            out.grad = float(grad_output)
            out.backward_rule()
            product.backward_rule()
            return np.array(leaves[name].grad)

        return grad

    return forward, {name: grad_of(name) for name in "abc"}


def test_r29_accumulating_backward_is_reported_as_stateful():
    forward, grads = _stale_graph()
    inputs = {"a": np.array(2.0), "b": np.array(-3.0), "c": np.array(0.5)}

    report = _quiet(forward, grads, inputs, seed=2)

    assert report.status == "fail"
    assert "stateful-backward" in report.warnings
    assert report.blocks["c"].status == "pass"
    assert "accumulates" in str(report)


def test_r12_stochastic_loss_never_passes_whatever_its_seed():
    verdicts = set()
    for seed in range(40):
        holder = [np.random.default_rng(seed)]
        loss, grad = _negative_sampling(holder)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = gradcheck.check_gradient(loss, grad, np.arange(1.0, 6.0))
        verdicts.add(report.status)
    assert "pass" not in verdicts
