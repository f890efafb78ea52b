"""The explanations a report gives must be true for the case at hand."""

import warnings

import numpy as np
import pytest

import gradcheck
from gradcheck.diagnosis import diagnose
from gradcheck.layers import dense_forward, dense_grad_W
from gradcheck.layers.batchnorm import batchnorm_forward, batchnorm_grad_x, normalise
from gradcheck.report import degenerate_advice


def _quiet_gradient(f, grad, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gradcheck.check_gradient(f, grad, x)


def _quiet_layer(forward, grads, inputs, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gradcheck.check_layer(forward, grads, inputs, **kwargs)


# --- overlapping-window hint ------------------------------------------------


def test_r26_single_wrong_element_is_not_blamed_on_overlapping_windows():
    weights = np.array([1.0, 0.75, 1.0])

    report = _quiet_gradient(
        lambda v: np.sum(v**2 * weights), lambda v: 2 * v, np.array([0.0, 1.0, 1.0])
    )

    text = str(report)
    assert report.status == "fail"
    assert "overlapping windows" not in text
    assert report.blocks["x"].diagnosis == [
        "only element (1,) is wrong (analytic 2, numeric 1.5); the other 2 agree"
    ]


def test_two_interior_errors_of_a_short_vector_are_not_window_evidence():
    analytic = np.array([1.0, 5.0, 6.0, 1.0])
    numeric = np.array([1.0, 2.0, 3.0, 1.0])

    hints = diagnose(analytic, numeric, 1e-7, mask=analytic != numeric)

    assert not any("windows" in hint for hint in hints)


def test_errors_at_only_some_shared_positions_are_not_window_evidence():
    mask = np.zeros(9, dtype=bool)
    mask[[2, 5]] = True
    numeric = np.arange(1.0, 10.0)
    analytic = numeric + 3.0 * mask

    hints = diagnose(analytic, numeric, 1e-7, mask=mask)

    assert not any("windows" in hint for hint in hints)


def test_errors_on_every_shared_element_of_a_plane_name_the_layout():
    counts = np.array([1, 2, 1])
    mask = np.outer(counts, counts) >= 2
    numeric = np.arange(1.0, 10.0).reshape(3, 3)
    analytic = numeric + mask * np.arange(2.0, 11.0).reshape(3, 3)

    hints = diagnose(analytic, numeric, 1e-7, mask=mask)

    assert hints == [
        "errors exactly at the elements that several overlapping windows share "
        "(they fit kernel 2, stride 1); elements in one window are right: a "
        "missing accumulation, the backward assigns (=) where it must add (+=)"
    ]


# --- ratio text --------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        (0.2, "constant ratio: analytic = 0.2 × numeric (1/5): "),
        (2.0, "constant ratio: analytic = 2 × numeric: "),
        (-3.0, "constant ratio: analytic = -3 × numeric: "),
    ],
)
def test_constant_ratio_reads_as_a_multiple_with_an_inverse_below_one(scale, expected):
    report = _quiet_gradient(
        lambda v: np.sum(v**2), lambda v: scale * 2 * v, np.array([0.5, -1.0, 2.0])
    )

    assert report.blocks["x"].diagnosis[0].startswith(expected)


def test_one_outlier_among_right_elements_is_not_a_constant_ratio():
    numeric = np.linspace(1.0, 2.0, 20)
    analytic = numeric.copy()
    analytic[0] *= 1.0005

    hints = diagnose(analytic, numeric, 1e-7, mask=analytic != numeric)

    assert hints == [
        "only element (0,) is wrong (analytic 1.0005, numeric 1); the other 19 agree"
    ]


# --- kinks and ties ----------------------------------------------------------


def _bn_wrong_x(x, gamma, beta, grad_output):
    _, inv_std = normalise(x)
    return gamma * inv_std * grad_output


def test_wrong_batchnorm_under_a_sum_loss_fails_without_a_kink():
    rng = np.random.default_rng(11)
    inputs = {"x": rng.normal(size=(5, 3)), "gamma": np.ones(3), "beta": np.zeros(3)}

    report = _quiet_layer(batchnorm_forward, {"x": _bn_wrong_x}, inputs, loss=np.sum)

    block = report.blocks["x"]
    assert report.status == "fail"
    assert "kink" not in report.warnings and "tie" not in report.warnings
    assert "kink" not in str(report)
    assert block.n_failed == 15 and block.n_inconclusive == 0
    assert block.diagnosis[0].startswith("the numeric gradient is essentially zero")


def _relu(x):
    return np.maximum(x, 0)


def test_r06_wrong_backward_at_the_kink_is_not_called_valid():
    def tripled(x, grad_output):
        return 3.0 * grad_output

    report = _quiet_layer(_relu, {"x": tripled}, {"x": np.zeros((3, 4))}, seed=0)

    block = report.blocks["x"]
    assert block.status == "fail"
    assert "valid" not in block.message
    assert block.message == (
        "12 element(s) sit at a kink, and their analytic values lie outside both "
        "one-sided derivatives: wrong on either side of it"
    )
    assert (block.n_failed, block.n_inconclusive) == (12, 0)


def test_r06_mixed_kink_block_separates_valid_from_wrong_elements():
    def one_wrong(x, grad_output):
        result = np.where(x > 0, grad_output, 0.0)
        result[0, 3] = 5 * grad_output[0, 3]
        return result

    x = np.array([[0.0, 1.0, -1.0, 0.0]])
    report = _quiet_layer(_relu, {"x": one_wrong}, {"x": x}, seed=0)

    block = report.blocks["x"]
    assert block.status == "fail"
    assert block.message.startswith(
        "1 element(s) disagree only because a kink lies inside their "
        "finite-difference stencil, where no derivative exists; their analytic "
        "values are valid one-sided derivatives; 1 element(s) sit at a kink, and "
        "their analytic values lie outside both one-sided derivatives"
    )
    assert (block.n_failed, block.n_inconclusive) == (1, 1)


