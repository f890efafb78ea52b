"""Plain-text rendering of a :class:`~gradcheck.report.Report`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report import Block, CrossCheck, Report

__all__ = ["render_report"]


def render_report(report: Report) -> str:
    """The report as text: a headline that stands alone, a table, then details."""
    lines = [_headline(report), "", *_table(report)]
    for block in report.blocks.values():
        if block.status != "pass" or block.message:
            lines += ["", *_block_details(block)]
        else:
            lines += ["", *_pass_details(block)]
    lines += _cross_check_lines(report)
    lines += _advice_lines(report)
    if report.warnings:
        lines += ["", "warnings: " + ", ".join(report.warnings)]
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


def _headline(report: Report) -> str:
    failing = [name for name, b in report.blocks.items() if b.status == "fail"]
    where = f" in {', '.join(failing)}" if failing else ""
    seed = "" if report.seed is None else f", seed {report.seed}"
    return (
        f"gradcheck {report.status.upper()}: {report.function}{where} "
        f"(max rel error {report.max_rel_error:.2e}; loss {report.loss or 'given'}"
        f"{seed})"
    )


def _table(report: Report) -> list[str]:
    header = (
        f"  {'input':<12} {'status':<13} {'max rel err':>11}  {'worst index':<14} "
        f"{'analytic':>14} {'numeric':>14}"
    )
    rows = [header]
    for block in report.blocks.values():
        analytic, numeric = block.worst_values()
        rows.append(
            f"  {block.name:<12} {block.status:<13} {block.max_rel_error:>11.2e}  "
            f"{str(block.worst_index):<14} {analytic:>14.6e} {numeric:>14.6e}"
        )
    return rows


def _block_details(block: Block) -> list[str]:
    lines = [f"{block.name}: {block.status}"]
    if block.message:
        lines.append(f"  {block.message}")
    if block.n_checked:
        lines.append("  " + _counts(block))
    analytic, numeric = block.worst_values()
    if block.n_checked and analytic == analytic:
        lines.append(
            f"  worst element {block.worst_index}: analytic {analytic:.10e}, "
            f"numeric {numeric:.10e}, difference {abs(analytic - numeric):.3e}"
        )
        lines.append(f"  allowed there {block.allowed_at_worst:.3e}; {_bound(block)}")
    if block.tolerance is not None:
        lines.append(f"  tolerance: {block.tolerance.describe()}")
    lines += [f"  diagnosis: {hint}" for hint in block.diagnosis]
    lines += [f"  note: {note}" for note in block.notes]
    return lines


def _advice_lines(report: Report) -> list[str]:
    """Advice that depends on the whole report, such as the loss in use."""
    if "degenerate-loss" not in report.warnings:
        return []
    from .report import degenerate_advice

    return [f"advice: {degenerate_advice(report)}"]


def _counts(block: Block) -> str:
    """How many elements failed, led by the pre-check that decided instead."""
    if block.decided_by:
        verdict = "failed" if block.status == "fail" else "made inconclusive"
        text = (
            f"{verdict} by the {block.decided_by}; {block.n_failed} of "
            f"{block.n_checked} elements differ from finite differences"
        )
    else:
        text = f"{block.n_failed} of {block.n_checked} elements failed"
    if block.n_inconclusive:
        text += f", {block.n_inconclusive} inconclusive (kink, tie or unexamined)"
    return text


def _pass_details(block: Block) -> list[str]:
    """Two lines for a passing block: what was applied and what it resolves."""
    lines = [f"{block.name}: pass, {block.n_checked} elements"]
    if block.tolerance is not None:
        lines.append(f"  tolerance: {block.tolerance.describe()}")
    if block.n_checked:
        lines.append(f"  at the worst element {block.worst_index}: {_bound(block)}")
    lines += [f"  note: {note}" for note in block.notes]
    return lines


def _bound(block: Block) -> str:
    """The estimated finite-difference error at the worst element, in parts."""
    text = (
        f"estimated finite-difference error {block.error_bound_at_worst:.3e} "
        f"(rounding {block.fd_error_at_worst:.3e}"
    )
    if block.truncation_at_worst == block.truncation_at_worst:
        text += f" + truncation {block.truncation_at_worst:.3e}"
    return text + f") at step {block.step_at_worst:.3e}"


def _cross_check_lines(report: Report) -> list[str]:
    lines = []
    for check in report.cross_checks:
        verdict = "pass" if check.passed else "fail"
        agreement = _agreement(check)
        lines.append(
            f"cross-check {check.name} (scipy.optimize.check_grad, "
            f"direction={check.direction!r}): relative error {check.rel_error:.2e}, "
            f"{verdict} at {check.tolerance:.0e}; {agreement}"
        )
    return [""] + lines if lines else []


def _agreement(check: CrossCheck) -> str:
    if check.below_resolution:
        seen = "a random projection" if check.direction == "random" else "the norm"
        return (
            f"the main check's mismatch is below scipy's resolution ({seen} of "
            f"the gradient at {check.tolerance:.0e}), so scipy could not see it"
        )
    return "agrees" if check.agrees else "DISAGREES with the main check"
