"""``tokenpath fix``: apply lint fixes as minimal, comment-preserving text edits."""

from __future__ import annotations

import sys

import click

from tokenpath.cli import _console
from tokenpath.cli.options import lint_options, options_from, tune_gc_for_manifests


@click.command()
@click.argument("paths", nargs=-1, required=True)
@lint_options
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply fixes that change behaviour (e.g. raise a timeout).",
)
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff; write nothing.")
def fix(
    paths: tuple[str, ...],
    policy_file: str | None,
    controller: str | None,
    all_routes: bool,
    unsafe_fixes: bool,
    show_diff: bool,
) -> int:
    """Fix what `tokenpath lint` finds, in place, keeping comments, order, quoting and anchors.

    Safe fixes (same meaning, e.g. "3600s" -> "3600" where ingress-nginx wants integer
    seconds) are applied by default; fixes that change behaviour only with --unsafe-fixes.
    Files are written atomically and only when they change; a file that cannot be parsed is
    never written. With - (stdin) the fixed stream goes to stdout.

    Exit codes: 0 nothing left to fix, 1 findings remain, 2 usage or input errors.
    """
    from tokenpath.fix.loop import fix_sources
    from tokenpath.fix.write import unified_diff, write_atomic
    from tokenpath.lint.files import read_inputs

    tune_gc_for_manifests()
    options = options_from(policy_file, controller, all_routes)
    sources, errors = read_inputs(paths, stdin=sys.stdin.buffer)
    outcome = fix_sources(sources, options, unsafe=unsafe_fixes, read_errors=errors)
    for source in sources:
        new = outcome.texts.get(source.file)
        if source.is_stdin:
            _console.out((new if new is not None else source.text).rstrip("\n"))
        elif new is None or new == source.text:
            continue
        elif show_diff:
            _console.out(unified_diff(source.file, source.text, new).rstrip("\n"))
        else:
            write_atomic(source.file, new)
    for line in outcome.summary_lines(dry_run=show_diff):
        click.echo(line, err=True)
    if outcome.errors:
        for error in outcome.errors:
            click.echo(f"error: {error}", err=True)
        return 2
    return 1 if outcome.remaining else 0
