"""Rules about proxy behaviour, proven with the real nginx and Envoy.

Each case lints a manifest, renders the flagged route's effective settings for the proxy of
its family (nginx: the directives the controller would write; Envoy: the fields of a one-route
bootstrap; ``simulate.proofs.rendered_settings``), runs the proxy with them in front of the
mock and asserts the verdict the rule predicts. Then, when the rule has a fix, it applies it,
re-lints, renders again and asserts the stream is healthy. The cases are
``tokenpath.simulate.proofs.PROOF_CASES``, shared with ``simulate --prove-rules``.
"""

from __future__ import annotations

import pytest

from tokenpath.lint.document import SourceText
from tokenpath.lint.model import AnyRoute
from tokenpath.lint.pipeline import lint_sources
from tokenpath.mock.server import MockHandle
from tokenpath.probe.classify import ProbeResult, VerdictKind, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.request import build_request
from tokenpath.simulate.proofs import (
    PROOF_CASES,
    PROOF_FILE,
    ProofCase,
    fixed_manifest,
    rendered_settings,
)
from tokenpath.stream.dialects import Dialect

pytestmark = pytest.mark.proxy


def probe(mock: MockHandle, route: AnyRoute, scenario: str) -> ProbeResult:
    _settings, start = rendered_settings(route)
    with start(mock.host, mock.port) as proxy:
        request = build_request(
            f"{proxy.url}/v1/chat/completions",
            dialect=Dialect.OPENAI_CHAT,
            headers=(f"X-Tokenpath-Scenario: {scenario}",),
        )
        return analyse(fetch(request))


@pytest.mark.parametrize("case", PROOF_CASES, ids=[case.code for case in PROOF_CASES])
def test_rule_prediction_holds_on_the_real_proxy_and_the_fix_streams(
    request: pytest.FixtureRequest, mock_server: MockHandle, case: ProofCase
) -> None:
    request.getfixturevalue(f"{case.proxy}_binary")  # nginx_binary / envoy_binary
    options = case.options
    result = lint_sources([case.source], options)
    assert not result.errors, result.errors
    assert case.code in {f.code for f in result.findings}
    (route,) = result.routes
    assert route.family.value == case.proxy
    measured = probe(mock_server, route, case.scenario)
    assert measured.verdict.kind in case.predicted, measured.verdict.evidence
    if case.cut is not None:
        assert measured.verdict.cut is not None
        assert measured.verdict.cut.kind is case.cut
    if case.encoding:
        assert measured.timeline.content_encoding == case.encoding
    if not case.fixed:
        return

    fixed_text = fixed_manifest(case)
    after = lint_sources([SourceText(PROOF_FILE, fixed_text)], options)
    assert case.code not in {f.code for f in after.findings}
    (fixed_route,) = after.routes
    healthy = probe(mock_server, fixed_route, case.scenario)
    assert healthy.verdict.kind is VerdictKind.STREAMING, healthy.verdict.evidence
