"""Every rule, end to end on its fixture: load -> objects -> routes -> lint -> fix.

For each code in the registry, ``fixtures/<CODE>.yaml`` holds objects named ``fire-*`` (each
must get at least one finding of that code) and ``dont-fire-*`` (none may): any object that
declares routes (Ingress, HTTPRoute, GRPCRoute, AIGatewayRoute, VirtualService, HTTPProxy) or
sets policy (BackendTrafficPolicy, ClientTrafficPolicy, EnvoyFilter, ...). A route object's
hosts start with its name, so a finding that points at a ConfigMap or a policy is still
attributed through its routes; an object without hosts (a policy) is attributed by the object
a finding points at. The findings are compared with ``snapshots/<CODE>.json``; when the rule
offers fixes, the text after applying them (unsafe included) is compared with
``snapshots/<CODE>.fixed.yaml``.
The fixes must converge, keep every comment, leave parseable YAML, and be idempotent.

Snapshots change only with ``TOKENPATH_UPDATE_SNAPSHOTS=1``; review the diff before keeping it.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from rulekit import NO_FIXTURE

from tokenpath.fix.apply import apply_fixes
from tokenpath.fix.edit import Fix, Safety
from tokenpath.lint.document import SourceText
from tokenpath.lint.finding import Finding
from tokenpath.lint.load import load_documents
from tokenpath.lint.pipeline import LintOptions, lint_sources
from tokenpath.lint.rules import RULES

HERE = pathlib.Path(__file__).parent
FIXTURES = HERE / "fixtures"
SNAPSHOTS = HERE / "snapshots"
UPDATE = os.environ.get("TOKENPATH_UPDATE_SNAPSHOTS") == "1"
MAX_ROUNDS = 5
CODES = [rule.meta.code for rule in RULES]
FIXTURE_CODES = [code for code in CODES if code not in NO_FIXTURE]
CASE_PREFIXES = ("fire-", "dont-fire-")


@dataclass(frozen=True)
class Linted:
    findings: tuple[Finding, ...]
    errors: tuple[str, ...]


def lint(file: str, text: str) -> Linted:
    """The real lint pipeline (LLM routes only, suppressions applied), from text."""
    result = lint_sources([SourceText(file=file, text=text)], LintOptions())
    return Linted(result.findings, tuple(str(e) for e in result.errors))


def of_code(result: Linted, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


def applicable(findings: list[Finding], *, unsafe: bool) -> list[Fix]:
    allowed = {Safety.SAFE, Safety.UNSAFE} if unsafe else {Safety.SAFE}
    return [
        f.fix for f in findings if f.fix is not None and f.fix.edits and f.fix.safety in allowed
    ]


def fix_until_stable(file: str, text: str, code: str, *, unsafe: bool) -> tuple[str, int]:
    """Apply the code's fixes, re-lint and repeat until nothing changes: (text, rounds)."""
    for rounds in range(1, MAX_ROUNDS + 1):
        fixes = applicable(of_code(lint(file, text), code), unsafe=unsafe)
        result = apply_fixes({file: text}, fixes, unsafe=unsafe)
        if not result.changed:
            return text, rounds
        text = result.texts[file]
    pytest.fail(f"{code}: fixes did not converge in {MAX_ROUNDS} rounds")


def hosts_of(doc: dict[str, Any]) -> list[str]:
    """The hosts a route-declaring object serves, as written (none for policies)."""
    spec = doc.get("spec") or {}
    match doc.get("kind"):
        case "Ingress":
            return [rule.get("host", "") for rule in spec.get("rules") or []]
        case "HTTPRoute" | "GRPCRoute":
            return list(spec.get("hostnames") or [])
        case "VirtualService":
            return list(spec.get("hosts") or [])
        case "HTTPProxy":
            fqdn = (spec.get("virtualhost") or {}).get("fqdn")
            return [fqdn] if fqdn else []
        case _:
            return []


def case_names(text: str) -> dict[str, set[str]]:
    """Name of each fire-*/dont-fire-* object -> the first labels of its hosts (which must
    equal the name; empty for objects without hosts)."""
    found: dict[str, set[str]] = {}
    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict):
            continue
        name = (doc.get("metadata") or {}).get("name", "")
        if not name.startswith(CASE_PREFIXES):
            continue
        found[name] = {host.split(".")[0] for host in hosts_of(doc)}
    return found


