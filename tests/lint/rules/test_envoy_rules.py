"""The Envoy-family rules on hand-built routes: condition, message, provenance and fix.

The fixture/snapshot tests (test_rule_fixtures.py) run the same rules through the adapters;
these pin the decisions that do not depend on how the adapters resolve values.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import yaml
from envoykit import (
    AIGW,
    CONTOUR,
    ENVOY,
    ENVOY_GATEWAY_API,
    GATEWAY_API,
    ISTIO,
    aigatewayroute,
    at,
    btp,
    httpproxy,
    httproute,
    ignored,
    manifest,
    route,
    virtualservice,
    written,
)
from rulekit import fixed, only, run

from tokenpath.fix.edit import Safety
from tokenpath.lint.document import SourceText
from tokenpath.lint.finding import Severity
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import Setting, Source, SourceKind
from tokenpath.lint.policy import Policy
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules import (
    envoy_compressor_on_event_stream,
    per_try_timeout_too_short,
    policy_without_effect,
    request_buffer_limit_too_small,
    route_timeout_caps_stream,
    stream_idle_timeout_too_short,
    timeout_read_as_default,
)
from tokenpath.lint.rules._envoy_durations import (
    gateway_duration,
    go_duration,
    meant,
    proto_duration,
)

TP204 = route_timeout_caps_stream
TP205 = per_try_timeout_too_short
TP206 = stream_idle_timeout_too_short
TP207 = timeout_read_as_default
TP302 = envoy_compressor_on_event_stream
TP402 = request_buffer_limit_too_small
TP506 = policy_without_effect


def rule_of(text: str, kind_keys: tuple[str, ...] = ("spec", "rules")) -> dict[str, object]:
    doc = yaml.safe_load(text)
    for key in kind_keys:
        doc = doc[key]
    first: dict[str, object] = doc[0]
    return first


# -- TP204 route-timeout-caps-stream --------------------------------------------------------


def test_tp204_envoy_gateway_default_says_it_is_implicit_and_adds_the_route_timeout():
    obj = httproute()
    r = route(obj)
    finding = only(TP204, r)
    assert finding.severity is Severity.ERROR
    assert "no route timeout is set, so Envoy's 15 s route timeout applies" in finding.message
    assert "900 s, policy max_generation_s" in finding.message
    assert "about 1 s later, at 16 s" in finding.message
    assert "200 without `[DONE]`" in finding.message
    assert "504" in finding.message
    assert finding.line == r.line  # the rule, not the object's first line
    assert finding.fix is not None
    assert finding.fix.safety is Safety.UNSAFE
    new = fixed(obj, finding.fix)
    assert rule_of(new)["timeouts"] == {"request": "900s"}
    assert "# the model server" in new


def test_tp204_written_value_is_named_and_replaced_in_place():
    obj = httproute("timeouts:\n  request: 60s  # too short")
    r = route(obj, route_timeout=written(60.0, at(obj, "timeouts", "request")))
    finding = only(TP204, r)
    assert "the route timeout is 60 s (timeouts.request of HTTPRoute/ai/llm)" in finding.message
    assert finding.line == at(obj, "timeouts", "request").line
    assert finding.value == "60s"
    new = fixed(obj, finding.fix)
    assert "request: 900s  # too short" in new


@pytest.mark.parametrize("value", [900.0, 3600.0, math.inf])
def test_tp204_long_enough_or_off_is_quiet(value: float):
    obj = httproute("timeouts:\n  request: 1h")
    r = route(obj, route_timeout=written(value, at(obj, "timeouts", "request")))
    assert run(TP204, r) == []


def test_tp204_ai_gateway_default_is_60_s():
    obj = aigatewayroute()
    finding = only(TP204, route(obj, AIGW))
    assert "the Envoy AI Gateway default of 60 s applies" in finding.message
    assert "at 61 s" in finding.message
    new = fixed(obj, finding.fix)
    assert rule_of(new)["timeouts"] == {"request": "900s"}


def test_tp204_policy_value_is_overridden_on_the_route():
    policy = btp("requestTimeout: 60s")
    obj = httproute()
    r = route(obj, route_timeout=written(60.0, at(policy, "timeout", "http", "requestTimeout")))
    finding = only(TP204, r)
    assert "timeout.http.requestTimeout of BackendTrafficPolicy/ai/timeouts" in finding.message
    assert finding.object == policy  # points where the value was written
    assert finding.fix is not None
    assert all(e.file == obj.file for e in finding.fix.edits)
    assert "on HTTPRoute/ai/llm" in finding.fix.title
    assert rule_of(fixed(obj, finding.fix))["timeouts"] == {"request": "900s"}


def test_tp204_policy_max_stream_duration_gets_advice_only():
    policy = btp("maxStreamDuration: 10m")
    obj = httproute('timeouts:\n  request: "0s"')
    r = route(
        obj,
        route_timeout=written(math.inf, at(obj, "timeouts", "request")),
        max_stream_duration=written(600.0, at(policy, "timeout", "http", "maxStreamDuration")),
    )
    finding = only(TP204, r)
    assert finding.setting == "max_stream_duration"
    assert "max stream duration is 600 s" in finding.message
    assert "an error before the headers" in finding.message
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert "raise timeout.http.maxStreamDuration of BackendTrafficPolicy/ai/timeouts" in (
        finding.fix.title
    )
    assert '"900s"' in finding.fix.title


def test_tp204_backend_request_that_overwrites_request_is_raised_too():
    # Envoy Gateway: backendRequest replaces request on a rule without retries (FACTS.md §6).
    obj = httproute("timeouts:\n  backendRequest: 60s")
    r = route(obj, route_timeout=written(60.0, at(obj, "timeouts", "backendRequest")))
    finding = only(TP204, r)
    new = fixed(obj, finding.fix)
    assert rule_of(new)["timeouts"] == {"backendRequest": "900s", "request": "900s"}
    assert finding.fix is not None
    assert "timeouts.request and timeouts.backendRequest" in finding.fix.title


def test_tp204_ignored_value_is_left_to_tp207():
    obj = httpproxy("timeoutPolicy:\n  response: 0s")
    base = route(obj, CONTOUR).settings.route_timeout
    r = route(
        obj,
        CONTOUR,
        route_timeout=ignored(base, at(obj, "timeoutPolicy", "response"), "0s counts as unset"),
    )
    assert run(TP204, r) == []
    assert len(run(TP207, r)) == 1


def test_tp204_contour_and_istio_fields():
    proxy = httpproxy()
    finding = only(TP204, route(proxy, CONTOUR))
    doc = yaml.safe_load(fixed(proxy, finding.fix))
    assert doc["spec"]["routes"][0]["timeoutPolicy"] == {"response": "900s"}

    vs = virtualservice("timeout: 30s")
    r = route(vs, ISTIO, route_timeout=written(30.0, at(vs, "timeout")))
    doc = yaml.safe_load(fixed(vs, only(TP204, r).fix))
    assert doc["spec"]["http"][0]["timeout"] == "900s"
    assert run(TP204, route(virtualservice(), ISTIO)) == []  # Istio: no route timeout


def test_tp204_without_a_fix_target_gives_advice():
    r = route(httproute())
    r = dataclasses.replace(r, settings=dataclasses.replace(r.settings, fix_target=None))
    finding = only(TP204, r)
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert finding.fix.title == 'set this route\'s route timeout to "900s" or more'


def test_tp204_never_writes_beyond_gateway_duration_range():
    finding = only(TP204, route(httproute()), Policy(max_generation_s=200000))
    assert finding.fix is None


# -- TP205 per-try-timeout-too-short ------------------------------------------------------


def test_tp205_backend_request_is_raised_in_place():
    obj = httproute("timeouts:\n  request: 1h\n  backendRequest: 60s")
    r = route(
        obj,
        route_timeout=written(3600.0, at(obj, "timeouts", "request")),
        backend_timeout=written(60.0, at(obj, "timeouts", "backendRequest")),
    )
    assert run(TP204, r) == []
    finding = only(TP205, r)
    assert "per-try timeout is 60 s (timeouts.backendRequest of HTTPRoute/ai/llm)" in (
        finding.message
    )
    assert "each attempt this long" in finding.message
    assert "300 s, policy max_silence_s" in finding.message
    assert rule_of(fixed(obj, finding.fix))["timeouts"] == {
        "request": "1h",
        "backendRequest": "300s",
    }
    # Above the longest silence it is harmless: Envoy stops it once the headers arrive.
    quiet = dataclasses.replace(r.settings, backend_timeout=written(400.0, at(obj, "timeouts")))
    assert run(TP205, dataclasses.replace(r, settings=quiet)) == []


def test_tp205_istio_per_try_timeout_and_default():
    vs = virtualservice("retries:\n  attempts: 2\n  perTryTimeout: 30s")
    r = route(vs, ISTIO, backend_timeout=written(30.0, at(vs, "retries", "perTryTimeout")))
    finding = only(TP205, r)
    assert finding.severity is Severity.WARNING
    doc = yaml.safe_load(fixed(vs, finding.fix))
    assert doc["spec"]["http"][0]["retries"] == {"attempts": 2, "perTryTimeout": "300s"}
    assert run(TP205, route(httproute())) == []  # no per-try timeout by default


# -- TP206 stream-idle-timeout-too-short ----------------------------------------------------


def test_tp206_contour_idle_is_raised_in_place():
    obj = httpproxy("timeoutPolicy:\n  response: infinity\n  idle: 60s")
    r = route(
        obj,
        CONTOUR,
        route_timeout=written(math.inf, at(obj, "timeoutPolicy", "response")),
        idle_timeout=written(60.0, at(obj, "timeoutPolicy", "idle")),
    )
    finding = only(TP206, r)
    assert finding.severity is Severity.WARNING
    assert "stream idle timeout is 60 s" in finding.message
    assert "300 s, policy max_silence_s" in finding.message
    assert "504 `stream timeout`" in finding.message
    assert "heartbeats" in finding.message
    doc = yaml.safe_load(fixed(obj, finding.fix))
    assert doc["spec"]["routes"][0]["timeoutPolicy"]["idle"] == "300s"


def test_tp206_default_fires_only_for_a_longer_policy_silence():
    obj = httpproxy()
    assert run(TP206, route(obj, CONTOUR)) == []  # Envoy's 300 s meets the default policy
    finding = only(TP206, route(obj, CONTOUR), Policy(max_silence_s=600))
    assert "no stream idle timeout is set, so the default of 300 s" in finding.message
    doc = yaml.safe_load(fixed(obj, finding.fix))
    assert doc["spec"]["routes"][0]["timeoutPolicy"] == {"idle": "600s"}


def test_tp206_envoy_gateway_gets_policy_advice():
    policy = btp("streamIdleTimeout: 60s")
    r = route(
        httproute(), idle_timeout=written(60.0, at(policy, "timeout", "http", "streamIdleTimeout"))
    )
    finding = only(TP206, r)
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert finding.fix.title == (
        'raise timeout.http.streamIdleTimeout of BackendTrafficPolicy/ai/timeouts to "300s" or more'
    )
    default = only(TP206, route(httproute()), Policy(max_silence_s=600))
    assert default.fix is not None
    assert "BackendTrafficPolicy on HTTPRoute/ai/llm" in default.fix.title


def test_tp206_istio_advice_names_the_envoyfilter():
    finding = only(TP206, route(virtualservice(), ISTIO), Policy(max_silence_s=600))
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert "EnvoyFilter" in finding.fix.title
    assert "istio/istio#24565" in finding.fix.title


def test_tp206_ai_gateway_stream_idle_timeout_is_per_try():
    obj = aigatewayroute("streamIdleTimeout: 30s")
    r = route(obj, AIGW, per_try_idle_timeout=written(30.0, at(obj, "streamIdleTimeout")))
    finding = only(TP206, r)
    assert finding.setting == "per_try_idle_timeout"
    assert "ends the attempt" in finding.message
    assert rule_of(fixed(obj, finding.fix))["streamIdleTimeout"] == "300s"


# -- TP207 timeout-read-as-default ----------------------------------------------------------


def test_tp207_contour_zero_becomes_infinity_safely():
    obj = httpproxy("timeoutPolicy:\n  response: 0s  # meant: no timeout")
    base = route(obj, CONTOUR).settings.route_timeout
    source = at(obj, "timeoutPolicy", "response")
    r = route(obj, CONTOUR, route_timeout=ignored(base, source, "0s counts as unset"))
    finding = only(TP207, r)
    assert finding.message == (
        'route timeout "0s" does not take effect (0s counts as unset); '
        "Envoy's 15 s route timeout applies instead"
    )
    assert finding.line == source.line
    assert finding.fix is not None
    assert finding.fix.safety is Safety.SAFE
    assert 'response: "infinity"  # meant: no timeout' in fixed(obj, finding.fix)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1.5s", "1500ms"), ("1d", "24h"), ("100000s", "27h46m40s"), ("30", "30s")],
)
def test_tp207_gateway_durations_are_rewritten_exactly(raw: str, expected: str):
    obj = httproute(f'timeouts:\n  request: "{raw}"')
    base = route(obj).settings.route_timeout
    r = route(obj, route_timeout=ignored(base, at(obj, "timeouts", "request"), "not GEP-2257"))
    finding = only(TP207, r)
    assert finding.fix is not None
    assert finding.fix.safety is Safety.SAFE
    assert rule_of(fixed(obj, finding.fix))["timeouts"] == {"request": expected}


def test_tp207_unclear_value_gets_advice():
    obj = httproute('timeouts:\n  request: "forever"')
    base = route(obj).settings.route_timeout
    r = route(obj, route_timeout=ignored(base, at(obj, "timeouts", "request"), "not GEP-2257"))
    finding = only(TP207, r)
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert "Gateway API duration" in finding.fix.title


def test_tp207_quiet_when_the_default_is_no_timer_and_istio_uses_protobuf_syntax():
    vs = virtualservice('timeout: "1m30x"')
    base = route(vs, ISTIO).settings.route_timeout
    entry = ignored(base, at(vs, "timeout"), "not a duration")
    # Istio sets no route timeout: nothing cuts the stream, so nothing to report.
    assert run(TP207, route(vs, ISTIO, route_timeout=entry)) == []
    assert meant(route(vs, ISTIO), entry.ignored[0]) is None  # unclear: "x"
    vs = virtualservice('timeout: "1d"')
    entry = ignored(base, at(vs, "timeout"), "not a duration")
    assert meant(route(vs, ISTIO), entry.ignored[0]) == "86400s"


def test_tp207_valid_value_ignored_for_another_reason_gets_advice_and_tp204_still_fires():
    policy = btp("requestTimeout: 900s")
    obj = httproute()
    base = route(obj).settings.route_timeout
    shadowed = ignored(base, at(policy, "timeout", "http", "requestTimeout"), "shadowed")
    r = route(obj, route_timeout=shadowed)
    finding = only(TP207, r)
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert "where it takes effect" in finding.fix.title
    tp204 = only(TP204, r)
    assert "no route timeout written for this route takes effect (TP207)" in tp204.message
    assert tp204.fix is not None
    assert tp204.fix.safety is Safety.UNSAFE


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0s"),
        (1.5, "1500ms"),
        (60.0, "1m"),
        (90.0, "90s"),
        (3600.0, "1h"),
        (86400.0, "24h"),
        (100000.0, "27h46m40s"),
        (0.0005, None),
        (math.inf, None),
        (100000 * 3600.0, None),
    ],
)
def test_gateway_duration(value: float, expected: str | None):
    assert gateway_duration(value) == expected


def test_go_and_proto_durations():
    assert go_duration(1.25) == "1250ms"
    assert proto_duration(1.5) == "1.5s"
    assert proto_duration(86400.0) == "86400s"
    assert proto_duration(math.inf) is None


# -- TP302 envoy-compressor-on-event-stream -------------------------------------------------


def _compression(types: tuple[str, ...] | None) -> Setting[tuple[str, ...] | None]:
    source = Source(SourceKind.FIELD, key="content_type", line=3)
    return Setting(types, source)


def test_tp302_sse_in_the_compressor_types_is_info_without_overstating():
    r = route(
        httproute(), ENVOY, compression=_compression(("application/json", "text/event-stream"))
    )
    finding = only(TP302, r)
    assert finding.severity is Severity.INFO
    assert "text/event-stream" in finding.message
    assert "adds no delay" in finding.message
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY


@pytest.mark.parametrize(
    "types", [None, ("application/json", "text/plain"), ("text/event-stream-not",)]
)
def test_tp302_quiet_without_stream_types(types: tuple[str, ...] | None):
    assert run(TP302, route(httproute(), ENVOY, compression=_compression(types))) == []


def test_tp302_ndjson_with_parameters_and_policy_allowance():
    r = route(httproute(), compression=_compression(("application/x-ndjson; charset=utf-8",)))
    assert len(run(TP302, r)) == 1
    assert run(TP302, r, Policy(compression_allowed=True)) == []


# -- TP402 request-buffer-limit-too-small ---------------------------------------------------


def _buffered() -> Setting[bool]:
    return Setting(True, Source(SourceKind.DEFAULT, "", detail="AI Gateway ext_proc reads it"))


def test_tp402_eg_default_buffer_limit_with_a_body_buffering_filter():
    eg_limit = Setting(32768, Source(SourceKind.DEFAULT, "", detail="Envoy Gateway 32 KiB"))
    r = route(aigatewayroute(), AIGW, body_buffered=_buffered(), request_buffer_limit=eg_limit)
    finding = only(TP402, r)
    assert finding.severity is Severity.WARNING
    assert "32 KiB" in finding.message
    assert "413" in finding.message
    assert "32 MiB, policy min_body_bytes" in finding.message
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert 'connection.bufferLimit: "32Mi"' in finding.fix.title
    assert "ClientTrafficPolicy" in finding.fix.title


def test_tp402_quiet_when_not_buffered_or_large_enough():
    assert run(TP402, route(aigatewayroute(), AIGW)) == []  # nothing buffers the body
    big = Setting(64 * 1024 * 1024, Source(SourceKind.DEFAULT, ""))
    r = route(aigatewayroute(), AIGW, body_buffered=_buffered(), request_buffer_limit=big)
    assert run(TP402, r) == []


# -- TP506 policy-without-effect ------------------------------------------------------------

POLICIES = (
    manifest(
        GATEWAY_API,
        "HTTPRoute",
        "llm",
        "  parentRefs: [{name: eg}]\n  rules:\n    - backendRefs: [{name: vllm, port: 8000}]\n",
    )
    + "---\n"
    + manifest(
        ENVOY_GATEWAY_API,
        "BackendTrafficPolicy",
        "typo",
        "  targetRefs:\n"
        "    - group: gateway.networking.k8s.io\n"
        "      kind: HTTPRoute\n"
        "      name: lmm\n"
        "  timeout:\n    http:\n      requestTimeout: 900s\n",
    )
)


def test_tp506_policy_targeting_a_missing_route():
    documents, errors = load_documents(SourceText("p.yaml", POLICIES))
    assert errors == []
    objects, _ = parse_objects(documents, {"p.yaml": POLICIES})
    ctx = RuleContext(policy=Policy())
    findings = list(TP506.check_objects(objects, ctx))
    assert len(findings) == 1
    (finding,) = findings
    assert finding.code == "TP506"
    assert finding.severity is Severity.WARNING
    assert str(finding.object) == "BackendTrafficPolicy/ai/typo"
    assert "lmm" in finding.message
    assert finding.line == 18  # the targetRefs entry
    assert list(TP506.check(route(httproute()), ctx)) == []
