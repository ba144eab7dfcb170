"""``probe --diagnose`` through real Envoy in front of the mock recovers what Envoy was
configured with (FACTS.md §5), at scaled-down times:

* route ``idle_timeout: 3s`` (``timeout: 0s``): an idle timer of 3 s ± 1 s, before the
  headers (504) and after them (the stream is reset, status 200), and SSE heartbeats keep a
  longer silence alive;
* route ``timeout: 4s``: a total timer cutting a stream whose tokens still flow. Envoy stops
  forwarding at 4 s but, with the default ``delayed_close_timeout`` (1 s), the client only
  sees the connection end ~1 s later: the diagnosis reports the cut at ≈5 s, with a silence
  of ≈1 s before it;
* ``timeout: 0s`` and everything else at Envoy's defaults: no buffering.
"""

from __future__ import annotations

import re

import pytest

from tokenpath.probe.diagnose import run_diagnosis
from tokenpath.probe.diagnosis import Buffering, Diagnosis
from tokenpath.probe.request import build_request
from tokenpath.report.diagnose import diagnosis_to_dict, render_diagnosis_text
from tokenpath.simulate.envoy import run_envoy
from tokenpath.simulate.renderers.envoy import EnvoySettings
from tokenpath.stream.dialects import Dialect

pytestmark = pytest.mark.proxy

IDLE_TIMEOUT_S = 3.0
ROUTE_TIMEOUT_S = 4.0
DELAYED_CLOSE_S = 1.0  # Envoy's default HCM delayed_close_timeout


def diagnose_through(
    mock_server: object,
    settings: EnvoySettings,
    *,
    budget_s: float,
    max_idle_s: float,
    max_total_s: float,
) -> Diagnosis:
    host, port = mock_server.host, mock_server.port  # type: ignore[attr-defined]
    with run_envoy(host, port, settings) as envoy:
        request = build_request(f"{envoy.url}/v1/chat/completions", dialect=Dialect.OPENAI_CHAT)
        return run_diagnosis(
            request, budget_s=budget_s, max_idle_s=max_idle_s, max_total_s=max_total_s
        )


def test_diagnose_recovers_the_route_idle_timeout_and_heartbeats(envoy_binary, mock_server):
    settings = EnvoySettings(route_timeout=0, route_idle_timeout=IDLE_TIMEOUT_S)
    d = diagnose_through(mock_server, settings, budget_s=40, max_idle_s=6, max_total_s=1)
    assert not d.budget_exhausted, d
    assert d.buffering is not None, d.buffering
    assert d.buffering.mode is Buffering.NONE, d.buffering
    # The route idle timer runs from the request on: before the headers Envoy answers 504.
    before = d.idle_before_headers
    assert before is not None, before
    assert before.found, before
    assert before.status == 504, before
    assert before.estimate_s is not None
    assert abs(before.estimate_s - IDLE_TIMEOUT_S) <= 1.0, before
    # After the headers it resets the stream; the client sees the end after the delayed
    # close, so a cut shows a silence of ≈4 s, but the bracket still holds 3 s.
    after = d.idle_after_headers
    assert after is not None, after
    assert after.found, after
    assert after.complete, after
    assert after.status == 200, after
    assert after.estimate_s is not None
    assert abs(after.estimate_s - IDLE_TIMEOUT_S) <= 1.0, after
    assert after.low_s is not None
    assert after.high_s is not None
    assert after.low_s <= IDLE_TIMEOUT_S <= after.high_s, after
    assert d.heartbeats is not None, d.heartbeats
    assert d.heartbeats.tested, d.heartbeats
    assert d.heartbeats.keeps_alive is True, d.heartbeats
    assert d.total is not None, d.total
    assert not d.total.found, d.total
    assert d.likely_cause is not None
    assert "idle" in d.likely_cause, d.likely_cause
    text = render_diagnosis_text(d)
    assert "heartbeats: keep a silent stream alive" in text, text
    data = diagnosis_to_dict(d)
    assert data["idle_timeout_after_headers"]["found"] is True  # type: ignore[index]


def test_diagnose_reports_the_route_timeout_as_a_total_timer(envoy_binary, mock_server):
    settings = EnvoySettings(route_timeout=ROUTE_TIMEOUT_S)
    d = diagnose_through(mock_server, settings, budget_s=30, max_idle_s=0.5, max_total_s=6.5)
    assert not d.budget_exhausted, d
    # Silences up to the search range (0.5 s) are fine: no idle timer below it.
    for finding in (d.idle_before_headers, d.idle_after_headers):
        assert finding is not None, finding
        assert not finding.found, finding
        assert finding.complete, finding
        assert finding.searched_to_s == 0.5, finding
    assert d.heartbeats is not None, d.heartbeats
    assert not d.heartbeats.tested, d.heartbeats
    total = d.total
    assert total is not None, total
    assert total.found, total
    assert total.status == 200, total
    assert total.low_s is not None
    assert total.high_s is not None
    # The route timer fires at 4 s (tokens stop), then Envoy's delayed close holds the
    # connection for another 1 s before the FIN: the diagnosis brackets the timer by both.
    expected_fin = ROUTE_TIMEOUT_S + DELAYED_CLOSE_S
    assert ROUTE_TIMEOUT_S - 0.3 <= total.low_s <= ROUTE_TIMEOUT_S + 0.3, total
    assert expected_fin - 0.3 <= total.high_s <= expected_fin + 0.6, total
    (evidence,) = total.evidence
    assert "delayed_close_timeout" in evidence, evidence
    silence = re.search(r"silence before the cut (\d+\.\d+) s", evidence)
    assert silence is not None, evidence
    assert abs(float(silence.group(1)) - DELAYED_CLOSE_S) <= 0.3, evidence
    # Tokens (every 0.1 s) stopped at the route timeout, not at the FIN.
    events = re.search(r"; (\d+) events", evidence)
    assert events is not None, evidence
    assert 35 <= int(events.group(1)) <= 42, evidence
    assert d.likely_cause is not None
    assert "Envoy route timeout" in d.likely_cause, d.likely_cause
    text = render_diagnosis_text(d)
    assert re.search(r"total timeout: cut at (3\.[7-9]|4\.[0-3])-(4\.[7-9]|5\.\d) s", text), text


def test_diagnose_envoy_defaults_without_route_timeout_do_not_buffer(envoy_binary, mock_server):
    d = diagnose_through(
        mock_server, EnvoySettings(route_timeout=0), budget_s=20, max_idle_s=0.5, max_total_s=1
    )
    assert d.buffering is not None, d.buffering
    assert d.buffering.mode is Buffering.NONE, d.buffering
    assert d.total is not None, d.total
    assert not d.total.found, d.total
    # No compressor filter configured; Envoy passes chunked and Content-Length through.
    assert d.compression is not None, d.compression
    assert not d.compression.applied, d.compression
    assert d.framing is not None, d.framing
    assert d.framing.sent_auto == "chunked", d.framing
    assert d.framing.sent_length == "length", d.framing
    assert not d.framing.changed, d.framing
