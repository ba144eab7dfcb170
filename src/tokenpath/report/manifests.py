"""Render ``simulate PATH…``: per LLM route, predicted (from the rules' facts) vs measured (from
the real proxy) per scenario, with a clear mark where they disagree.

The JSON document is ``{"schema_version", "proxy", "proxy_version", "proxies", "time_scale",
"all_agree", "errors", "routes": [{"route", "ingress", "object", "controller", "proxy",
"proxy_version", "file", "line", "directives", "notes", "error"}], "results": [{"route",
"ingress", "object", "proxy", "scenario", "mock", "predicted": {"verdicts", "cut", "reason"},
"measured": {"verdict", "cut", "metrics", ...}, "agrees"}]}``.

Each route runs through the proxy of its family (nginx or Envoy): ``proxies`` lists every
``{"proxy", "version"}`` used, and the top-level ``proxy`` / ``proxy_version`` (kept from when
every route ran through nginx) name the one proxy, or join several with ``+``. ``ingress`` and
``object`` both name the object that declares the route (an Ingress, HTTPRoute, HTTPProxy, …).
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tokenpath.report.simulate import render_simulate_json
from tokenpath.simulate.manifests import ManifestReport, RouteRun, ScenarioResult
from tokenpath.units import format_seconds_or_dash

SCHEMA_VERSION = 1


def render_manifests_text(report: ManifestReport, *, color: bool = False, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False
    )
    through = ", ".join(f"{name} {version}".strip() for name, version in report.proxies)
    console.print(
        f"[bold]tokenpath simulate[/]: {len(report.routes)} LLM route(s) through "
        f"{through or report.proxy} on loopback, in front of the tokenpath mock"
    )
    console.print(
        f"time scale: {report.time_scale:g} (every timeout and scenario duration × "
        f"{report.time_scale:g})"
    )
    for error in report.errors:
        console.print(f"[bold red]input error[/]: {escape(str(error))}")
    if not report.routes:
        console.print("no LLM routes found in the input.")
    for route in report.routes:
        console.print()
        _route(console, route)
    console.print()
    results = [r for route in report.routes for r in route.results]
    disagree = sum(not r.agrees for r in results)
    failed = sum(route.report is None for route in report.routes)
    summary = f"{len(results) - disagree} of {len(results)} scenario results agree with the rules."
    if failed:
        summary += f" {failed} route(s) could not be run."
    console.print(summary)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip().splitlines())


def _route(console: Console, route: RouteRun) -> None:
    console.print(
        f"[bold]{escape(route.route)}[/] {escape(route.obj)} ({route.controller}) "
        f"[dim]{escape(route.file)}:{route.line}[/]"
    )
    proxy = f"{route.proxy} {route.proxy_version}".strip()
    rendered = "; ".join(f"{n} {v}" for n, v in route.directives)
    label = "fields" if route.proxy == "envoy" else "directives"
    console.print(f"[dim]through {escape(proxy)}; {label}: {escape(rendered or '(defaults)')}[/]")
    for note in route.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    if route.report is None:
        console.print(f"[bold red]not run[/]: {escape(route.error)}")
        return
    for note in route.report.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
    table.add_column("", no_wrap=True)
    table.add_column("scenario", no_wrap=True)
    table.add_column("predicted", no_wrap=True)
    table.add_column("measured", no_wrap=True)
    table.add_column("end", justify="right", no_wrap=True)
    table.add_column("why predicted", overflow="fold")
    for result in route.results:
        table.add_row(*_cells(result))
    console.print(table)


def _cells(result: ScenarioResult) -> tuple[str, ...]:
    run = result.run
    measured = run.verdict
    end = "—"
    if run.result is not None:
        if run.result.verdict.cut is not None:
            measured += f" ({run.result.verdict.cut.kind.value})"
        end = format_seconds_or_dash(run.result.metrics.e2e_stream_s)
    mark = "[green]✓[/]" if result.agrees else "[bold red]✗ DISAGREES[/]"
    return (
        mark,
        escape(run.scenario.name),
        escape(result.prediction.label),
        escape(measured) if result.agrees else f"[bold red]{escape(measured)}[/]",
        end,
        f"[dim]{escape(result.prediction.reason)}[/]",
    )


def render_manifests_json(report: ManifestReport) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for route in report.routes:
        if route.report is None:
            continue
        measured = render_simulate_json(route.report)["results"]
        for result, run_json in zip(route.results, measured, strict=True):
            prediction = result.prediction
            results.append(
                {
                    "route": route.route,
                    "ingress": route.obj,
                    "object": route.obj,
                    "proxy": route.proxy,
                    "scenario": run_json["scenario"],
                    "mock": run_json["mock"],
                    "predicted": {
                        "verdicts": [v.value for v in prediction.verdicts],
                        "cut": None if prediction.cut is None else prediction.cut.value,
                        "reason": prediction.reason,
                    },
                    "measured": run_json["measured"],
                    "agrees": result.agrees,
                }
            )
    return {
        "schema_version": SCHEMA_VERSION,
        "proxy": report.proxy,
        "proxy_version": report.proxy_version,
        "proxies": [{"proxy": name, "version": version} for name, version in report.proxies],
        "time_scale": report.time_scale,
        "all_agree": report.all_agree,
        "errors": [str(error) for error in report.errors],
        "routes": [
            {
                "route": route.route,
                "ingress": route.obj,
                "object": route.obj,
                "controller": route.controller,
                "proxy": route.proxy,
                "proxy_version": route.proxy_version,
                "file": route.file,
                "line": route.line,
                "directives": [[name, value] for name, value in route.directives],
                "notes": [*route.notes, *(route.report.notes if route.report else ())],
                "error": route.error or None,
            }
            for route in report.routes
        ],
        "results": results,
    }
