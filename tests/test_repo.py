"""The repository keeps its promises: README commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    first_screen = "\n".join(text.splitlines()[:40])
    return re.findall(r"^(python3 -m venv .*)$", first_screen, flags=re.MULTILINE)


def test_readme_first_screen_has_the_two_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("python -m gradcheck")
    assert "pytest" in commands[1]


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in ci_lines


def test_seed_data_shipped_in_the_package_matches_shared_when_present():
    shared = ROOT.parent / "shared" / "seed" / "dense_seed.json"
    packaged = ROOT / "gradcheck" / "data" / "dense_seed.json"
    if shared.exists():
        assert shared.read_bytes() == packaged.read_bytes()


def test_readme_failure_example_is_what_the_command_prints(tmp_path, capsys):
    from gradcheck.cli import main

    student = tmp_path / "student.py"
    student.write_text(
        "def dense_grad_input(x_input, grad_output, W, b):\n"
        "    return grad_output @ W.T / x_input.shape[0]\n"
    )
    assert main(["check", f"{student}:dense_grad_input"]) == 1
    printed = capsys.readouterr().out.strip()

    text = (ROOT / "README.md").read_text()
    start = text.index("```\ngradcheck FAIL: dense_grad_input") + len("```\n")
    shown = text[start : text.index("```", start)].strip()
    assert shown == printed
