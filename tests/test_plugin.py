pytest_plugins = ["pytester"]

LAYERS = """
import numpy as np


def square_forward(x):
    return x * x


def square_grad_x(x, grad_output):
    return 2 * x * grad_output


def double_forward(x):
    return 2 * x


def double_grad_x(x, grad_output):
    return grad_output
"""


def test_ini_names_layers_and_only_the_wrong_one_fails(pytester):
    pytester.makepyfile(mylayers=LAYERS)
    pytester.makeini(
        "[pytest]\ngradcheck_layers =\n"
        "    mylayers:double_forward (n)->(n)\n"
        "    mylayers:square_forward (n,k)->(n,k)\n"
        "gradcheck_max_examples = 20\n"
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*gradcheck*mylayers:double_forward*", "*in x*"])


def test_marker_keywords_are_checked(pytester):
    pytester.makepyfile(mylayers=LAYERS)
    pytester.makepyfile(
        test_it="""
import pytest
from mylayers import square_forward
from gradcheck.testing import layer_test

test_relu = pytest.mark.gradcheck(max_examples=5, losses=["mse"])(
    layer_test(square_forward, "(n,k)->(n,k)"))
test_typo = pytest.mark.gradcheck(max_exampels=5)(
    layer_test(square_forward, "(n,k)->(n,k)"))
"""
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*max_exampels*"])


FLAT = """
def flat_forward(x):
    return 0.0 * x


def flat_grad_x(x, grad_output):
    return 0.0 * grad_output
"""

INCONCLUSIVE_LINES = [
    "*most drawn inputs were inconclusive for this layer*",
    "why: degenerate-loss*",
    "*--gradcheck-max-magnitude*gradcheck_max_magnitude*",
]


def _assert_short_inconclusive_failure(result):
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(INCONCLUSIVE_LINES)
    text = result.stdout.str()
    assert "FailedHealthCheck" not in text and "Traceback" not in text
    assert "testing.py:" not in text


def test_ini_layer_that_is_always_inconclusive_fails_in_a_few_lines(pytester):
    pytester.makepyfile(mylayers=FLAT)
    pytester.makeini(
        "[pytest]\ngradcheck_layers =\n    mylayers:flat_forward (n,k)->(n,k)\n"
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    _assert_short_inconclusive_failure(result)


def test_layer_test_that_is_always_inconclusive_fails_in_a_few_lines(pytester):
    pytester.makepyfile(mylayers=FLAT)
    pytester.makepyfile(
        test_it="""
from mylayers import flat_forward
from gradcheck.testing import layer_test

test_flat = layer_test(flat_forward, "(n,k)->(n,k)")
"""
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    _assert_short_inconclusive_failure(result)
