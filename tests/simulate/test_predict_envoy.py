"""``predict_envoy``: what Envoy settings predict for a scenario (FACTS.md §0, §5), the mapping
of lint-model routes to bootstrap fields (``envoy_settings_for``) and the scaling of a run.
Pure: no proxy is started."""

from __future__ import annotations

import json
import math

import pytest

from tokenpath.lint.document import SourceText
from tokenpath.lint.envoy.values import envoy_defaults, field_source, written
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.pipeline import LintOptions, lint_sources
from tokenpath.probe.verdict import CutKind, VerdictKind
from tokenpath.simulate.predict_envoy import envoy_fields, predict_envoy, scale_envoy
from tokenpath.simulate.proofs import (
    BACKEND,
    PROOF_CASES,
    PROOF_FILE,
    Proxy,
    fixed_manifest,
    gateway_route,
)
from tokenpath.simulate.renderers.envoy import (
    EnvoySettings,
    envoy_settings_for,
    render_envoy_config,
)
from tokenpath.simulate.scenarios import BY_NAME, Scenario

STREAMING = (VerdictKind.STREAMING,)
CUT = (VerdictKind.CUT,)


def predict(settings: EnvoySettings, mock: str, *, accept: str = "gzip", scale: float = 1.0):
    return predict_envoy(settings, Scenario("t", mock, "test", accept), time_scale=scale)


# Tokens every 100 ms for 3.5 s.
LONG = "ttft=50ms;itl=100ms;tokens=35"
SHORT = "ttft=50ms;itl=50ms;tokens=10"
PAUSED = "ttft=50ms;itl=20ms;tokens=10;pause=5@2s"
LATE_HEADERS = "headers=1500ms;tokens=5"


def assert_cut_before_headers(settings: EnvoySettings, reason: str = "") -> None:
    """Response headers after 1.5 s: ``settings`` cut the request before them, saying
    ``reason``."""
    prediction = predict(settings, LATE_HEADERS)
    assert prediction.cut is CutKind.BEFORE_HEADERS
    assert reason in prediction.reason


def test_envoy_defaults_stream_a_short_answer() -> None:
    prediction = predict(EnvoySettings(), SHORT)
    assert prediction.verdicts == STREAMING


def test_the_route_timeout_is_a_total_that_cuts_while_tokens_flow() -> None:
    prediction = predict(EnvoySettings(route_timeout=2), LONG)
    assert prediction.verdicts == CUT
    assert prediction.cut is CutKind.TOTAL
    assert "route timeout 2 s" in prediction.reason
    # Heartbeats do not reset a total timer.
    assert predict(EnvoySettings(route_timeout=2), LONG + ";heartbeat=50ms").cut is CutKind.TOTAL


def test_envoys_implicit_15_s_route_timeout_cuts_a_longer_generation() -> None:
    prediction = predict(EnvoySettings(), "ttft=50ms;itl=500ms;tokens=40")
    assert prediction.verdicts == CUT
    assert prediction.cut is CutKind.TOTAL
    assert "route timeout 15 s" in prediction.reason


def test_route_timeout_0s_turns_it_off() -> None:
    assert predict(EnvoySettings(route_timeout=0), "ttft=50ms;itl=500ms;tokens=40").verdicts == (
        STREAMING
    )


def test_headers_later_than_the_route_timeout_are_a_504_before_headers() -> None:
    assert predict(EnvoySettings(route_timeout=1), LATE_HEADERS).verdicts == CUT
    assert_cut_before_headers(EnvoySettings(route_timeout=1), "upstream request timeout")


def test_an_idle_timer_shorter_than_a_pause_cuts_mid_stream() -> None:
    prediction = predict(EnvoySettings(route_idle_timeout=1), PAUSED)
    assert prediction.verdicts == CUT
    assert prediction.cut is CutKind.IDLE
    assert "route idle_timeout 1 s" in prediction.reason
    assert_cut_before_headers(EnvoySettings(route_idle_timeout=1), "stream timeout")


