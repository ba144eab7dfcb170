"""Render a ``simulate`` run: one row per scenario (strip, verdict, numbers), as text or JSON.

The JSON document is ``{"schema_version", "proxy", "proxy_version", "time_scale", "directives",
"notes", "results": [{"scenario", "settings", "mock", "probes", "measured": {"verdict", "cut",
"metrics"}}]}``. ``predicted``/``agrees`` join ``results[]`` once manifests are an input.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tokenpath.report.probe_json import cut_to_dict, metrics_to_dict, num
from tokenpath.report.strip import render_strip
from tokenpath.simulate.run import ScenarioRun, SimulateReport
from tokenpath.units import format_seconds, format_seconds_or_dash

SCHEMA_VERSION = 1
_STRIP_WIDTH = 32
_STYLE = {"STREAMING": "bold green", "CUT": "bold red", "ERROR": "bold red"}


def render_simulate_text(report: SimulateReport, *, color: bool = False, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False
    )
    console.print(
        f"[bold]tokenpath simulate[/]: {report.proxy} {report.proxy_version} on loopback, "
        f"in front of the tokenpath mock"
    )
    settings = _describe(report.settings) or f"none ({report.proxy} defaults)"
    console.print(f"settings: {escape(settings)}")
    console.print(
        f"time scale: {report.time_scale:g} (every timeout and scenario duration × "
        f"{report.time_scale:g}); rendered: {escape(_describe(report.directives) or 'nothing')}"
    )
    for note in report.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    console.print()
    table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
    table.add_column("scenario", no_wrap=True)
    table.add_column("stream (0 → end)", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("TTFT", justify="right")
    table.add_column("last", justify="right", no_wrap=True)
    table.add_column("end", justify="right", no_wrap=True)
    table.add_column("burst", justify="right", no_wrap=True)
    table.add_column("probes", no_wrap=True, overflow="ellipsis")
    for run in report.runs:
        table.add_row(*_cells(run))
    console.print(table)
    console.print()
    streaming = sum(run.streams for run in report.runs)
    console.print(f"{streaming} of {len(report.runs)} scenarios streamed.")
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines())


def _cells(run: ScenarioRun) -> tuple[str, ...]:
    style = _STYLE.get(run.verdict, "bold yellow")
    result = run.result
    if result is None:
        return (
            escape(run.scenario.name),
            escape(run.error),
            f"[{style}]ERROR[/]",
            "—",
            "—",
            "—",
            "—",
            escape(run.scenario.probes),
        )
    verdict = run.verdict
    if result.verdict.cut is not None:
        verdict += f" ({result.verdict.cut.kind.value})"
    metrics = result.metrics
    return (
        escape(run.scenario.name),
        # Each row over its own length: the scenarios differ in length by 20x.
        f"▕{render_strip(result, metrics.e2e_stream_s, _STRIP_WIDTH)}▏",
        f"[{style}]{verdict}[/]",
        format_seconds_or_dash(metrics.ttft_s),
        format_seconds_or_dash(metrics.e2e_last_token_s),
        format_seconds(metrics.e2e_stream_s),
        f"{metrics.max_burst_events} ev",
        f"[dim]{escape(run.scenario.probes)}[/]",
    )


def render_simulate_json(report: SimulateReport) -> dict[str, Any]:
    settings: dict[str, object] = {}
    for name, value in report.settings:
        # A repeatable directive (proxy_set_header) given twice becomes a list.
        previous = settings.get(name)
        if previous is None:
            settings[name] = value
        else:
            settings[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
    return {
        "schema_version": SCHEMA_VERSION,
        "proxy": report.proxy,
        "proxy_version": report.proxy_version,
        "time_scale": report.time_scale,
        "directives": [[name, value] for name, value in report.directives],
        "notes": list(report.notes),
        "results": [
            {
                "scenario": run.scenario.name,
                "settings": settings,
                "mock": run.mock,
                "probes": run.scenario.probes,
                "accept_encoding": run.scenario.accept_encoding,
                "max_time_s": num(run.max_time_s),
                "measured": _measured(run),
            }
            for run in report.runs
        ],
    }


def _measured(run: ScenarioRun) -> dict[str, Any]:
    result = run.result
    if result is None:
        return {"verdict": "ERROR", "cut": None, "metrics": None, "error": run.error}
    cut = result.verdict.cut
    return {
        "verdict": result.verdict.kind.value,
        "pattern": result.verdict.pattern,
        "cut": cut_to_dict(cut),
        "metrics": metrics_to_dict(result.metrics),
        "error": None,
    }


def _describe(directives: tuple[tuple[str, str], ...]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives)
