"""The command line: the main job, checking a user's file, exit codes."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gradcheck.cli import main
from gradcheck.seed import load_seed

STUDENT = textwrap.dedent(
    """
    import numpy as np

    def right(x_input, grad_output, W, b):
        return grad_output.dot(W.T)

    def wrong_shape(x_input, grad_output, W, b):
        return grad_output @ W

    def scaled(x_input, grad_output, W, b):
        return grad_output @ W.T / x_input.shape[0]

    def sign_flipped(x_input, grad_output, W, b):
        return -grad_output @ W.T

    def too_few_arguments(x_input, grad_output):
        return x_input

    NOT_A_FUNCTION = 3
    """
)


@pytest.fixture
def student_file(tmp_path):
    path = tmp_path / "student.py"
    path.write_text(STUDENT)
    return path


def test_main_job_prints_a_passing_report_with_grad_input(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "gradcheck PASS" in out
    assert "grad_input" in out
    assert "1.27781144" in out  # first element of the seed's grad_input
    assert "largest difference from the seed's expected grad_input: 0.0e+00" in out


def test_main_job_as_a_module_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "gradcheck"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "gradcheck PASS" in result.stdout


def test_main_job_json_carries_grad_input(capsys):
    assert main(["--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "pass"
    np.testing.assert_allclose(
        summary["grad_input"], load_seed().expected["grad_input"], atol=1e-12
    )


def test_right_function_passes(student_file, capsys):
    assert main(["check", f"{student_file}:right"]) == 0
    assert "gradcheck PASS" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "expected_text"),
    [
        ("scaled", "constant ratio: analytic = 0.2 × numeric (1/5)"),
        ("sign_flipped", "sign flip"),
        ("wrong_shape", "mismatch"),
    ],
)
def test_wrong_functions_fail_with_a_named_input(
    student_file, capsys, name, expected_text
):
    assert main(["check", f"{student_file}:{name}"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"gradcheck FAIL: {name} in x_input")
    assert expected_text in out


def test_scale_failure_names_worst_element_and_both_values(student_file, capsys):
    main(["check", f"{student_file}:scaled", "--json"])
    block = json.loads(capsys.readouterr().out)["blocks"]["x_input"]
    assert block["status"] == "fail"
    assert len(block["worst_index"]) == 2
    ratio = block["analytic_at_worst"] / block["numeric_at_worst"]
    assert ratio == pytest.approx(0.2, rel=1e-6)


def test_inputs_file_is_used(student_file, tmp_path, capsys):
    rng = np.random.default_rng(1)
    path = tmp_path / "arrays.npz"
    np.savez(
        path,
        x_input=rng.normal(size=(3, 4)),
        W=rng.normal(size=(4, 2)),
        b=rng.normal(size=2),
    )
    assert (
        main(["check", f"{student_file}:right", "--inputs", str(path), "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["blocks"]["x_input"]["n_checked"] == 12


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{dir}/missing.py:right", "no such file"),
        ("{file}:nothing_here", "defines no 'nothing_here'"),
        ("{file}:NOT_A_FUNCTION", "not a function"),
        ("{file}:too_few_arguments", "lacks W, b"),
        ("{file}", "expected FILE.py:NAME"),
    ],
)
def test_bad_targets_get_one_line_and_exit_2(student_file, capsys, target, message):
    target = target.format(dir=student_file.parent, file=student_file)
    assert main(["check", target]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_file_that_fails_to_import_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\nraise RuntimeError('oops')\n")
    assert main(["check", f"{path}:f"]) == 2
    assert "importing" in capsys.readouterr().err


def test_mismatched_input_shapes_exit_2(student_file, tmp_path, capsys):
    path = tmp_path / "bad.npz"
    np.savez(path, x_input=np.ones((3, 4)), W=np.ones((5, 2)), b=np.ones(2))
    assert main(["check", f"{student_file}:right", "--inputs", str(path)]) == 2
    assert "do not fit" in capsys.readouterr().err


def test_closed_pipe_is_not_a_traceback():
    result = subprocess.run(
        f"{sys.executable} -m gradcheck | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.startswith("The seed's dense layer")
    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr


def test_float32_warning_is_one_line_on_stderr(student_file, tmp_path, capsys):
    rng = np.random.default_rng(2)
    path = tmp_path / "f32.npz"
    np.savez(
        path,
        x_input=rng.normal(size=(3, 4)).astype(np.float32),
        W=rng.normal(size=(4, 2)).astype(np.float32),
        b=rng.normal(size=2).astype(np.float32),
    )
    assert main(["check", f"{student_file}:right", "--inputs", str(path)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [line for line in err if line.startswith("gradcheck: warning: ")]
    assert any("float32" in line for line in err)


def test_text_file_as_inputs_is_a_usage_error(student_file, tmp_path, capsys):
    path = tmp_path / "garbage.npz"
    path.write_text("not an archive")
    assert main(["check", f"{student_file}:right", "--inputs", str(path)]) == 2
    assert "cannot read" in capsys.readouterr().err
