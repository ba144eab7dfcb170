"""The rule-proof matrix (``simulate --prove-rules``) on the real nginx and Envoy, and
``docs/rule-proofs.md`` generated from it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tokenpath.cli.simulate_options import run_prove_rules
from tokenpath.lint.rules import RULES
from tokenpath.probe.verdict import VerdictKind
from tokenpath.report.proofs import (
    MARKDOWN_COMMAND,
    render_proofs_json,
    render_proofs_markdown,
    render_proofs_text,
)
from tokenpath.simulate import proofs
from tokenpath.simulate.proofs import PROOF_CASES, ProofMatrix, ProofRow, prove_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "rule-proofs.md"


@pytest.fixture(scope="module")
def matrix(nginx_binary: str, envoy_binary: str) -> ProofMatrix:
    return prove_rules()


def test_every_rule_that_claims_a_proof_has_a_case() -> None:
    # TP507's proof is Envoy's own validation, not a stream (tests/lint/envoy).
    proven = {rule.meta.code for rule in RULES if "test_rule_proofs.py" in rule.meta.proven_on}
    assert {case.code for case in PROOF_CASES} == proven


@pytest.mark.proxy
def test_every_row_agrees_on_the_real_proxy(matrix: ProofMatrix) -> None:
    assert [(row.rule, row.case) for row in matrix.rows] == [
        (case.code, which)
        for case in PROOF_CASES
        for which in (("fire", "fixed") if case.fixed else ("fire",))
    ]
    proxies = {case.code: case.proxy for case in PROOF_CASES}
    for row in matrix.rows:
        assert row.agrees, (row.rule, row.case, row.measured, row.evidence)
        assert row.proxy == proxies[row.rule]
        assert row.version
        assert row.fired is (row.case == "fire")
        if row.case == "fixed":
            assert row.measured == VerdictKind.STREAMING.value
    assert matrix.all_agree


@pytest.mark.proxy
def test_docs_rule_proofs_md_is_up_to_date(matrix: ProofMatrix) -> None:
    expected = render_proofs_markdown(matrix)
    assert DOC.read_text(encoding="utf-8") == expected, f"regenerate it: {MARKDOWN_COMMAND}"


@pytest.mark.proxy
def test_text_and_json(matrix: ProofMatrix) -> None:
    text = render_proofs_text(matrix)
    assert f"{len(matrix.rows)} of {len(matrix.rows)} rows agree." in text
    assert "disagrees" not in text
    document = render_proofs_json(matrix)
    assert document["all_agree"] is True
    assert len(document["rows"]) == len(matrix.rows)
    first = document["rows"][0]
    assert {"rule", "proxy", "version", "case", "predicted", "measured", "agrees"} <= set(first)
    json.dumps(document)


def _row(agrees: bool) -> ProofRow:
    return ProofRow(
        rule="TP101",
        proxy="nginx",
        version="1.22.1",
        case="fire",
        predicted=(VerdictKind.BUFFERED,),
        predicted_cut=None,
        measured="STREAMING",
        measured_cut=None,
        fired=True,
        agrees=agrees,
        scenario="tokens=5",
        directives=(("proxy_buffering", "on"),),
        evidence="the stream passed as it came",
        seconds=0.25,
    )


def test_a_disagreement_fails_and_is_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proofs, "prove_rules", lambda _progress: ProofMatrix((_row(False),)))
    text, code = run_prove_rules()
    assert code == 1
    assert "disagrees: TP101 fire: predicted BUFFERED, measured STREAMING" in text
    markdown, _ = run_prove_rules(output="markdown")
    assert "| TP101 | nginx | 1.22.1 | fire | BUFFERED | STREAMING | **NO** |" in markdown
    document, _ = run_prove_rules(output="json")
    assert json.loads(document)["all_agree"] is False


def test_the_markdown_has_no_timings(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = ProofMatrix((_row(True),))
    slow = ProofMatrix((dataclasses.replace(_row(True), seconds=9.5, evidence="x"),))
    assert render_proofs_markdown(fast) == render_proofs_markdown(slow)
    monkeypatch.setattr(proofs, "prove_rules", lambda _progress: fast)
    assert run_prove_rules(output="markdown") == (render_proofs_markdown(fast).rstrip("\n"), 0)