def test_r06_right_backward_at_the_kink_keeps_its_valid_verdict():
    def right(x, grad_output):
        return np.where(x > 0, grad_output, 0.0)

    report = _quiet_layer(_relu, {"x": right}, {"x": np.zeros((3, 4))}, seed=0)

    assert report.status == "inconclusive"
    assert "12 element(s) disagree only because a kink" in report.blocks["x"].message
    assert "valid one-sided derivatives" in report.blocks["x"].message


# --- scipy cross-check -------------------------------------------------------


def _cubes(v):
    return np.sum(v**3)


def test_small_real_bug_below_scipys_resolution_is_not_a_disagreement():
    x = np.random.default_rng(0).normal(size=20)

    def one_element_off(v):
        result = 3 * v**2
        result[0] *= 1 + 1e-3
        return result

    report = _quiet_gradient(_cubes, one_element_off, x)

    check = report.cross_checks[0]
    assert report.status == "fail"
    assert check.passed and check.agrees and check.below_resolution
    assert "DISAGREES" not in str(report)
    assert "cross-check-disagrees" not in report.warnings
    assert "below scipy's resolution (the norm of the gradient at 1e-04)" in str(report)


def test_bug_scipy_could_see_but_missed_still_disagrees():
    x = np.array([0.5, -1.0, 2.0])

    report = _quiet_gradient(_cubes, lambda v: 0.5 * 3 * v**2, x)

    check = report.cross_checks[0]
    assert not check.passed and check.agrees and not check.below_resolution
    assert str(report).splitlines()[-1].endswith("fail at 1e-04; agrees")


def test_all_zero_analytic_gradient_gives_a_finite_cross_check_error():
    x = np.array([1.0, -1.0, 0.0])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = gradcheck.check_gradient(_cubes, lambda v: 0 * v, x)

    check = report.cross_checks[0]
    assert check.rel_error == pytest.approx(1.0)
    assert not check.passed and check.agrees


# --- blocks failed by a pre-check ---------------------------------------------


def test_block_failed_by_the_adjoint_test_says_so_before_its_counts():
    rng = np.random.default_rng(21)
    inputs = {
        "x_input": rng.normal(size=(5, 3)),
        "W": rng.normal(size=(3, 2)),
        "b": rng.normal(size=2),
    }

    def slightly_off(x_input, W, b, grad_output):
        return dense_grad_W(x_input=x_input, W=W, b=b, grad_output=grad_output) * (
            1 + 5e-8
        )

    report = _quiet_layer(dense_forward, {"W": slightly_off}, inputs, seed=3)

    block = report.blocks["W"]
    assert (block.status, block.n_failed, block.decided_by) == (
        "fail",
        0,
        "adjoint test",
    )
    assert (
        "  failed by the adjoint test; 0 of 6 elements differ from finite "
        "differences" in str(report).splitlines()
    )
    assert "0 of 6 elements failed" not in str(report)


def test_block_failed_by_the_repeat_test_names_it():
    calls = []

    def accumulating(x, grad_output):
        calls.append(1)
        return 2 * x * grad_output + 1e-12 * len(calls)

    report = _quiet_layer(lambda x: x**2, {"x": accumulating}, {"x": np.ones(3)})

    block = report.blocks["x"]
    assert (block.status, block.n_failed, block.codes) == (
        "fail",
        0,
        ["stateful-backward"],
    )
    assert "  failed by the repeat test; 0 of 3 elements differ from finite " in (
        str(report)
    )


def test_block_failed_by_the_comparison_keeps_the_plain_count():
    report = _quiet_gradient(
        lambda v: np.sum(v**2), lambda v: 4 * v, np.array([0.5, -1.0, 2.0])
    )

    assert report.blocks["x"].decided_by == ""
    assert "  3 of 3 elements failed" in str(report).splitlines()


# --- degenerate loss -----------------------------------------------------------


def test_degenerate_advice_under_a_sum_loss_suggests_the_default_loss():
    rng = np.random.default_rng(11)
    inputs = {"x": rng.normal(size=(5, 3)), "gamma": np.ones(3), "beta": np.zeros(3)}

    report = _quiet_layer(
        batchnorm_forward, {"x": batchnorm_grad_x}, inputs, loss=np.sum
    )

    assert report.status == "inconclusive"
    assert degenerate_advice(report) == (
        "gradients of x are below the finite-difference noise floor: the loss "
        "'sum' may not depend on it here (a plain sum of a zero-mean output is "
        "constant), or the output is saturated or has values so large that "
        "rounding hides the slope; use the default random-weighted loss "
        "(loss=None), or inputs away from saturation."
    )
    assert f"advice: {degenerate_advice(report)}" in str(report)


def test_degenerate_advice_under_the_default_loss_blames_the_layer_not_the_loss():
    def flat(x):
        return np.tanh(x)

    def flat_grad(x, grad_output):
        return grad_output / np.cosh(x) ** 2

    report = _quiet_layer(flat, {"x": flat_grad}, {"x": np.full(3, 40.0)}, seed=0)

    advice = degenerate_advice(report)
    assert report.blocks["x"].codes == ["degenerate-loss"]
    assert "random-weighted loss" not in advice
    assert advice == (
        "gradients of x are below the finite-difference noise floor: the layer "
        "output does not depend on it at this point, or it is saturated, or has "
        "values so large that rounding hides the slope; check at inputs away "
        "from saturation."
    )
