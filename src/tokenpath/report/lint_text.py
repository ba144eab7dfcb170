"""Lint results for the terminal: input errors first, then findings grouped by file and
object, then one summary line.

    deploy/ingress.yaml
      Ingress/llm/chat
        12:5  error    TP201 read-timeout-too-short  read timeout is 60 s, ...
                       read_timeout = 60  (from: annotation nginx.ingress.kubernetes.io/...)
                       route: chat.example.com/v1/chat/completions
                       fix: set proxy-read-timeout to "3600" [unsafe]

Everything taken from a manifest (names, keys, values, messages that quote them) is made
terminal-safe first: control characters, DEL, C1 and bidi overrides are shown escaped, so a
manifest cannot drive the user's terminal. Colour is plain ANSI and only when asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tokenpath.fix.edit import Safety
from tokenpath.lint.document import InputError
from tokenpath.lint.finding import Finding, Severity
from tokenpath.report.lint_json import (
    LintSummary,
    finding_column,
    sorted_errors,
    sorted_findings,
    summarize,
)

_RESET = "\x1b[0m"
_STYLES = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "red": "\x1b[1;31m",
    "yellow": "\x1b[1;33m",
    "cyan": "\x1b[36m",
    "magenta": "\x1b[35m",
    "green": "\x1b[32m",
}
SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SEVERITY_WIDTH = max(len(s.value) for s in Severity)


class Painter:
    """Wraps text in ANSI styles when colour is on; the identity otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.color and text else text


def safe(text: str) -> str:
    """Terminal-safe: control characters (ESC, CR, LF included), DEL, C1 and bidi overrides
    shown as ``\\xNN`` / ``\\uNNNN``."""
    return _UNSAFE.sub(_escape, text)


def render_lint_text(
    findings: Sequence[Finding], errors: Sequence[InputError], *, color: bool = False
) -> str:
    paint = Painter(color)
    lines = [_error_line(e, paint) for e in sorted_errors(errors)]
    if lines:
        lines.append("")
    lines += _grouped(sorted_findings(findings), paint)
    lines.append(summary_line(summarize(findings, errors), paint))
    return "\n".join(lines)


def summary_line(summary: LintSummary, paint: Painter | None = None) -> str:
    """'3 findings (1 error, 1 warning, 1 info) in 2 files; 1 fixable with `tokenpath fix`
    (1 more with --unsafe-fixes)', plus the count of input errors when there are any."""
    paint = paint or Painter(False)
    if summary.findings:
        text = (
            f"{_count(summary.findings, 'finding')} ({_count(summary.errors, 'error')}, "
            f"{_count(summary.warnings, 'warning')}, {summary.info} info) "
            f"in {_count(summary.files, 'file')}"
        )
        style = "red" if summary.errors else "yellow" if summary.warnings else "bold"
    else:
        text, style = "No findings", "green"
    if summary.fixable or summary.unsafe_fixable:
        text += f"; {summary.fixable} fixable with `tokenpath fix`"
        if summary.unsafe_fixable:
            text += f" ({summary.unsafe_fixable} more with --unsafe-fixes)"
    if summary.input_errors:
        text += f"; {_count(summary.input_errors, 'input error')}"
        style = "red"
    return paint(style, text + ".")


def _error_line(error: InputError, paint: Painter) -> str:
    where = f"{error.file}:{error.line}" if error.line else error.file
    return f"{paint('bold', safe(where))}: {paint('red', 'input error')}: {safe(error.message)}"


def _grouped(findings: list[Finding], paint: Painter) -> list[str]:
    """File headers, then object headers in order of their first finding, then findings."""
    lines: list[str] = []
    width = max((len(_location(f)) for f in findings), default=0)  # one column for all
    by_file: dict[str, dict[str, list[Finding]]] = {}
    for finding in findings:  # sorted: files and first lines come in order
        by_file.setdefault(finding.file, {}).setdefault(str(finding.object), []).append(finding)
    for file, objects in by_file.items():
        lines.append(paint("bold", safe(file)))
        for label, group in objects.items():
            helm = group[0].object.helm_source
            origin = paint("dim", f"  (helm: {safe(helm)})") if helm else ""
            lines.append(f"  {paint('bold', safe(label))}{origin}")
            for finding in group:
                lines += _finding_lines(finding, width, paint)
        lines.append("")
    return lines


def _finding_lines(finding: Finding, width: int, paint: Painter) -> list[str]:
    severity = finding.severity
    head = (
        f"    {_location(finding):>{width}}  "
        f"{paint(SEVERITY_STYLE[severity], severity.value.ljust(_SEVERITY_WIDTH))}  "
        f"{paint('bold', finding.code)} {finding.name} "
        f"{paint('dim', '[' + finding.category.value + ']')}  {safe(finding.message)}"
    )
    indent = " " * (4 + width + 2 + _SEVERITY_WIDTH + 2)
    lines = [head]
    if finding.setting or finding.value or finding.source is not None:
        setting = safe(finding.setting) or "value"
        detail = f"{setting} = {safe(finding.value)}" if finding.value else setting
        if finding.source is not None:
            detail += "  " + paint("dim", f"(from: {safe(finding.source.describe())})")
        lines.append(indent + detail)
    if finding.route:
        lines.append(indent + paint("dim", f"route: {safe(finding.route)}"))
    if finding.fix is not None:
        safety = finding.fix.safety
        style = "green" if safety is Safety.SAFE else "dim"
        tag = paint(style, f"[{safety.value}]")
        lines.append(f"{indent}fix: {safe(finding.fix.title)} {tag}")
    return lines


def _location(finding: Finding) -> str:
    column = finding_column(finding)
    return f"{finding.line}:{column}" if column else str(finding.line)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
