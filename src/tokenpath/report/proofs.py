"""Render the rule-proof matrix (``simulate --prove-rules``) as text, JSON or the markdown of
``docs/rule-proofs.md``.

The JSON document is ``{"schema_version", "all_agree", "rows": [{"rule", "proxy", "version",
"case", "scenario", "predicted", "predicted_cut", "predicted_encoding", "measured",
"measured_cut", "measured_encoding", "fired", "agrees", "directives", "evidence", "seconds"}]}``
(``directives``: nginx directives, or an Envoy bootstrap's fields by location). The markdown
holds only what is the same on every run (no timings, no evidence), so the committed file can
be compared with a fresh run.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tokenpath.report.probe_json import num
from tokenpath.simulate.proofs import PROOF_CASES, ProofCase, ProofMatrix, ProofRow
from tokenpath.units import format_seconds_or_dash

SCHEMA_VERSION = 1

MARKDOWN_COMMAND = "tokenpath simulate --prove-rules --markdown > docs/rule-proofs.md"


def render_proofs_text(matrix: ProofMatrix, *, color: bool = False, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False
    )
    console.print(
        "[bold]tokenpath simulate --prove-rules[/]: each rule's positive fixture and its fixed "
        "version through the real proxy, at real time"
    )
    console.print()
    table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
    for name in ("rule", "proxy", "version", "case", "predicted", "measured", "agrees"):
        table.add_column(name, no_wrap=True)
    table.add_column("end", justify="right", no_wrap=True)
    for row in matrix.rows:
        table.add_row(
            row.rule,
            row.proxy,
            escape(row.version or "—"),
            row.case,
            escape(row.predicted_label),
            escape(row.measured_label),
            "[bold green]yes[/]" if row.agrees else "[bold red]NO[/]",
            format_seconds_or_dash(row.seconds),
        )
    console.print(table)
    disagreeing = [row for row in matrix.rows if not row.agrees]
    for row in disagreeing:
        console.print(
            f"[bold red]disagrees[/]: {row.rule} {row.case}: predicted "
            f"{escape(row.predicted_label)}, measured {escape(row.measured_label)}: "
            f"{escape(row.evidence)}"
        )
    console.print()
    agreeing = len(matrix.rows) - len(disagreeing)
    console.print(f"{agreeing} of {len(matrix.rows)} rows agree.")
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines())


def render_proofs_json(matrix: ProofMatrix) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "all_agree": matrix.all_agree,
        "rows": [_row_json(row) for row in matrix.rows],
    }


def _row_json(row: ProofRow) -> dict[str, Any]:
    return {
        "rule": row.rule,
        "proxy": row.proxy,
        "version": row.version,
        "case": row.case,
        "scenario": row.scenario,
        "predicted": [v.value for v in row.predicted],
        "predicted_cut": None if row.predicted_cut is None else row.predicted_cut.value,
        "measured": row.measured,
        "measured_cut": None if row.measured_cut is None else row.measured_cut.value,
        "predicted_encoding": row.predicted_encoding or None,
        "measured_encoding": row.measured_encoding or None,
        "fired": row.fired,
        "agrees": row.agrees,
        "directives": [[name, value] for name, value in row.directives],
        "evidence": row.evidence,
        "seconds": num(row.seconds),
    }


def render_proofs_markdown(matrix: ProofMatrix, cases: tuple[ProofCase, ...] = PROOF_CASES) -> str:
    """The whole of ``docs/rule-proofs.md``: deterministic for a given proxy version."""
    lines = [
        "# Rule proofs",
        "",
        "<!-- Generated; do not edit by hand. Regenerate with",
        f"     {MARKDOWN_COMMAND}",
        "     (tests/simulate/test_proofs.py fails when this file differs from a fresh run). -->",
        "",
        "Every lint rule that predicts what a proxy does to a token stream is proven on the real",
        "proxy. For each rule, `tokenpath simulate --prove-rules` lints the rule's positive",
        "fixture, renders the flagged route's effective settings for the proxy of its family",
        "(nginx: the directives the controller writes; Envoy: the fields of a one-route",
        "bootstrap), runs the fixture's scenario through the real proxy in front of the",
        "tokenpath mock and compares the probe's verdict with the rule's prediction (**fire**).",
        "Then it applies the rule's fix, lints again (the rule must be quiet) and expects the",
        "same scenario to stream (**fixed**); a rule whose fix is only advice has no fixed row.",
        "A row that disagrees is a bug in a rule or a fact, and fails CI.",
        "",
        "| Rule | Proxy | Version | Case | Predicted | Measured | Agrees |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in matrix.rows:
        cells = (
            row.rule,
            row.proxy,
            row.version or "—",
            row.case,
            row.predicted_label,
            row.measured_label,
            "yes" if row.agrees else "**NO**",
        )
        lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    lines += ["", "## Fixtures", ""]
    proven = {row.rule for row in matrix.rows}
    for case in cases:
        if case.code not in proven:
            continue
        fixed = "" if case.fixed else " No fixed row: the fix is advice only."
        lines.append(
            f"* **{case.code}** ({case.proxy}): {_md(case.why)}. Scenario `{case.scenario}`."
            + fixed
        )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")
