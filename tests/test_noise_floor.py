"""The noise floor: errors inside the finite-difference bound pass, convergence
decides borderline elements, and the report says what it applied."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck.errors import DegenerateLossWarning, LooseToleranceWarning

pytestmark = pytest.mark.filterwarnings("ignore::gradcheck.GradcheckWarning")


def test_huge_constant_offset_in_the_loss_does_not_fail_a_right_gradient():
    x = np.linspace(-2, 2, 50)

    report = gradcheck.check_gradient(
        lambda v: 1e6 + np.sum(np.sin(v)), lambda v: np.cos(v), x
    )

    assert report.status == "pass"
    assert report.blocks["x"].fd_error_at_worst > 1e-6


def test_a_real_error_above_the_noise_floor_still_fails_with_a_huge_offset():
    x = np.linspace(-2, 2, 50)

    report = gradcheck.check_gradient(
        lambda v: 1e6 + np.sum(np.sin(v)), lambda v: 1.05 * np.cos(v), x
    )

    assert report.status == "fail"


def test_sharp_function_is_confirmed_by_the_step_sweep():
    x = np.linspace(0.1, 0.2, 7)

    report = gradcheck.check_gradient(
        lambda v: np.sum(np.sin(1000 * v)), lambda v: 1000 * np.cos(1000 * v), x
    )

    assert report.status == "pass"
    assert "confirmed by a step sweep" in report.blocks["x"].message


def test_sharp_function_with_a_small_real_error_levels_off_and_fails():
    x = np.linspace(0.1, 0.2, 7)

    report = gradcheck.check_gradient(
        lambda v: np.sum(np.sin(1000 * v)),
        lambda v: 1000 * np.cos(1000 * v) * (1 + 1e-4),
        x,
    )

    assert report.status == "fail"


def test_loss_so_large_that_rounding_hides_the_slope_is_not_passed():
    report = gradcheck.check_gradient(
        lambda v: 1e12 + np.sum(np.sin(v)), lambda v: np.cos(v), np.linspace(-2, 2, 9)
    )

    assert report.status == "inconclusive"
    assert "so large that rounding hides the slope" in str(report)


def test_constant_function_is_degenerate_not_passed():
    with pytest.warns(DegenerateLossWarning):
        report = gradcheck.check_gradient(
            lambda v: 3.0 + 0 * np.sum(v), lambda v: np.zeros_like(v), np.ones(4)
        )

    assert report.status == "inconclusive"
    assert report.warnings == ["degenerate-loss"]


def test_report_states_tolerance_source_and_error_bound():
    x = np.linspace(-1, 1, 5)
    default = gradcheck.check_gradient(lambda v: np.sum(v**4), lambda v: 4 * v**3, x)
    given = gradcheck.check_gradient(
        lambda v: np.sum(v**4), lambda v: 4 * v**3, x, rtol=1e-6
    )

    block = default.blocks["x"]
    assert "default for float64" in str(default)
    assert "given" in str(given)
    assert "estimated finite-difference error" in str(default)
    assert block.error_bound_at_worst >= block.fd_error_at_worst > 0
    assert block.truncation_at_worst > 0
    assert default.to_dict()["blocks"]["x"]["tolerance_source"] == "default for float64"


def test_truncation_estimate_matches_the_known_third_derivative():
    x = np.array([0.1])
    report = gradcheck.check_gradient(
        lambda v: np.sum(np.exp(50 * v)), lambda v: 50 * np.exp(50 * v), x
    )

    block = report.blocks["x"]
    expected = block.step_at_worst**2 * 50**3 * np.exp(5.0) / 6
    assert block.truncation_at_worst == pytest.approx(expected, rel=0.2)


def test_tolerance_looser_than_one_percent_warns():
    with pytest.warns(LooseToleranceWarning):
        gradcheck.check_gradient(
            lambda v: np.sum(v**2), lambda v: 2 * v, np.ones(3), rtol=0.05
        )


def test_float32_tolerances_follow_the_dtype():
    x = np.linspace(-1, 1, 6).astype(np.float32)

    report = gradcheck.check_gradient(lambda v: np.sum(v**3), lambda v: 3 * v**2, x)

    assert report.status == "pass"
    assert report.blocks["x"].tolerance.dtype == "float32"
    assert report.blocks["x"].tolerance.rtol > 1e-6