def test_heartbeats_keep_an_idle_timer_alive() -> None:
    assert predict(EnvoySettings(route_idle_timeout=1), PAUSED + ";heartbeat=300ms").verdicts == (
        STREAMING
    )


def test_the_hcm_stream_idle_timeout_applies_unless_the_route_sets_its_own() -> None:
    assert predict(EnvoySettings(hcm_stream_idle_timeout=1), PAUSED).cut is CutKind.IDLE
    off = EnvoySettings(hcm_stream_idle_timeout=1, route_idle_timeout=0)
    assert predict(off, PAUSED).verdicts == STREAMING


def test_an_idle_cut_before_the_first_token_has_no_predicted_kind() -> None:
    # Headers at once, first token after the idle limit: an "empty 200" (FACTS.md §0).
    prediction = predict(EnvoySettings(route_idle_timeout=1), "ttft=2s;tokens=5")
    assert prediction.verdicts == CUT
    assert prediction.cut is None


def test_max_stream_duration_is_a_total_too() -> None:
    prediction = predict(EnvoySettings(route_timeout=0, route_max_stream_duration=2), LONG)
    assert prediction.cut is CutKind.TOTAL
    assert "max_stream_duration" in prediction.reason
    assert_cut_before_headers(
        EnvoySettings(route_max_stream_duration=1), "downstream duration timeout"
    )


def test_the_per_try_timeout_bounds_only_the_wait_for_headers() -> None:
    # Measured on Envoy 1.40.0: ignored once the response has started.
    settings = EnvoySettings(route_timeout=0, retry_per_try_timeout=1)
    assert predict(settings, LONG).verdicts == STREAMING
    assert_cut_before_headers(settings)


def test_the_per_try_idle_timeout_cuts_a_silence() -> None:
    settings = EnvoySettings(route_timeout=0, retry_per_try_idle_timeout=1)
    prediction = predict(settings, PAUSED)
    assert prediction.cut is CutKind.IDLE
    assert "per_try_idle_timeout" in prediction.reason


def test_a_delayed_close_other_than_1s_or_0s_leaves_the_cut_kind_open() -> None:
    assert predict(EnvoySettings(route_timeout=2, hcm_delayed_close_timeout=0), LONG).cut is (
        CutKind.TOTAL
    )
    prediction = predict(EnvoySettings(route_timeout=2, hcm_delayed_close_timeout=3), LONG)
    assert prediction.verdicts == CUT
    assert prediction.cut is None


def test_a_timer_within_the_margin_of_the_end_is_too_close_to_call() -> None:
    prediction = predict(EnvoySettings(route_timeout=3.5), LONG)  # the body ends at 3.45 s
    assert set(prediction.verdicts) == {VerdictKind.CUT, VerdictKind.STREAMING}
    assert prediction.cut is None


def test_a_compressor_listing_sse_compresses_per_event() -> None:
    settings = EnvoySettings(compressor_content_types=("application/json", "text/event-stream"))
    prediction = predict(settings, SHORT)
    assert prediction.verdicts == (VerdictKind.STREAMING, VerdictKind.COMPRESSED)
    assert "per event" in prediction.reason
    assert predict(settings, SHORT, accept="identity").verdicts == STREAMING


def test_a_compressor_with_envoys_default_types_leaves_sse_alone() -> None:
    defaults = EnvoySettings(compressor_content_types=())
    assert predict(defaults, SHORT).verdicts == STREAMING
    # Plain text is in Envoy's default list.
    assert predict(defaults, SHORT + ";ctype=text/plain").verdicts == (
        VerdictKind.STREAMING,
        VerdictKind.COMPRESSED,
    )


def test_scaled_runs_write_envoys_defaults_out_scaled() -> None:
    scaled = scale_envoy(EnvoySettings(route_max_stream_duration=600), 0.05)
    assert scaled.value.route_timeout == 0.75
    assert scaled.value.hcm_stream_idle_timeout == 15
    assert scaled.value.route_max_stream_duration == 30
    assert scaled.value.hcm_delayed_close_timeout is None  # not scaled (envoy_set)
    assert any("route.timeout 15s as 0.75s" in note for note in scaled.notes)
    # The 15 s default, scaled to 0.75 s, cuts long-generation (60 s) but not fast-small.
    long = predict_envoy(EnvoySettings(), BY_NAME["long-generation"], time_scale=0.05)
    assert long.cut is CutKind.TOTAL
    fast = predict_envoy(EnvoySettings(), BY_NAME["fast-small"], time_scale=0.05)
    assert fast.verdicts == STREAMING


