"""Render the demo's results: strips side by side, verdicts, and the lesson of each part."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from tokenpath.report.probe_json import probe_to_dict
from tokenpath.report.strip import render_strip
from tokenpath.simulate.demo import DemoReport, DemoRow, DemoSection
from tokenpath.units import format_seconds, format_seconds_or_dash

_STRIP_WIDTH = 40
_STYLE = {"STREAMING": "bold green", "CUT": "bold red"}


def render_demo_text(report: DemoReport, *, color: bool = False, width: int = 110) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False
    )
    console.print(
        f"[bold]tokenpath demo[/]: a mock LLM server and a real nginx {report.nginx_version} "
        "on loopback"
    )
    console.print("strips: '·' connection open, nothing arriving   '▌' one event per read")
    console.print("        '█' several events in one read (held, then released)   'x' cut")
    for number, section in enumerate(report.sections, 1):
        console.print()
        _section(console, number, section)
    console.print()
    if report.as_expected:
        console.print("Every measurement matched what nginx is documented to do.")
    else:
        console.print("[bold red]Some measurements differ from the expectation (marked '!').[/]")
    console.print(
        "Next: [bold]tokenpath probe URL[/] on your own endpoint, or "
        "[bold]tokenpath mock[/] behind your ingress (see docs/mock.md)."
    )
    # rich pads lines to the console width; trailing blanks only get in the way of copying.
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines())


def _section(console: Console, number: int, section: DemoSection) -> None:
    console.print(f"[bold]{number}. {section.title}[/]")
    console.print(f"   mock scenario: {escape(section.scenario)}")
    span = max((row.result.metrics.e2e_stream_s or 0.0) for row in section.rows)
    table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
    table.add_column("path", no_wrap=True)
    table.add_column(f"0 → {format_seconds(span)}", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("TTFT", justify="right")
    table.add_column("last", justify="right", no_wrap=True)
    table.add_column("burst", justify="right", no_wrap=True)
    for row in section.rows:
        table.add_row(*_cells(row, span))
    console.print(table)
    for row in section.rows:
        console.print(Padding(f"[dim]{escape(row.label)}: {escape(row.setup)}[/]", (0, 0, 0, 2)))
    console.print(Padding(f"→ {section.lesson}", (0, 0, 0, 2)))


def _cells(row: DemoRow, span: float) -> tuple[str, ...]:
    result = row.result
    verdict = result.verdict.kind.value
    if result.verdict.cut is not None:
        verdict += f" ({result.verdict.cut.kind.value})"
    style = _STYLE.get(result.verdict.kind.value, "bold yellow")
    mark = "" if row.as_expected else " [bold red]![/]"
    metrics = result.metrics
    return (
        escape(row.label),
        f"▕{render_strip(result, span, _STRIP_WIDTH)}▏",
        f"[{style}]{verdict}[/]{mark}",
        format_seconds_or_dash(metrics.ttft_s),
        format_seconds_or_dash(metrics.e2e_last_token_s),
        f"{metrics.max_burst_events} ev",
    )


def render_demo_json(report: DemoReport) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "nginx_version": report.nginx_version,
        "as_expected": report.as_expected,
        "sections": [
            {
                "title": section.title,
                "scenario": section.scenario,
                "lesson": section.lesson,
                "rows": [
                    {
                        "label": row.label,
                        "setup": row.setup,
                        "expected": [kind.value for kind in row.expected],
                        "as_expected": row.as_expected,
                        "probe": probe_to_dict(row.result),
                    }
                    for row in section.rows
                ],
            }
            for section in report.sections
        ],
    }
