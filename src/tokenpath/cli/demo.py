"""``tokenpath demo``: the whole story on this machine, in under 30 seconds."""

from __future__ import annotations

import json
import shutil

import click

from tokenpath.cli import _console
from tokenpath.report.demo import render_demo_json, render_demo_text


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--color/--no-color", default=None, help="Colour output (default: when a terminal).")
def demo(as_json: bool, color: bool | None) -> int:
    """Show what a proxy does to a token stream, with the mock LLM server and a real nginx.

    Starts the tokenpath mock and nginx on loopback ports (temp dirs, nothing left behind),
    probes the same stream direct, through nginx with its stock proxy defaults and through a
    streaming-safe nginx, then shows a read-timeout cut and how heartbeats or a longer
    timeout avoid it. Needs nginx (apt-get install -y nginx). Takes about 15 seconds.

    Exit code 0 when every measurement matched the expectation, 1 otherwise.
    """
    from tokenpath.simulate.demo import run_demo

    report = run_demo(_console.progress)
    if as_json:
        _console.out(json.dumps(render_demo_json(report), indent=2))
    else:
        width = min(110, shutil.get_terminal_size((110, 24)).columns)
        _console.out(render_demo_text(report, color=_console.use_color(color), width=width))
    return 0 if report.as_expected else 1
