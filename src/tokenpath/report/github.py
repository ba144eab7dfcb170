"""Lint results as GitHub Actions workflow commands, one annotation per line:

    ::error file=deploy/ing.yaml,line=12,col=5,title=TP201 read-timeout-too-short::message

Severities map to ``error``, ``warning`` and ``notice``. Escaping follows the Actions toolkit
(``@actions/core`` ``command.ts``): data escapes ``%``, CR and LF; property values also escape
``:`` and ``,``. Other control characters from manifest text are shown escaped first, so a
manifest cannot smuggle a second workflow command or terminal sequences into the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenpath.lint.document import InputError
from tokenpath.lint.finding import Finding, Severity
from tokenpath.report.lint_json import finding_column, sorted_errors, sorted_findings
from tokenpath.report.lint_text import safe

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
INPUT_ERROR_TITLE = "tokenpath input error"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding], errors: Sequence[InputError]) -> str:
    """Input errors first, then findings sorted by file, line and code; no trailing newline."""
    lines = [_error_command(e) for e in sorted_errors(errors)]
    lines += [_finding_command(f) for f in sorted_findings(findings)]
    return "\n".join(lines)


def _finding_command(finding: Finding) -> str:
    properties = [("file", finding.file), ("line", str(finding.line))]
    column = finding_column(finding)
    if column:
        properties.append(("col", str(column)))
    properties.append(("title", f"{finding.code} {finding.name} [{finding.category.value}]"))
    return _command(COMMAND[finding.severity], properties, _message(finding))


def _error_command(error: InputError) -> str:
    properties = [("file", error.file)]
    if error.line:
        properties.append(("line", str(error.line)))
    properties.append(("title", INPUT_ERROR_TITLE))
    return _command("error", properties, safe(error.message))


def _message(finding: Finding) -> str:
    """The message, then where the value came from and the fix, one per line (the
    annotation shows the line breaks)."""
    lines = [safe(finding.message)]
    if finding.setting and finding.value:
        lines.append(f"{safe(finding.setting)} = {safe(finding.value)}")
    if finding.source is not None:
        lines.append(f"from: {safe(finding.source.describe())}")
    if finding.route:
        lines.append(f"route: {safe(finding.route)}")
    if finding.fix is not None:
        lines.append(f"fix: {safe(finding.fix.title)} [{finding.fix.safety.value}]")
    return "\n".join(lines)


def _command(name: str, properties: list[tuple[str, str]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(safe(value))}" for key, value in properties)
    return f"::{name} {props}::{escape_data(message)}"
