"""Lint results as SARIF 2.1.0 (one run), for GitHub code scanning and other SARIF viewers.

Mapping (documented in ``docs/lint-output.md``):

* ``tool.driver.rules``: every rule, sorted by code, with a one-line ``shortDescription``, a
  ``helpUri`` into ``docs/rules.md`` and the default level; ``properties.category``.
* ``results``: one per finding, sorted like every other report, with the effective level
  (a policy may override a rule's default), a location (relative URI, line, column), the
  finding's provenance under ``properties``, and a ``partialFingerprints`` hash that survives
  edits elsewhere in the file (code, file, object, setting and route; not the line).
* ``fixes``: safe and unsafe fixes with edits, as ``replacements``; display-only fixes are
  advice and only named under ``properties.fix``. Edits are character offsets, so the run
  declares ``columnKind: unicodeCodePoints`` (SARIF's default counts UTF-16 code units).
* input errors: ``invocations[0].toolExecutionNotifications``; ``executionSuccessful`` is
  false when there are any.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from tokenpath.fix.edit import Edit, Fix, Safety
from tokenpath.lint.document import InputError
from tokenpath.lint.finding import Finding, RuleMeta, Severity
from tokenpath.report.lint_json import finding_column, sorted_errors, sorted_findings

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_NAME = "tokenpath"
# Where the project and its rule pages live. Placeholders until the project has a public
# home: change them here (one place) or pass others from the CLI.
INFORMATION_URI = "https://github.com/tokenpath/tokenpath"
RULES_DOC_URI = f"{INFORMATION_URI}/blob/main/docs/rules.md"
FINGERPRINT_KEY = "tokenpath/v1"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_anchor(code: str, name: str) -> str:
    """The GitHub-style anchor of the rule's heading in ``docs/rules.md``: a heading such as
    ``## TP201 read-timeout-too-short`` (or ``TP201: ...``) gets
    ``tp201-read-timeout-too-short``."""
    return f"{code}-{name}".lower()


def fingerprint(finding: Finding) -> str:
    """Stable across runs and unrelated edits: no line numbers, no message text. The file is
    part of it because overlays render the same object names into different files."""
    obj = finding.object
    parts = (finding.code, obj.file, obj.kind, obj.namespace, obj.name, finding.setting)
    key = "\x1f".join((*parts, finding.route))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def artifact_uri(path: str) -> str:
    """A URI reference for a path as the user gave it: relative paths stay relative (SARIF
    viewers resolve them against the repository root), absolute ones become ``file://``."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return "file://" + quote(posixpath.normpath(posix), safe="/")
    return quote(posixpath.normpath(posix), safe="/")


def render_sarif(
    findings: Sequence[Finding],
    errors: Sequence[InputError],
    rules: Sequence[RuleMeta],
    summaries: Mapping[str, str],
    *,
    tool_version: str,
    information_uri: str = INFORMATION_URI,
    rules_doc_uri: str = RULES_DOC_URI,
) -> str:
    """The SARIF log as JSON text. ``summaries`` maps a rule code to the first line of its
    docstring (the ``shortDescription``); a rule without one falls back to its name."""
    ordered_rules = sorted(rules, key=lambda r: r.code)
    index = {rule.code: i for i, rule in enumerate(ordered_rules)}
    driver = {
        "name": TOOL_NAME,
        "informationUri": information_uri,
        "version": tool_version,
        "rules": [_rule(rule, summaries, rules_doc_uri) for rule in ordered_rules],
    }
    run = {
        "tool": {"driver": driver},
        "invocations": [_invocation(errors)],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index) for f in sorted_findings(findings)],
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2)


def _rule(rule: RuleMeta, summaries: Mapping[str, str], doc_uri: str) -> dict[str, object]:
    summary = summaries.get(rule.code, "").strip() or rule.name
    properties: dict[str, object] = {
        "category": rule.category.value,
        "tags": [rule.category.value],
        "fix": rule.fix.value,
    }
    if rule.references:
        properties["references"] = list(rule.references)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": summary},
        "helpUri": f"{doc_uri}#{rule_anchor(rule.code, rule.name)}",
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": properties,
    }


def _invocation(errors: Sequence[InputError]) -> dict[str, object]:
    notifications = []
    for error in sorted_errors(errors):
        notification: dict[str, object] = {
            "level": "error",
            "message": {"text": error.message},
            "locations": [_location(error.file, error.line)],
        }
        notifications.append(notification)
    invocation: dict[str, object] = {"executionSuccessful": not errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _result(finding: Finding, index: Mapping[str, int]) -> dict[str, object]:
    result: dict[str, object] = {"ruleId": finding.code}
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    result["level"] = LEVEL[finding.severity]
    result["message"] = {"text": finding.message}
    result["locations"] = [_location(finding.file, finding.line, finding_column(finding))]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding)}
    fix = finding.fix
    if fix is not None and fix.edits and fix.safety is not Safety.DISPLAY_ONLY:
        result["fixes"] = [_fix(fix)]
    result["properties"] = _properties(finding)
    return result


def _properties(finding: Finding) -> dict[str, object]:
    properties: dict[str, object] = {
        "category": finding.category.value,
        "object": str(finding.object),
    }
    if finding.setting:
        properties["setting"] = finding.setting
    if finding.value:
        properties["value"] = finding.value
    if finding.source is not None:
        properties["source"] = finding.source.describe()
    if finding.route:
        properties["route"] = finding.route
    if finding.fix is not None:
        properties["fix"] = {"title": finding.fix.title, "safety": finding.fix.safety.value}
    return properties


def _location(file: str, line: int, column: int = 0) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": artifact_uri(file)}}
    if line:
        region: dict[str, object] = {"startLine": line}
        if column:
            region["startColumn"] = column
        physical["region"] = region
    return {"physicalLocation": physical}


def _fix(fix: Fix) -> dict[str, object]:
    by_file: dict[str, list[Edit]] = {}
    for edit in sorted(fix.edits, key=lambda e: (e.file, e.start, e.end)):
        by_file.setdefault(edit.file, []).append(edit)
    changes = [
        {
            "artifactLocation": {"uri": artifact_uri(file)},
            "replacements": [
                {
                    "deletedRegion": {"charOffset": e.start, "charLength": e.end - e.start},
                    "insertedContent": {"text": e.replacement},
                }
                for e in edits
            ],
        }
        for file, edits in by_file.items()
    ]
    return {
        "description": {"text": f"{fix.title} [{fix.safety.value}]"},
        "artifactChanges": changes,
    }
