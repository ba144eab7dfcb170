"""Rules about nginx behaviour, proven with the real nginx.

Each case lints a manifest, renders the flagged route's effective settings into the
directives the controller would write (``simulate.renderers.nginx.directives_for``), runs
nginx with them in front of the mock and asserts the verdict the rule predicts. Then it
applies the rule's fix, re-lints, renders again and asserts the stream is healthy. The cases
are ``tokenpath.simulate.proofs.PROOF_CASES``, shared with ``simulate --prove-rules``.
"""

from __future__ import annotations

import pytest

from tokenpath.lint.document import SourceText
from tokenpath.lint.pipeline import lint_sources
from tokenpath.mock.server import MockHandle
from tokenpath.probe.classify import CutKind, ProbeResult, VerdictKind, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.request import build_request
from tokenpath.simulate.proofs import PROOF_CASES, PROOF_FILE, ProofCase, fixed_manifest
from tokenpath.simulate.renderers.nginx import directives_for
from tokenpath.simulate.runtime import run_nginx
from tokenpath.stream.dialects import Dialect

pytestmark = pytest.mark.proxy


def probe(mock: MockHandle, directives: tuple[tuple[str, str], ...], scenario: str) -> ProbeResult:
    with run_nginx(mock.host, mock.port, directives) as nginx:
        request = build_request(
            f"{nginx.url}/v1/chat/completions",
            dialect=Dialect.OPENAI_CHAT,
            headers=(f"X-Tokenpath-Scenario: {scenario}",),
        )
        return analyse(fetch(request))


@pytest.mark.parametrize("case", PROOF_CASES, ids=[case.code for case in PROOF_CASES])
def test_rule_prediction_holds_on_real_nginx_and_the_fix_streams(
    nginx_binary: str, mock_server: MockHandle, case: ProofCase
) -> None:
    options = case.options
    result = lint_sources([case.source], options)
    assert not result.errors, result.errors
    assert case.code in {f.code for f in result.findings}
    (route,) = result.routes
    measured = probe(mock_server, directives_for(route.settings), case.scenario)
    assert measured.verdict.kind in case.predicted, measured.verdict.evidence
    if case.code == "TP201":
        assert case.cut is CutKind.IDLE
        assert measured.verdict.cut is not None
        assert measured.verdict.cut.kind is CutKind.IDLE

    fixed_text = fixed_manifest(case)
    after = lint_sources([SourceText(PROOF_FILE, fixed_text)], options)
    assert case.code not in {f.code for f in after.findings}
    (fixed_route,) = after.routes
    healthy = probe(mock_server, directives_for(fixed_route.settings), case.scenario)
    assert healthy.verdict.kind is VerdictKind.STREAMING, healthy.verdict.evidence
