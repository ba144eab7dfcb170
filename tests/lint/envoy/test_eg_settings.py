"""Effective Envoy settings of Gateway API routes: Envoy Gateway (FACTS.md §4, §6), Envoy AI
Gateway (§9), Istio (§7) and Contour (§8) serving HTTPRoutes. Every fact: value and source."""

from __future__ import annotations

import math

import pytest
from gatewaykit import (
    FILE,
    ON_ROUTE,
    btp,
    ctp,
    eg_stack,
    gateway,
    gateway_class,
    http_route,
    line_of,
    routes_of,
    service_and_deployment,
)

from tokenpath.lint.envoy.values import ENVOY_COMPRESSOR_DEFAULT_TYPES, parse_quantity
from tokenpath.lint.model import Controller, EnvoyRouteSettings


def settings_of(text: str, hint: Controller | None = None) -> EnvoyRouteSettings:
    routes, errors = routes_of(text, hint)
    assert errors == []
    assert len(routes) == 1
    return routes[0].settings


def at(text: str, needle: str, nth: int = 0) -> str:
    return f"({FILE}:{line_of(text, needle, nth)})"


ROUTE_REQUEST = "spec.rules[0].timeouts.request of HTTPRoute/ai/chat"


# --- Envoy Gateway: route timeout (FACTS.md §6 rules 1-4) ---------------------------------


def test_eg_unset_is_envoys_15s_and_idle_is_the_hcm_300s() -> None:
    s = settings_of(eg_stack() + http_route())
    assert s.route_timeout.value == 15.0
    assert s.route_timeout.source.describe().startswith(
        "default (Envoy Gateway sets none: envoy default 15s (protobuf duration"
    )
    assert s.idle_timeout.value == 300.0
    assert s.idle_timeout.source.describe().startswith("default (envoy default 300s (")
    assert s.request_buffer_limit.value == 32768
    assert "32768" in s.request_buffer_limit.source.describe()
    assert s.body_buffered.value is False
    assert s.compression.value is None


def test_eg_request_sets_the_route_timeout_and_idle_becomes_at_least_1h() -> None:
    text = eg_stack() + http_route(timeouts="        request: 300s\n")
    s = settings_of(text)
    assert (s.route_timeout.value, s.route_timeout.raw) == (300.0, "300s")
    assert s.route_timeout.source.describe() == f"{ROUTE_REQUEST} {at(text, 'request: 300s')}"
    assert s.idle_timeout.value == 3600.0
    assert s.idle_timeout.source.describe() == f"{ROUTE_REQUEST} {at(text, 'request: 300s')}"
    assert "max(1h, request timeout)" in s.idle_timeout.source.detail


def test_eg_long_request_raises_the_idle_timeout_with_it() -> None:
    s = settings_of(eg_stack() + http_route(timeouts="        request: 2h\n"))
    assert (s.route_timeout.value, s.idle_timeout.value) == (7200.0, 7200.0)


def test_eg_request_0s_disables_the_timeout_and_the_idle_guard() -> None:
    text = eg_stack() + http_route(timeouts="        request: 0s\n")
    s = settings_of(text)
    assert s.route_timeout.value == math.inf
    assert s.route_timeout.raw == "0s"
    assert s.idle_timeout.value == math.inf
    assert "no idle guard" in s.idle_timeout.source.detail
    assert s.idle_timeout.source.describe() == f"{ROUTE_REQUEST} {at(text, 'request: 0s')}"


def test_eg_backend_request_without_retry_overwrites_request() -> None:
    text = eg_stack() + http_route(timeouts="        request: 0s\n        backendRequest: 60s\n")
    s = settings_of(text)
    assert (s.route_timeout.value, s.route_timeout.raw) == (60.0, "60s")
    assert s.route_timeout.source.describe() == (
        f"spec.rules[0].timeouts.backendRequest of HTTPRoute/ai/chat {at(text, 'backendRequest')}"
    )
    overridden = [o.describe() for o in s.route_timeout.overridden]
    assert f"{ROUTE_REQUEST} {at(text, 'request: 0s')}" in overridden
    assert s.backend_timeout.value == math.inf
    assert s.idle_timeout.value == 3600.0


def test_eg_backend_request_with_retry_is_the_per_try_timeout() -> None:
    retry = "      retry: {attempts: 2, codes: [503]}\n"
    text = eg_stack() + http_route(
        timeouts="        request: 600s\n        backendRequest: 60s\n", extra_rule=retry
    )
    s = settings_of(text)
    assert s.route_timeout.value == 600.0
    assert (s.backend_timeout.value, s.backend_timeout.raw) == (60.0, "60s")
    assert s.backend_timeout.source.describe() == (
        f"spec.rules[0].timeouts.backendRequest of HTTPRoute/ai/chat {at(text, 'backendRequest')}"
    )


