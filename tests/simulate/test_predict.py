"""``simulate.predict``: the rules' facts as a prediction per scenario (pure, no proxy)."""

from __future__ import annotations

import pytest

from tokenpath.lint.document import SourceText
from tokenpath.lint.pipeline import lint_sources
from tokenpath.probe.verdict import CutKind, VerdictKind
from tokenpath.simulate.predict import NginxHop, Prediction, predict_nginx
from tokenpath.simulate.proofs import (
    FIXED_PREDICTED,
    PROOF_CASES,
    PROOF_FILE,
    ProofCase,
    case_scenario,
    fixed_manifest,
)
from tokenpath.simulate.scenarios import BY_NAME, IDENTITY, Scenario

V = VerdictKind

STOCK = NginxHop(buffering=True, http_version="1.0", read_timeout_s=60.0, gzip=False, gzip_types=())
SAFE = NginxHop(
    buffering=False, http_version="1.1", read_timeout_s=3600.0, gzip=False, gzip_types=()
)
ON_11 = NginxHop(buffering=True, http_version="1.1", read_timeout_s=60.0, gzip=False, gzip_types=())


def scenario(mock: str, accept_encoding: str = "gzip, deflate") -> Scenario:
    return Scenario("t", mock, "test", accept_encoding)


# The Envoy cases: tests/simulate/test_predict_envoy.py.
NGINX_CASES = [c for c in PROOF_CASES if c.proxy == "nginx"]


@pytest.mark.parametrize("case", NGINX_CASES, ids=[c.code for c in NGINX_CASES])
def test_the_prediction_for_each_proof_case_is_the_rules_claim(case: ProofCase) -> None:
    result = lint_sources([case.source], case.options)
    (route,) = result.routes
    prediction = predict_nginx(route.settings, case_scenario(case))
    assert case.predicted[0] in prediction.verdicts, prediction
    assert set(prediction.verdicts) <= set(case.predicted) | {V.BURSTY}, prediction
    assert prediction.cut is case.cut
    assert prediction.reason

    after = lint_sources([SourceText(PROOF_FILE, fixed_manifest(case))], case.options)
    (fixed,) = after.routes
    assert predict_nginx(fixed.settings, case_scenario(case)).verdicts == FIXED_PREDICTED


def test_stock_nginx_holds_a_close_delimited_reply() -> None:
    prediction = predict_nginx(STOCK, BY_NAME["fast-small"])
    assert prediction.verdicts == (V.BUFFERED, V.BURSTY)
    assert "HTTP/1.0" in prediction.reason


def test_content_length_is_held_even_over_http11() -> None:
    assert predict_nginx(ON_11, BY_NAME["content-length"]).verdicts == (V.BUFFERED, V.BURSTY)


def test_chunked_http11_small_events_stream_with_buffering_on() -> None:
    assert predict_nginx(ON_11, BY_NAME["fast-small"]).verdicts == (V.STREAMING,)


def test_events_of_a_buffer_page_are_unsettled_with_buffering_on() -> None:
    prediction = predict_nginx(ON_11, BY_NAME["event-4k"])
    assert set(prediction.verdicts) == {V.STREAMING, V.BUFFERED, V.BURSTY}
    assert predict_nginx(ON_11, BY_NAME["event-1k"]).verdicts == (V.STREAMING,)


def test_x_accel_buffering_overrides_proxy_buffering() -> None:
    assert predict_nginx(STOCK, scenario("tokens=5;accel=no")).verdicts == (V.STREAMING,)
    assert predict_nginx(SAFE, scenario("tokens=5;accel=yes;framing=length")).verdicts == (
        V.BUFFERED,
        V.BURSTY,
    )


def test_gzip_of_sse_with_buffering_on_is_compressed_and_held() -> None:
    hop = NginxHop(True, "1.1", 60.0, True, ("application/json", "text/event-stream"))
    assert predict_nginx(hop, BY_NAME["gzip"]).verdicts == (V.COMPRESSED, V.BUFFERED)
    # The client does not ask for gzip: nginx does not compress.
    assert predict_nginx(hop, BY_NAME["identity"]).verdicts == (V.STREAMING,)
    # A wildcard matches too; other types do not.
    wildcard = NginxHop(True, "1.1", 60.0, True, ("*",))
    assert predict_nginx(wildcard, BY_NAME["gzip"]).verdicts == (V.COMPRESSED, V.BUFFERED)
    json_only = NginxHop(True, "1.1", 60.0, True, ("application/json",))
    assert predict_nginx(json_only, BY_NAME["gzip"]).verdicts == (V.STREAMING,)


