"""Lint results as one JSON document, and the plain-data view of findings that every lint
report (text, SARIF, GitHub) shares: the sort order, the column, the summary counts.

The schema is versioned by ``SCHEMA_VERSION`` and documented in ``docs/lint-output.md``; keys
are stable and absent values are ``null``. ``json.dumps`` escapes control characters (ASCII
output), so manifest text cannot reach a terminal raw through this format.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.fix.edit import Fix, Safety
from tokenpath.lint.document import InputError
from tokenpath.lint.finding import Finding, Severity
from tokenpath.lint.model import Source

SCHEMA_VERSION = 1
TOOL = "tokenpath"

# The exact key sets of the document; tests and docs/lint-output.md are checked against them.
TOP_KEYS = ("schema_version", "tool", "findings", "errors", "summary")
FINDING_KEYS = (
    "code",
    "name",
    "category",
    "severity",
    "message",
    "object",
    "kind",
    "namespace",
    "object_name",
    "file",
    "line",
    "column",
    "helm_source",
    "setting",
    "value",
    "source",
    "fix",
    "route",
)
SOURCE_KEYS = ("kind", "key", "object", "file", "line", "detail", "description")
FIX_KEYS = ("title", "safety", "edits")
EDIT_KEYS = ("file", "start", "end", "replacement")
ERROR_KEYS = ("file", "line", "message")
SUMMARY_KEYS = ("findings", "by_severity", "files", "fixable", "unsafe_fixable", "input_errors")


@dataclass(frozen=True, slots=True)
class LintSummary:
    findings: int
    errors: int  # findings of severity error
    warnings: int
    info: int
    files: int  # distinct files with at least one finding
    fixable: int  # findings with a safe fix: applied by plain ``tokenpath fix``
    unsafe_fixable: int  # findings with an unsafe fix: applied only with ``--unsafe-fixes``
    input_errors: int


def finding_sort_key(finding: Finding) -> tuple[str, int, int, str, str, str, str]:
    """File, line, column, code; then object, route and message so ties are stable too."""
    return (
        finding.file,
        finding.line,
        finding_column(finding),
        finding.code,
        str(finding.object),
        finding.route,
        finding.message,
    )


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=finding_sort_key)


def sorted_errors(errors: Sequence[InputError]) -> list[InputError]:
    return sorted(errors, key=lambda e: (e.file, e.line, e.message))


def finding_column(finding: Finding) -> int:
    """1-based column of the value the finding points at, or 0 when unknown.

    ``Finding`` has no column of its own; the source's value node knows it when the finding
    points at that node (same file and line)."""
    source = finding.source
    if source is None or source.node is None or source.obj is None:
        return 0
    if source.obj.file != finding.file or source.line != finding.line:
        return 0
    return source.node.span.column


def summarize(findings: Sequence[Finding], errors: Sequence[InputError]) -> LintSummary:
    severities = Counter(f.severity for f in findings)
    safeties = Counter(f.fix.safety for f in findings if f.fix is not None and f.fix.edits)
    return LintSummary(
        findings=len(findings),
        errors=severities[Severity.ERROR],
        warnings=severities[Severity.WARNING],
        info=severities[Severity.INFO],
        files=len({f.file for f in findings}),
        fixable=safeties[Safety.SAFE],
        unsafe_fixable=safeties[Safety.UNSAFE],
        input_errors=len(errors),
    )


def source_to_dict(source: Source | None) -> dict[str, object] | None:
    if source is None:
        return None
    return {
        "kind": source.kind.value,
        "key": source.key,
        "object": None if source.obj is None else str(source.obj),
        "file": None if source.obj is None else source.obj.file,
        "line": source.line or None,
        "detail": source.detail or None,
        "description": source.describe(),
    }


def fix_to_dict(fix: Fix | None) -> dict[str, object] | None:
    if fix is None:
        return None
    return {
        "title": fix.title,
        "safety": fix.safety.value,
        "edits": [
            {"file": e.file, "start": e.start, "end": e.end, "replacement": e.replacement}
            for e in fix.edits
        ],
    }


def finding_to_dict(finding: Finding) -> dict[str, object]:
    obj = finding.object
    return {
        "code": finding.code,
        "name": finding.name,
        "category": finding.category.value,
        "severity": finding.severity.value,
        "message": finding.message,
        "object": str(obj),
        "kind": obj.kind,
        "namespace": obj.namespace or None,
        "object_name": obj.name,
        "file": finding.file,
        "line": finding.line,
        "column": finding_column(finding) or None,
        "helm_source": obj.helm_source or None,
        "setting": finding.setting or None,
        "value": finding.value or None,
        "source": source_to_dict(finding.source),
        "fix": fix_to_dict(finding.fix),
        "route": finding.route or None,
    }


def error_to_dict(error: InputError) -> dict[str, object]:
    return {"file": error.file, "line": error.line or None, "message": error.message}


def summary_to_dict(summary: LintSummary) -> dict[str, object]:
    return {
        "findings": summary.findings,
        "by_severity": {
            Severity.ERROR.value: summary.errors,
            Severity.WARNING.value: summary.warnings,
            Severity.INFO.value: summary.info,
        },
        "files": summary.files,
        "fixable": summary.fixable,
        "unsafe_fixable": summary.unsafe_fixable,
        "input_errors": summary.input_errors,
    }


def render_lint_json(findings: Sequence[Finding], errors: Sequence[InputError]) -> str:
    """The whole document, findings sorted by file, line, column and code."""
    document: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "tool": TOOL,
        "findings": [finding_to_dict(f) for f in sorted_findings(findings)],
        "errors": [error_to_dict(e) for e in sorted_errors(errors)],
        "summary": summary_to_dict(summarize(findings, errors)),
    }
    return json.dumps(document, indent=2)