def test_eg_btp_request_timeout_applies_when_the_route_sets_none() -> None:
    text = (
        eg_stack() + http_route() + btp("gw", "  timeout:\n    http:\n      requestTimeout: 120s\n")
    )
    s = settings_of(text)
    assert (s.route_timeout.value, s.route_timeout.raw) == (120.0, "120s")
    assert s.route_timeout.source.describe() == (
        "spec.timeout.http.requestTimeout of BackendTrafficPolicy/ai/gw "
        f"{at(text, 'requestTimeout: 120s')}"
    )
    assert s.idle_timeout.value == 3600.0  # rule 3: a request timeout is set


def test_eg_http_route_timeouts_beat_btp_request_timeout() -> None:
    text = (
        eg_stack()
        + http_route(timeouts="        request: 300s\n")
        + btp("gw", "  timeout:\n    http:\n      requestTimeout: 120s\n")
    )
    s = settings_of(text)
    assert s.route_timeout.value == 300.0
    [ignored] = s.route_timeout.ignored
    assert ignored.raw == "120s"
    assert "beat a BackendTrafficPolicy requestTimeout" in ignored.reason
    assert ignored.source.describe().startswith("spec.timeout.http.requestTimeout of Backend")


def test_eg_invalid_duration_ends_up_as_15s() -> None:
    text = eg_stack() + http_route(timeouts="        request: 1.5s\n")
    s = settings_of(text)
    assert (s.route_timeout.value, s.route_timeout.raw) == (15.0, "1.5s")
    assert s.route_timeout.source.describe() == (
        "default (Envoy Gateway uses 15s when timeouts.request does not parse (FACTS.md §6))"
    )
    [ignored] = s.route_timeout.ignored
    assert ignored.source.describe() == f"{ROUTE_REQUEST} {at(text, 'request: 1.5s')}"
    assert "is not a Gateway API duration" in ignored.reason
    assert s.idle_timeout.value == 3600.0  # still "set": max(1h, 15s)


def test_eg_invalid_btp_duration_is_ignored_and_the_default_kept() -> None:
    text = (
        eg_stack() + http_route() + btp("gw", "  timeout:\n    http:\n      requestTimeout: 1d\n")
    )
    s = settings_of(text)
    assert s.route_timeout.value == 15.0
    assert "envoy default 15s" in s.route_timeout.source.describe()
    [ignored] = s.route_timeout.ignored
    assert (ignored.raw, "not a Gateway API duration" in ignored.reason) == ("1d", True)
    assert s.idle_timeout.value == 300.0


# --- Envoy Gateway: idle side effect (FACTS.md §6 idle rules 1-4) ------------------------


def test_eg_btp_stream_idle_timeout_sets_the_route_idle() -> None:
    text = (
        eg_stack()
        + http_route(timeouts="        request: 0s\n")
        + btp("gw", "  timeout:\n    http:\n      streamIdleTimeout: 10m\n")
    )
    s = settings_of(text)
    assert (s.idle_timeout.value, s.idle_timeout.raw) == (600.0, "10m")
    assert s.idle_timeout.source.describe() == (
        "spec.timeout.http.streamIdleTimeout of BackendTrafficPolicy/ai/gw "
        f"{at(text, 'streamIdleTimeout: 10m')}"
    )
    assert s.route_timeout.value == math.inf


def test_eg_ctp_stream_idle_timeout_is_the_hcm_value_even_with_request_0s() -> None:
    text = (
        eg_stack()
        + http_route(timeouts="        request: 0s\n")
        + ctp("client", "  timeout:\n    http:\n      streamIdleTimeout: 20m\n")
    )
    s = settings_of(text)
    assert s.idle_timeout.value == 1200.0
    assert s.idle_timeout.source.describe() == (
        "spec.timeout.http.streamIdleTimeout of ClientTrafficPolicy/ai/client "
        f"{at(text, 'streamIdleTimeout: 20m')}"
    )


def test_eg_btp_stream_idle_beats_ctp_stream_idle() -> None:
    text = (
        eg_stack()
        + http_route()
        + ctp("client", "  timeout:\n    http:\n      streamIdleTimeout: 20m\n")
        + btp("gw", "  timeout:\n    http:\n      streamIdleTimeout: 0s\n")
    )
    s = settings_of(text)
    assert s.idle_timeout.value == math.inf  # 0s = no timer
    overridden = [o.describe() for o in s.idle_timeout.overridden]
    assert any("ClientTrafficPolicy/ai/client" in o for o in overridden)