def concerned(finding: Finding, names: Collection[str]) -> set[str]:
    """The cases a finding is about: its routes' hosts (routes without one, shown as "*/...",
    are attributed by their object), and the object it points at when that is a case."""
    labels = [label for label in finding.route.split(", ") if label and not label.startswith("*")]
    found = {label.split(".")[0] for label in labels}
    if finding.object.name in names:
        found.add(finding.object.name)
    return found


def record(finding: Finding, text: str) -> dict[str, Any]:
    fix = finding.fix
    return {
        "code": finding.code,
        "severity": str(finding.severity),
        "category": str(finding.category),
        "message": finding.message,
        "object": str(finding.object),
        "line": finding.line,
        "setting": finding.setting,
        "value": finding.value,
        "source": finding.source.describe() if finding.source is not None else None,
        "route": finding.route,
        "fix": None
        if fix is None
        else {
            "title": fix.title,
            "safety": str(fix.safety),
            "edits": [
                {
                    "line": text.count("\n", 0, e.start) + 1,
                    "old": text[e.start : e.end],
                    "new": e.replacement,
                }
                for e in fix.edits
            ],
        },
    }


def check_snapshot(path: pathlib.Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with TOKENPATH_UPDATE_SNAPSHOTS=1"
    assert path.read_text(encoding="utf-8") == actual, (
        f"{path.name} differs: review, then run with TOKENPATH_UPDATE_SNAPSHOTS=1"
    )


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


@pytest.mark.parametrize("code", FIXTURE_CODES)
def test_rule_fixture(code: str) -> None:
    file = f"{code}.yaml"
    text = (FIXTURES / file).read_text(encoding="utf-8")
    result = lint(file, text)
    assert result.errors == (), "the fixture must load cleanly"
    findings = of_code(result, code)

    # fire-* are reported, dont-fire-* are not.
    names = case_names(text)
    for name, hosts in names.items():
        assert hosts <= {name}, f"{name}: hosts must start with the object's name"
    reported = set().union(*(concerned(f, names) for f in findings)) if findings else set()
    fire = {n for n in names if n.startswith("fire-")}
    assert fire, "a fixture needs fire-* objects"
    assert any(n.startswith("dont-fire-") for n in names), "and dont-fire-* objects"
    assert sorted(fire - reported) == [], "fire-* objects without a finding"
    assert sorted(n for n in reported if not n.startswith("fire-")) == [], "reported dont-fire-*"

    snapshot = [record(f, text) for f in findings]
    check_snapshot(SNAPSHOTS / f"{code}.json", json.dumps(snapshot, indent=2) + "\n")

    fixed_path = SNAPSHOTS / f"{code}.fixed.yaml"
    if not applicable(findings, unsafe=True):
        assert not fixed_path.exists(), f"{fixed_path.name} is stale: the rule offers no fix"
        return
    fixed, _ = fix_until_stable(file, text, code, unsafe=True)
    assert fixed != text
    check_snapshot(fixed_path, fixed)
    _, errors = load_documents(SourceText(file=file, text=fixed))
    assert errors == [], "fixed text must parse"
    assert comments(fixed) == comments(text), "fixes must keep every comment"
    # Idempotent: a second pass over the fixed text changes nothing.
    assert fix_until_stable(file, fixed, code, unsafe=True) == (fixed, 1)
    assert applicable(of_code(lint(file, fixed), code), unsafe=True) == []


@pytest.mark.parametrize("code", FIXTURE_CODES)
def test_safe_fixes_alone_converge_and_are_idempotent(code: str) -> None:
    file = f"{code}.yaml"
    text = (FIXTURES / file).read_text(encoding="utf-8")
    fixed, _ = fix_until_stable(file, text, code, unsafe=False)
    assert fix_until_stable(file, fixed, code, unsafe=False) == (fixed, 1)
    assert load_documents(SourceText(file=file, text=fixed))[1] == []


def test_fixtures_and_snapshots_match_the_registry() -> None:
    fixtures = {p.stem for p in FIXTURES.glob("*.yaml")}
    assert fixtures == set(FIXTURE_CODES)
    snapshots = {re.sub(r"\.fixed$", "", p.stem) for p in SNAPSHOTS.glob("*")}
    assert snapshots <= set(CODES)