def test_render_writes_max_stream_duration_and_the_retry_policy() -> None:
    settings = EnvoySettings(
        route_max_stream_duration=30, retry_per_try_timeout=5, retry_per_try_idle_timeout=2
    )
    text = render_envoy_config(
        settings, listen_port=1, upstream_host="127.0.0.1", upstream_port=2, admin_port=3
    )
    hcm = json.loads(text)["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    route = hcm["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route["max_stream_duration"] == {"max_stream_duration": "30s"}
    assert route["retry_policy"] == {"per_try_timeout": "5s", "per_try_idle_timeout": "2s"}
    assert envoy_fields(settings) == (
        ("route.max_stream_duration", "30s"),
        ("route.retry_policy.per_try_timeout", "5s"),
        ("route.retry_policy.per_try_idle_timeout", "2s"),
    )


REF = ObjectRef("HTTPRoute", "llm", "ai", "routes.yaml", 1, 0)


def test_envoy_settings_for_leaves_envoys_own_defaults_unset() -> None:
    assert envoy_settings_for(envoy_defaults("Envoy Gateway")) == EnvoySettings()


def test_envoy_settings_for_writes_no_timer_as_0s_and_keeps_the_compressor_types() -> None:
    base = envoy_defaults("Contour")
    source = field_source(REF, "spec.routes[0].timeoutPolicy.response", None)
    settings = envoy_settings_for(
        type(base)(
            route_timeout=written(base.route_timeout, math.inf, source, "infinity"),
            idle_timeout=written(base.idle_timeout, 30.0, source, "30s"),
            backend_timeout=written(base.backend_timeout, 60.0, source, "60s"),
            per_try_idle_timeout=base.per_try_idle_timeout,
            max_stream_duration=written(base.max_stream_duration, math.inf, source, "0s"),
            compression=written(base.compression, ("text/event-stream",), source, None),
            body_buffered=written(base.body_buffered, True, source, None),
            request_buffer_limit=base.request_buffer_limit,
            delayed_close=written(base.delayed_close, math.inf, source, "0s"),
        )
    )
    assert settings == EnvoySettings(
        route_timeout=0,
        route_idle_timeout=30,
        retry_per_try_timeout=60,
        hcm_delayed_close_timeout=0,
        compressor_content_types=("text/event-stream",),
    )


def test_an_envoy_gateway_httproute_renders_its_request_timeout() -> None:
    manifest = BACKEND + gateway_route('      timeouts:\n        request: "2s"\n')
    (route,) = lint_sources([SourceText("eg.yaml", manifest)], LintOptions()).routes
    settings = envoy_settings_for(route.settings)
    assert settings.route_timeout == 2
    assert envoy_fields(settings)[0] == ("route.timeout", "2s")


@pytest.mark.parametrize(
    "case",
    [c for c in PROOF_CASES if c.proxy == Proxy.ENVOY],
    ids=[c.code for c in PROOF_CASES if c.proxy == Proxy.ENVOY],
)
def test_predict_envoy_agrees_with_every_envoy_proof_case(case) -> None:
    (route,) = lint_sources([case.source], case.options).routes
    scenario = Scenario(case.code, case.scenario, case.why)
    prediction = predict_envoy(envoy_settings_for(route.settings), scenario)
    assert prediction.verdicts == case.predicted
    assert prediction.cut is case.cut
    if case.fixed:
        after = lint_sources([SourceText(PROOF_FILE, fixed_manifest(case))], case.options)
        (fixed_route,) = after.routes
        healthy = predict_envoy(envoy_settings_for(fixed_route.settings), scenario)
        assert healthy.verdicts == STREAMING