# --- Envoy Gateway: precedence (FACTS.md §6) ----------------------------------------------


def test_eg_route_btp_beats_gateway_btp_as_a_whole() -> None:
    text = (
        eg_stack()
        + http_route()
        + btp(
            "gw",
            "  timeout:\n    http:\n      requestTimeout: 120s\n  compressor:\n    - type: Gzip\n",
        )
        + btp("route", "  timeout:\n    http:\n      requestTimeout: 900s\n", target=ON_ROUTE)
    )
    s = settings_of(text)
    assert s.route_timeout.value == 900.0
    assert "BackendTrafficPolicy/ai/route" in s.route_timeout.source.describe()
    [shadowed] = s.route_timeout.ignored
    assert shadowed.raw == "120s"
    assert "BackendTrafficPolicy/ai/route" in shadowed.reason
    assert "more specific policy" in shadowed.reason
    # The Gateway policy's compressor does not apply either.
    assert s.compression.value is None
    assert [i.raw for i in s.compression.ignored] == ["compressor"]


def test_eg_merge_type_lets_gateway_btp_fields_fill_in() -> None:
    text = (
        eg_stack()
        + http_route()
        + btp(
            "gw",
            "  timeout:\n    http:\n      requestTimeout: 120s\n      streamIdleTimeout: 7m\n",
        )
        + btp(
            "route",
            "  mergeType: StrategicMerge\n  timeout:\n    http:\n      requestTimeout: 900s\n",
            target=ON_ROUTE,
        )
    )
    s = settings_of(text)
    assert s.route_timeout.value == 900.0
    overridden = [o.describe() for o in s.route_timeout.overridden]
    assert any("BackendTrafficPolicy/ai/gw" in o for o in overridden)
    assert s.idle_timeout.value == 420.0
    assert "BackendTrafficPolicy/ai/gw" in s.idle_timeout.source.describe()


def test_eg_listener_ctp_beats_gateway_wide_ctp() -> None:
    section = "    kind: Gateway\n    name: eg\n    sectionName: http\n"
    text = (
        eg_stack()
        + http_route()
        + ctp("wide", "  connection:\n    bufferLimit: 1Mi\n")
        + ctp("listener", "  connection:\n    bufferLimit: 50Mi\n", target=section)
    )
    s = settings_of(text)
    assert (s.request_buffer_limit.value, s.request_buffer_limit.raw) == (50 * 2**20, "50Mi")
    assert s.request_buffer_limit.source.describe() == (
        "spec.connection.bufferLimit of ClientTrafficPolicy/ai/listener "
        f"{at(text, 'bufferLimit: 50Mi')}"
    )
    [shadowed] = s.request_buffer_limit.ignored
    assert shadowed.raw == "1Mi"


def test_eg_a_policy_applies_only_in_its_own_namespace() -> None:
    text = (
        eg_stack()
        + http_route()
        + btp("gw", "  timeout:\n    http:\n      requestTimeout: 120s\n", namespace="other")
    )
    assert settings_of(text).route_timeout.value == 15.0


def test_eg_target_refs_and_target_selectors() -> None:
    refs = "  targetRefs:\n    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat}\n"
    spec = "  timeout:\n    http:\n      requestTimeout: 99s\n"
    text = eg_stack() + http_route() + btp("r", spec, target=refs, key="targetRefs")
    assert settings_of(text).route_timeout.value == 99.0
    selector = "  targetSelectors:\n    - {kind: HTTPRoute, matchLabels: {team: llm}}\n"
    policy = btp(
        "s", "  timeout:\n    http:\n      requestTimeout: 77s\n", target=selector, key="s"
    )
    labelled = http_route(meta="  labels: {team: llm}\n")
    assert settings_of(eg_stack() + labelled + policy).route_timeout.value == 77.0
    assert settings_of(eg_stack() + http_route() + policy).route_timeout.value == 15.0
    gw_selector = "  targetSelectors:\n    - {kind: Gateway, matchLabels: {edge: 'yes'}}\n"
    text = (
        gateway_class()
        + gateway(labels='    edge: "yes"\n')
        + service_and_deployment()
        + http_route()
        + btp(
            "g", "  timeout:\n    http:\n      requestTimeout: 55s\n", target=gw_selector, key="s"
        )
    )
    assert settings_of(text).route_timeout.value == 55.0


