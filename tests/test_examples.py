import shutil
from pathlib import Path

pytest_plugins = ["pytester"]

PROJECT = Path(__file__).parent.parent / "examples" / "student_project"


def test_example_project_fails_exactly_on_the_buggy_bias(pytester):
    for name in ("layers.py", "test_layers.py", "pytest.ini"):
        shutil.copy(PROJECT / name, pytester.path / name)

    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-o",
        "gradcheck_max_examples=30",
        "test_layers.py",
        "-k",
        "dense",
    )

    result.assert_outcomes(passed=0, failed=2)
    result.stdout.fnmatch_lines(["*gradcheck FAIL*in b*", "*constant ratio*0.5*"])