def test_gzip_with_buffering_off_streams() -> None:
    hop = NginxHop(False, "1.1", 60.0, True, ("text/event-stream",))
    prediction = predict_nginx(hop, BY_NAME["gzip"])
    assert prediction.verdicts == (V.STREAMING,)
    assert "compressed and flushed" in prediction.reason


def test_a_pause_longer_than_the_read_timeout_cuts_idle() -> None:
    prediction = predict_nginx(SAFE, BY_NAME["pause-75s"], time_scale=0.01)
    assert prediction.verdicts == (V.STREAMING,)  # 3600 s scaled: 36 s > 0.75 s
    prediction = predict_nginx(ON_11, BY_NAME["pause-75s"])
    assert prediction.verdicts == (V.CUT,)
    assert prediction.cut is CutKind.IDLE
    assert "after token 10" in prediction.reason
    assert predict_nginx(ON_11, BY_NAME["pause-30s"]).verdicts == (V.STREAMING,)


def test_a_cut_of_a_held_stream_does_not_predict_its_kind() -> None:
    prediction = predict_nginx(STOCK, BY_NAME["pause-75s"])
    assert prediction.verdicts == (V.CUT,)
    assert prediction.cut is None


def test_a_slow_first_token_is_cut_without_a_kind() -> None:
    prediction = predict_nginx(ON_11, BY_NAME["ttft-75s"])
    assert prediction.verdicts == (V.CUT,)
    assert prediction.cut is None
    assert "before the first token" in prediction.reason


def test_slow_headers_get_a_504() -> None:
    hop = NginxHop(False, "1.1", 10.0, False, ())
    prediction = predict_nginx(hop, BY_NAME["header-delay"])
    assert prediction.verdicts == (V.CUT,)
    assert prediction.cut is CutKind.BEFORE_HEADERS


def test_heartbeats_break_the_silence() -> None:
    assert predict_nginx(ON_11, BY_NAME["heartbeat-pause"]).verdicts == (V.STREAMING,)
    short = NginxHop(False, "1.1", 10.0, False, ())
    assert predict_nginx(short, BY_NAME["heartbeat-pause"]).verdicts == (V.CUT,)


def test_time_scale_keeps_the_order_and_applies_the_timer_floor() -> None:
    # 60 s read timeout vs a 75 s pause: cut at scale 1 and at 0.05 (3 s vs 3.75 s).
    for factor in (1.0, 0.05):
        assert predict_nginx(ON_11, BY_NAME["pause-75s"], time_scale=factor).verdicts == (V.CUT,)
    # A 1 s timeout stays 1 s (nginx's timer floor) while a 3 s pause becomes 150 ms.
    one = NginxHop(False, "1.1", 1.0, False, ())
    paused = scenario("ttft=50ms;itl=20ms;tokens=8;pause=3@3s")
    assert predict_nginx(one, paused).verdicts == (V.CUT,)
    assert predict_nginx(one, paused, time_scale=0.05).verdicts == (V.STREAMING,)


def test_identity_scenario_is_not_compressed() -> None:
    hop = NginxHop(True, "1.1", 60.0, True, ("text/event-stream",))
    assert predict_nginx(hop, scenario("tokens=5", IDENTITY)).verdicts == (V.STREAMING,)


def test_agrees() -> None:
    held = Prediction((V.COMPRESSED, V.BUFFERED), "r")
    assert held.agrees(V.BUFFERED)
    assert held.agrees(V.COMPRESSED)
    assert not held.agrees(V.STREAMING)
    assert not held.agrees(None)
    cut = Prediction((V.CUT,), "r", CutKind.IDLE)
    assert cut.agrees(V.CUT, CutKind.IDLE)
    assert not cut.agrees(V.CUT, CutKind.TOTAL)
    assert Prediction((V.CUT,), "r").agrees(V.CUT, CutKind.UNKNOWN)
    assert cut.label == "CUT (idle)"
    assert held.label == "COMPRESSED|BUFFERED"