def test_eg_max_stream_duration() -> None:
    text = (
        eg_stack()
        + http_route()
        + btp("gw", "  timeout:\n    http:\n      maxStreamDuration: 1h\n")
    )
    s = settings_of(text)
    assert (s.max_stream_duration.value, s.max_stream_duration.raw) == (3600.0, "1h")
    assert "spec.timeout.http.maxStreamDuration of BackendTrafficPolicy/ai/gw" in (
        s.max_stream_duration.source.describe()
    )


@pytest.mark.parametrize("key", ["compression", "compressor"])
def test_eg_compression_uses_envoys_default_types_so_sse_is_never_compressed(key: str) -> None:
    text = eg_stack() + http_route() + btp("gw", f"  {key}:\n    - type: Brotli\n")
    s = settings_of(text)
    assert s.compression.value == ENVOY_COMPRESSOR_DEFAULT_TYPES
    assert "text/event-stream" not in ENVOY_COMPRESSOR_DEFAULT_TYPES
    assert s.compression.source.describe() == (
        f"spec.{key} of BackendTrafficPolicy/ai/gw {at(text, '- type: Brotli')}"
    )


def test_eg_request_buffer_limit_buffers_the_body() -> None:
    text = (
        eg_stack()
        + http_route()
        + ctp("client", "  connection:\n    bufferLimit: 64Ki\n")
        + btp("gw", "  requestBuffer:\n    limit: 4Mi\n")
    )
    s = settings_of(text)
    assert (s.body_buffered.value, s.request_buffer_limit.value) == (True, 4 * 2**20)
    assert s.body_buffered.source.describe() == (
        f"spec.requestBuffer.limit of BackendTrafficPolicy/ai/gw {at(text, 'limit: 4Mi')}"
    )
    overridden = [o.describe() for o in s.request_buffer_limit.overridden]
    assert any("ClientTrafficPolicy/ai/client" in o for o in overridden)


def test_eg_invalid_quantity_is_ignored() -> None:
    text = eg_stack() + http_route() + ctp("client", "  connection:\n    bufferLimit: lots\n")
    s = settings_of(text)
    assert s.request_buffer_limit.value == 32768
    [ignored] = s.request_buffer_limit.ignored
    assert "not a Kubernetes quantity" in ignored.reason


def test_eg_fix_target_is_the_rule_map() -> None:
    text = eg_stack() + http_route()
    s = settings_of(text)
    target = s.fix_target
    assert target is not None
    assert str(target.obj) == "HTTPRoute/ai/chat"
    assert target.node.span.line == line_of(text, "    - matches:")
    assert target.path("route_timeout") == ("timeouts", "request")
    assert target.path("backend_timeout") == ("timeouts", "backendRequest")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("32768", 32768), ("32Ki", 32768), ("50Mi", 52428800), ("1M", 10**6), ("1.5Gi", 3 * 2**29),
     ("1e3", 1000), ("1k", 1000)],
)  # fmt: skip
def test_parse_quantity(text: str, expected: int) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "Mi", "32 Ki", "32KB", "-1", "x"])
def test_parse_quantity_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"quantity|negative"):
        parse_quantity(text)


# --- Envoy AI Gateway (FACTS.md §9) -------------------------------------------------------

AI = (
    "---\napiVersion: aigateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\n"
    "metadata:\n  name: chat\n  namespace: ai\n"
    "spec:\n  parentRefs: [{name: eg, kind: Gateway, group: gateway.networking.k8s.io}]\n"
    "  rules:\n    - backendRefs: [{name: llama}]\n{rest}"
)


def ai(rest: str = "") -> str:
    return eg_stack() + AI.replace("{rest}", rest)


def test_aigw_unset_is_60s() -> None:
    s = settings_of(ai())
    assert s.route_timeout.value == 60.0
    assert s.route_timeout.source.describe().startswith(
        "default (envoy-ai-gateway default 60s (GEP-2257 duration), https://"
    )
    assert s.idle_timeout.value == 3600.0  # EG rule 3 on the generated HTTPRoute
    assert s.body_buffered.value is True
    assert "ext_proc" in s.body_buffered.source.describe()
    target = s.fix_target
    assert target is not None
    assert target.paths == (("route_timeout", ("timeouts", "request")),)


