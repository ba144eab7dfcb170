"""``tokenpath rules`` and ``tokenpath explain CODE`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tokenpath.lint.ruledocs import render_explain
from tokenpath.lint.rules import RULES, rule_for


def tokenpath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_rules_lists_every_rule_with_its_metadata() -> None:
    done = tokenpath("rules")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "SEVERITY", "CATEGORY", "FIX", "SUMMARY"]
    assert len(lines) == 1 + len(RULES)
    for line, rule in zip(lines[1:], RULES, strict=True):
        code, name, severity, category, fix = line.split()[:5]
        meta = rule.meta
        assert (code, name, severity, category, fix) == (
            meta.code,
            meta.name,
            meta.severity,
            meta.category,
            meta.fix,
        )


def test_rules_json_is_versioned_and_complete() -> None:
    done = tokenpath("rules", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["schema_version"] == 1
    assert [r["code"] for r in payload["rules"]] == [r.meta.code for r in RULES]
    first = payload["rules"][0]
    assert set(first) >= {"code", "name", "severity", "category", "fix", "summary", "references"}
    assert first["references"]


def test_explain_prints_the_rule_page_case_insensitively() -> None:
    done = tokenpath("explain", "tp203")
    assert done.returncode == 0, done.stderr
    rule = rule_for("TP203")
    assert rule is not None
    assert done.stdout == render_explain(rule)
    assert done.stdout.startswith("# TP203 timeout-value-ignored")
    for section in ("## What it does", "## Why it breaks streaming", "## Fix", "## Source"):
        assert section in done.stdout


def test_explain_unknown_code_exits_2_with_a_suggestion() -> None:
    done = tokenpath("explain", "TP2O1")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "unknown rule code 'TP2O1'" in done.stderr
    assert "did you mean TP201" in done.stderr
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_explain_without_a_code_is_a_usage_error() -> None:
    done = tokenpath("explain")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
