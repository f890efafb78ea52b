"""Further triggers of each field-case category, beyond the case file's own."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import gradcheck
from gradcheck.diagnostics import adjoint_finding
from gradcheck.layers import (
    LAYERNORM,
    MAXPOOL_3X3,
    RELU,
    SOFTMAX,
    dense_forward,
    dense_grad_b,
    dense_grad_input,
    dense_grad_W,
    relu_forward,
    relu_grad_x,
)
from gradcheck.layers.examples import example_inputs
from gradcheck.mutants import mutants_of

pytestmark = pytest.mark.filterwarnings("ignore::gradcheck.GradcheckWarning")

DENSE_GRADS = {"x_input": dense_grad_input, "W": dense_grad_W, "b": dense_grad_b}


def check(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gradcheck.check_layer(*args, **kwargs)


def dense_inputs(seed=0, dtype=np.float64, n=5, i=18, o=3):
    rng = np.random.default_rng(seed)
    return {
        "x_input": rng.normal(size=(n, i)).astype(dtype),
        "W": rng.normal(size=(i, o)).astype(dtype),
        "b": rng.normal(size=o).astype(dtype),
    }


def tanh(x):
    return np.tanh(x)


def absolute(x):
    return np.abs(x)


def tanh_grad(x, grad_output):
    return (1 - np.tanh(x) ** 2) * grad_output


# --- precision and step size -------------------------------------------------


def test_float32_tanh_passes_and_says_so():
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)

    report = check(tanh, {"x": tanh_grad}, {"x": x})

    assert report.status == "pass"
    assert "float32-input" in report.warnings


def test_float32_one_percent_error_still_fails():
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)

    def wrong(x, grad_output):
        return 1.01 * tanh_grad(x, grad_output)

    assert check(tanh, {"x": wrong}, {"x": x}).status == "fail"


def test_float16_layer_passes_with_a_resolvable_step():
    x = np.random.default_rng(2).normal(size=(3, 3)).astype(np.float16)

    report = check(tanh, {"x": tanh_grad}, {"x": x})

    assert report.status == "pass"
    assert "float16-input" in report.warnings


# --- kinks and ties ----------------------------------------------------------


def test_abs_at_zero_is_a_kink():
    def grad(x, grad_output):
        return np.where(x >= 0, 1.0, -1.0) * grad_output

    report = check(absolute, {"x": grad}, {"x": np.array([0.0, 0.5, -0.7, 0.0])})

    assert report.status == "inconclusive"
    assert report.warnings == ["kink"]
    assert report.blocks["x"].n_inconclusive == 2


def test_clip_at_its_bound_is_a_kink():
    def clip(x):
        return np.clip(x, -1.0, 1.0)

    def grad(x, grad_output):
        return np.where(np.abs(x) < 1.0, grad_output, 0.0)

    report = check(clip, {"x": grad}, {"x": np.array([1.0, 0.3, -1.0, 2.0])})

    assert report.status == "inconclusive"
    assert "kink" in report.warnings


def test_relu_just_beside_its_kink_is_inconclusive_not_failed():
    x = np.array([1e-7, -2e-7, 0.4, -0.6])

    report = check(relu_forward, {"x": relu_grad_x}, {"x": x})

    assert report.status in ("inconclusive", "pass")
    assert report.status != "fail"


def test_a_value_outside_both_one_sided_derivatives_fails_at_a_kink():
    def doubled(x, grad_output):
        return np.where(x >= 0, 2.0 * grad_output, 0.0)

    report = check(relu_forward, {"x": doubled}, {"x": np.zeros(4)})

    assert report.status == "fail"
    assert "outside the one-sided derivatives" in str(report)


def test_layer_spec_mask_marks_kinks_without_probing():
    calls = itertools.count()

    def counted_relu(x):
        next(calls)
        return relu_forward(x)

    with_mask = check(
        counted_relu, {"x": relu_grad_x}, {"x": np.zeros(6)}, nonsmooth=RELU.nonsmooth
    )
    used_with_mask = next(calls)
    check(counted_relu, {"x": relu_grad_x}, {"x": np.zeros(6)})
    used_without = next(calls) - used_with_mask - 1

    assert with_mask.status == "inconclusive"
    assert used_with_mask < used_without


def test_row_max_with_ties_is_a_tie():
    def row_max(x):
        return x.max(axis=1)

    def grad(x, grad_output):
        result = np.zeros_like(x)
        result[np.arange(len(x)), x.argmax(axis=1)] = grad_output
        return result

    x = np.array([[1.0, 1.0, 0.2], [0.5, -0.3, 0.5]])
    report = check(row_max, {"x": grad}, {"x": x})

    assert report.status == "inconclusive"
    assert report.warnings == ["tie"]


def test_overlapping_maxpool_on_a_constant_image_is_inconclusive():
    spec = MAXPOOL_3X3
    x = np.ones((1, 1, 5, 5))

    report = check(spec.forward, spec.grads, {"x": x}, seed=4)

    assert report.status == "inconclusive"
    assert "tie" in report.warnings


# --- noise floor and degenerate losses ---------------------------------------


@pytest.mark.parametrize("spec", [SOFTMAX, LAYERNORM], ids=["softmax", "layernorm"])
def test_layers_whose_outputs_sum_to_a_constant_are_degenerate_under_sum(spec):
    inputs = example_inputs(spec.name)
    if "gamma" in inputs:
        inputs["gamma"] = np.ones_like(inputs["gamma"])
    grads = {name: spec.grads[name] for name in ("x",)}

    report = check(spec.forward, grads, inputs, loss=np.sum)

    assert report.blocks["x"].status == "inconclusive"
    assert "degenerate-loss" in report.warnings


# --- nondeterminism and state ------------------------------------------------


def test_dropout_with_a_fresh_mask_per_call_is_flagged_then_fixed_by_reset():
    state = {"rng": np.random.default_rng(11)}

    def dropout(x):
        return x * (state["rng"].random(x.shape) > 0.5) * 2

    def grad(x, grad_output):
        return grad_output * (state["rng"].random(x.shape) > 0.5) * 2

    def reset():
        state["rng"] = np.random.default_rng(3)

    x = np.random.default_rng(0).normal(size=(3, 4))
    unseeded = check(dropout, {"x": grad}, {"x": x})
    seeded = check(dropout, {"x": grad}, {"x": x}, reset=reset)

    assert unseeded.status == "inconclusive"
    assert unseeded.warnings == ["nondeterministic-forward"]
    assert seeded.status == "pass"


def test_backward_with_tiny_noise_needs_nondet_tol():
    noise = np.random.default_rng(13)

    def noisy(x, grad_output):
        return tanh_grad(x, grad_output) + 1e-10 * noise.standard_normal(x.shape)

    x = np.random.default_rng(5).normal(size=(3, 2))
    strict = check(tanh, {"x": noisy}, {"x": x})
    tolerant = check(tanh, {"x": noisy}, {"x": x}, nondet_tol=1e-8)

    assert strict.status == "fail"
    assert "nondeterministic-backward" in strict.warnings
    assert tolerant.status == "pass"


def test_backward_that_counts_its_calls_is_stateful():
    calls = itertools.count(1)

    def growing(x, grad_output):
        return next(calls) * tanh_grad(x, grad_output)

    x = np.random.default_rng(6).normal(size=4)
    report = check(tanh, {"x": growing}, {"x": x})

    assert report.status == "fail"
    assert report.warnings == ["stateful-backward"]


def test_forward_that_reuses_its_output_buffer_is_not_mistaken_for_anything():
    buffer = np.empty((3, 4))

    def forward(x):
        np.tanh(x, out=buffer)
        return buffer

    x = np.random.default_rng(7).normal(size=(3, 4))
    assert check(forward, {"x": tanh_grad}, {"x": x}).status == "pass"


def test_forward_returning_its_input_itself_passes():
    def identity(x):
        return x

    def grad(x, grad_output):
        return grad_output

    x = np.random.default_rng(8).normal(size=5)
    assert check(identity, {"x": grad}, {"x": x}).status == "pass"


# --- memory sharing and dtypes -----------------------------------------------


def test_one_array_passed_as_two_inputs_is_copied_and_noted():
    a = np.random.default_rng(9).normal(size=4)
    grads = {
        "x": lambda x, y, grad_output: grad_output * y,
        "y": lambda x, y, grad_output: grad_output * x,
    }

    report = check(lambda x, y: x * y, grads, {"x": a, "y": a})

    assert report.status == "pass"
    assert "aliased-input" in report.warnings


def test_overlapping_sliding_view_is_checked_per_element():
    base = np.arange(1.0, 5.0)
    windows = np.lib.stride_tricks.sliding_window_view(base, 2)

    report = check(
        lambda x: x**2,
        {"x": lambda x, grad_output: 2 * x * grad_output},
        {"x": windows},
    )

    assert report.status == "pass"
    assert "aliased-input" in report.warnings


def test_integer_dense_inputs_are_promoted():
    inputs = {k: (v * 3).astype(np.int64) for k, v in dense_inputs(10).items()}

    report = check(dense_forward, DENSE_GRADS, inputs)

    assert report.status == "pass"
    assert "integer-input" in report.warnings


# --- backward bugs and their diagnosis ---------------------------------------


def test_backward_that_takes_abs_of_grad_output_is_nonlinear():
    def wrong(x, grad_output):
        return (1 - np.tanh(x) ** 2) * np.abs(grad_output)

    x = np.random.default_rng(11).normal(size=(3, 3))
    report = check(tanh, {"x": wrong}, {"x": x})

    assert report.status == "fail"
    assert "nonlinear-backward" in report.warnings


def test_backward_with_an_added_constant_is_nonlinear():
    def wrong(x, grad_output):
        return tanh_grad(x, grad_output) + 1e-3

    x = np.random.default_rng(12).normal(size=(3, 3))
    assert "nonlinear-backward" in check(tanh, {"x": wrong}, {"x": x}).warnings


def test_dense_weight_gradient_divided_by_the_batch_is_a_scale_factor():
    def batch_mean(x_input, W, b, grad_output):
        return dense_grad_W(x_input=x_input, W=W, b=b, grad_output=grad_output) / len(
            x_input
        )

    report = check(dense_forward, {"W": batch_mean}, dense_inputs(13))

    assert report.status == "fail"
    assert "constant ratio" in report.blocks["W"].diagnosis[0]
    assert "1/5" in report.blocks["W"].diagnosis[0]


def test_sign_flipped_bias_gradient_is_named_and_localised():
    def flipped(x_input, W, b, grad_output):
        return -dense_grad_b(x_input=x_input, W=W, b=b, grad_output=grad_output)

    report = check(dense_forward, {**DENSE_GRADS, "b": flipped}, dense_inputs(14))

    assert report.status == "fail"
    assert any("sign flip" in hint for hint in report.blocks["b"].diagnosis)
    assert "localised: the gradients for b are wrong" in str(report)


def test_transposed_square_weight_gradient_is_diagnosed():
    def transposed(x_input, W, b, grad_output):
        return dense_grad_W(x_input=x_input, W=W, b=b, grad_output=grad_output).T

    inputs = dense_inputs(15, i=4, o=4)
    report = check(dense_forward, {"W": transposed}, inputs)

    assert report.status == "fail"
    assert any("transposed" in hint for hint in report.blocks["W"].diagnosis)


def test_transposed_rectangular_weight_gradient_fails_on_shape():
    def transposed(x_input, W, b, grad_output):
        return dense_grad_W(x_input=x_input, W=W, b=b, grad_output=grad_output).T

    report = check(dense_forward, {"W": transposed}, dense_inputs(16))

    assert report.blocks["W"].codes == ["wrong-shape"]
    assert "transpose" in report.blocks["W"].message


def window_sum(x):
    return x[:-2] + x[1:-1] + x[2:]


def test_overwritten_instead_of_accumulated_windows_are_diagnosed():
    def overwrite(x, grad_output):
        result = np.zeros_like(x)
        for start, g in enumerate(grad_output):
            result[start : start + 3] = g
        return result

    x = np.random.default_rng(17).normal(size=9)
    report = check(window_sum, {"x": overwrite}, {"x": x})

    assert report.status == "fail"
    assert "several overlapping windows" in " ".join(report.blocks["x"].diagnosis)


def test_tanh_backward_on_the_input_fails_everywhere():
    def wrong(x, grad_output):
        return (1 - x**2) * grad_output

    x = np.random.default_rng(18).normal(size=6)
    report = check(tanh, {"x": wrong}, {"x": x})

    assert report.blocks["x"].n_failed == 6


@pytest.mark.parametrize("mutant", mutants_of("dense"), ids=lambda m: m.name)
def test_every_dense_mutant_fails(mutant):
    grads = {**DENSE_GRADS, **mutant.grads}

    assert check(dense_forward, grads, dense_inputs(19), seed=1).status == "fail"


def test_nan_in_the_analytic_gradient_fails():
    def nan_grad(x, grad_output):
        result = tanh_grad(x, grad_output)
        result[1] = np.nan
        return result

    report = check(tanh, {"x": nan_grad}, {"x": np.array([0.1, 0.2, 0.3])})

    assert report.status == "fail"
    assert report.blocks["x"].worst_index == (1,)


def test_all_elements_masked_never_passes_a_wrong_gradient():
    def wrong(x, grad_output):
        return 3 * grad_output

    masks = {"x": np.ones(4, dtype=bool)}
    report = check(relu_forward, {"x": wrong}, {"x": np.zeros(4)}, nonsmooth=masks)

    assert report.status != "pass"


# --- the adjoint test --------------------------------------------------------


def test_adjoint_test_runs_on_affine_inputs_only():
    report = check(dense_forward, DENSE_GRADS, dense_inputs(20))
    tanh_report = check(tanh, {"x": tanh_grad}, {"x": np.linspace(-1, 1, 5)})

    assert all("adjoint test" in " ".join(b.notes) for b in report.blocks.values())
    assert not tanh_report.blocks["x"].notes


def test_adjoint_test_catches_an_error_below_the_fd_tolerance():
    def slightly_off(x_input, W, b, grad_output):
        return dense_grad_W(x_input=x_input, W=W, b=b, grad_output=grad_output) * (
            1 + 5e-8
        )

    report = check(dense_forward, {"W": slightly_off}, dense_inputs(21), seed=3)

    assert report.blocks["W"].n_failed == 0
    assert report.status == "fail"
    assert report.warnings == ["adjoint-mismatch"]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("name", ["x_input", "W", "b"])
def test_adjoint_test_holds_for_a_correct_dense_layer_at_real_size(seed, name):
    inputs = dense_inputs(seed, n=128, i=512, o=64)
    upstream = np.random.default_rng(seed + 100).normal(size=(128, 64))
    analytic = DENSE_GRADS[name](**inputs, grad_output=upstream)

    def output_of(x):
        return dense_forward(**{**inputs, name: x})

    finding = adjoint_finding(
        output_of, inputs[name], upstream, analytic, np.dtype(np.float64)
    )

    assert finding.code == "adjoint-exact"


def test_adjoint_test_skips_a_positively_homogeneous_layer():
    x = np.random.default_rng(22).normal(size=(4, 5))
    upstream = np.random.default_rng(23).normal(size=(4, 5))

    finding = adjoint_finding(
        relu_forward, x, upstream, relu_grad_x(x, upstream), np.dtype(np.float64)
    )

    assert finding is None


def test_routing_is_checked_per_slice_not_only_in_total():
    def row_max(x):
        return x.max(axis=1)

    def misrouted(x, grad_output):
        result = np.zeros_like(x)
        result[0, x[0].argmax()] = grad_output.sum()
        return result

    x = np.ones((3, 4))
    report = check(row_max, {"x": misrouted}, {"x": x}, loss=np.sum)

    assert report.status == "fail"
    assert "tie-routing" in report.warnings
    assert "slice (1,)" in str(report) or "slice (0,)" in str(report)