def test_aigw_request_and_0s() -> None:
    text = ai("      timeouts:\n        request: 300s\n")
    s = settings_of(text)
    assert s.route_timeout.value == 300.0
    assert s.route_timeout.source.describe() == (
        f"spec.rules[0].timeouts.request of AIGatewayRoute/ai/chat {at(text, 'request: 300s')}"
    )
    s = settings_of(ai("      timeouts:\n        request: 0s\n"))
    assert (s.route_timeout.value, s.idle_timeout.value) == (math.inf, math.inf)


def test_aigw_stream_idle_timeout_is_per_try_idle() -> None:
    text = ai("      streamIdleTimeout: 30s\n")
    s = settings_of(text)
    assert (s.per_try_idle_timeout.value, s.per_try_idle_timeout.raw) == (30.0, "30s")
    assert s.per_try_idle_timeout.source.describe() == (
        f"spec.rules[0].streamIdleTimeout of AIGatewayRoute/ai/chat {at(text, 'streamIdleTimeout')}"
    )


def test_aigw_gateway_policies_apply_but_btp_request_timeout_does_not() -> None:
    text = (
        ai()
        + ctp("client", "  connection:\n    bufferLimit: 50Mi\n")
        + btp(
            "gw",
            "  timeout:\n    http:\n      requestTimeout: 900s\n      streamIdleTimeout: 5m\n",
        )
    )
    s = settings_of(text)
    assert s.request_buffer_limit.value == 50 * 2**20
    assert "ClientTrafficPolicy/ai/client" in s.request_buffer_limit.source.describe()
    assert s.idle_timeout.value == 300.0
    assert "BackendTrafficPolicy/ai/gw" in s.idle_timeout.source.describe()
    assert s.route_timeout.value == 60.0
    [ignored] = s.route_timeout.ignored
    assert "Envoy AI Gateway always sets timeouts.request" in ignored.reason


# --- Istio (FACTS.md §4, §7) and Contour (FACTS.md §4, §8) via Gateway API ----------------


def on(controller: str, timeouts: str = "") -> str:
    return (
        gateway_class("c", controller)
        + gateway(cls="c")
        + service_and_deployment()
        + http_route(timeouts=timeouts)
        + btp("gw", "  timeout:\n    http:\n      requestTimeout: 5s\n")
    )


ISTIO = "istio.io/gateway-controller"
CONTOUR = "projectcontour.io/gateway-controller"


def test_istio_sets_no_route_timeout() -> None:
    s = settings_of(on(ISTIO))
    assert s.route_timeout.value == math.inf
    assert s.route_timeout.source.describe().startswith(
        "default (istio default 0s (protobuf duration; 0s = disabled), https://"
    )
    assert s.idle_timeout.value == 300.0
    assert "300s" in s.idle_timeout.source.describe()
    assert s.request_buffer_limit.value == 1024 * 1024  # no Envoy Gateway policy applies


def test_istio_0s_request_and_backend_request() -> None:
    text = on(ISTIO, "        request: 0s\n        backendRequest: 45s\n")
    s = settings_of(text)
    assert (s.route_timeout.value, s.route_timeout.raw) == (math.inf, "0s")
    assert s.route_timeout.source.describe() == f"{ROUTE_REQUEST} {at(text, 'request: 0s')}"
    assert s.backend_timeout.value == 45.0
    s = settings_of(on(ISTIO, "        request: 30s\n"))
    assert s.route_timeout.value == 30.0


def test_istio_invalid_duration_is_ignored() -> None:
    s = settings_of(on(ISTIO, "        request: 30\n"))
    assert s.route_timeout.value == math.inf
    [ignored] = s.route_timeout.ignored
    assert ignored.raw == "30"


def test_contour_unset_is_15s_and_0s_disables() -> None:
    s = settings_of(on(CONTOUR))
    assert s.route_timeout.value == 15.0
    assert s.route_timeout.source.describe().startswith(
        "default (contour default 15s (GEP-2257 duration; 0s disables), https://"
    )
    assert s.idle_timeout.value == 300.0
    text = on(CONTOUR, "        request: 0s\n        backendRequest: 20s\n")
    s = settings_of(text)
    assert s.route_timeout.value == math.inf
    assert s.route_timeout.source.describe() == f"{ROUTE_REQUEST} {at(text, 'request: 0s')}"
    assert s.backend_timeout.value == 20.0


def test_hint_settings_follow_the_hinted_implementation() -> None:
    text = service_and_deployment() + http_route()
    assert settings_of(text, Controller.ISTIO).route_timeout.value == math.inf
    assert settings_of(text, Controller.CONTOUR).route_timeout.value == 15.0
    assert settings_of(text, Controller.ENVOY_GATEWAY).route_timeout.value == 15.0
