"""The numeric core and the comparison: steps, promotion, the error metric."""

import numpy as np
import pytest

import gradcheck
from gradcheck.compare import elementwise_errors, resolve_tolerance
from gradcheck.numeric import central_difference, default_steps


def test_integer_input_is_promoted_not_truncated():
    x = np.array([1, 2])
    gradient = gradcheck.numeric_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_allclose(gradient, [2.0, 4.0], rtol=1e-9)
    assert gradient.dtype == np.float64
    assert x.dtype.kind == "i" and list(x) == [1, 2]


def test_input_is_never_modified():
    x = np.linspace(-2, 3, 12).reshape(3, 4)
    before = x.copy()

    def f(v):
        v += 1.0  # a careless function that writes into its argument
        return float(np.sum(np.sin(v)))

    gradcheck.numeric_gradient(f, x)
    np.testing.assert_array_equal(x, before)


def test_steps_scale_with_dtype_and_magnitude():
    x = np.array([0.0, 1.0, 1e3])
    steps64 = default_steps(x)
    steps32 = default_steps(x.astype(np.float32))
    assert steps64[0] == pytest.approx(np.cbrt(np.finfo(np.float64).eps), rel=1e-6)
    assert steps32[0] == pytest.approx(np.cbrt(np.finfo(np.float32).eps), rel=1e-6)
    assert steps64[2] == pytest.approx(1e3 * steps64[0], rel=1e-6)
    assert np.all((x + steps64) != x)


def test_float16_step_still_moves_the_point():
    x = np.array([1.0], dtype=np.float16)
    steps = default_steps(x)
    assert np.float16(x[0] + steps[0]) != x[0]


def test_central_difference_is_exact_for_quadratics_up_to_rounding():
    x = np.array([0.3, -1.7, 2.5])
    result = central_difference(lambda v: float(np.sum(3 * v**2 + v)), x)
    np.testing.assert_allclose(result.gradient, 6 * x + 1, rtol=1e-9)
    assert np.all(result.rounding_bound > 0)
    assert result.f0 == pytest.approx(np.sum(3 * x**2 + x))


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda v: v**2, "must return a scalar"),
        (lambda v: np.nan, "returned nan"),
        (lambda v: np.inf * np.sum(v), "returned inf"),
        (lambda v: "text", "not a real number"),
    ],
)
def test_bad_function_results_are_clear_errors(function, message):
    with pytest.raises(gradcheck.GradcheckError, match=message):
        gradcheck.numeric_gradient(function, np.array([1.0, 2.0, 3.0]))


def test_vector_function_error_names_the_shape():
    with pytest.raises(gradcheck.GradcheckError, match=r"shape \(3,\)"):
        gradcheck.numeric_gradient(lambda v: v**2 / 2, np.array([1.0, 2.0, 3.0]))


def test_explicit_step_too_small_is_refused():
    with pytest.raises(gradcheck.GradcheckError, match="too small"):
        gradcheck.numeric_gradient(np.sum, np.array([1e6]), step=1e-12)


def test_error_metric_is_finite_at_zeros_and_fails_nan():
    tolerance = resolve_tolerance(np.dtype(np.float64), None, None)
    analytic = np.array([0.0, 1.0, 2.0])
    numeric = np.array([0.0, 1.5, 2.0])
    errors = elementwise_errors(analytic, numeric, np.full(3, 1e-12), tolerance)
    assert np.all(np.isfinite(errors.rel_error))
    assert list(errors.failed) == [False, True, False]

    errors = elementwise_errors(
        np.array([np.nan, 1.0]), np.array([1.0, 1.0]), np.zeros(2), tolerance
    )
    assert list(errors.failed) == [True, False]
    assert errors.rel_error[0] == np.inf


def test_float64_default_catches_one_part_in_a_million():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 3))
    weights = rng.normal(size=(4, 3))
    report = gradcheck.check_gradient(
        lambda v: np.sum(weights * np.tanh(v)),
        lambda v: weights * (1 - np.tanh(v) ** 2) * (1 + 1e-6),
        x,
    )
    assert report.status == "fail"
    assert report.blocks["x"].diagnosis


def test_check_gradient_reports_scipy_and_passes_a_right_gradient():
    x = np.array([0.5, -1.0, 2.0])
    report = gradcheck.check_gradient(lambda v: np.sum(v**3), lambda v: 3 * v**2, x)
    assert report.passed
    assert report.max_rel_error < 1e-8
    (cross_check,) = report.cross_checks
    assert cross_check.passed and cross_check.agrees
    assert "scipy" in str(report)


def test_report_to_dict_is_json_serialisable():
    import json

    report = gradcheck.check_gradient(
        lambda v: np.sum(v**2), lambda v: 3 * v, np.array([1.0, -2.0])
    )
    summary = json.loads(json.dumps(report.to_dict()))
    assert summary["status"] == "fail"
    assert summary["blocks"]["x"]["worst_index"] == [1]
    assert summary["blocks"]["x"]["analytic_at_worst"] == pytest.approx(-6.0)
    assert summary["blocks"]["x"]["numeric_at_worst"] == pytest.approx(-4.0)
