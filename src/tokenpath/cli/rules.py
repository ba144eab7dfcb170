"""``tokenpath rules`` and ``tokenpath explain CODE``: the rule catalogue and its pages."""

from __future__ import annotations

import difflib
import json

import click

from tokenpath.cli import _console

EXIT_OK = 0
EXIT_USAGE = 2
SCHEMA_VERSION = 1


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
def rules(as_json: bool) -> int:
    """List every lint rule: code, name, severity, category, fix availability, summary.

    Fix: "always" or "sometimes" when `tokenpath fix` can edit the manifest, "never" when
    the finding carries advice only. `tokenpath explain CODE` prints a rule's documentation.
    """
    from tokenpath.lint.ruledocs import render_rules_table, rule_record
    from tokenpath.lint.rules import RULES

    if as_json:
        payload = {"schema_version": SCHEMA_VERSION, "rules": [rule_record(r) for r in RULES]}
        _console.out(json.dumps(payload, indent=2))
    else:
        _console.out(render_rules_table(RULES).rstrip("\n"))
    return EXIT_OK


@click.command()
@click.argument("code")
def explain(code: str) -> int:
    """Print the documentation of rule CODE (e.g. TP101): what it flags, why it breaks
    streaming, an example, the fix and its safety, and the sources.

    Exit code 2 when CODE is not a rule.
    """
    from tokenpath.lint.ruledocs import render_explain
    from tokenpath.lint.rules import REDIRECTS, RULES, resolve, rule_for

    rule = rule_for(code)
    if rule is None:
        known = [r.meta.code for r in RULES] + list(REDIRECTS)
        close = difflib.get_close_matches(code.strip().upper(), known, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        click.echo(
            f"error: unknown rule code {code!r}{hint} (`tokenpath rules` lists them)", err=True
        )
        return EXIT_USAGE
    given = code.strip().upper()
    redirected = given if resolve(given) != given else ""
    _console.out(render_explain(rule, redirected_from=redirected).rstrip("\n"))
    return EXIT_OK
