"""Effective Envoy settings of one Gateway API route rule on Envoy Gateway and Envoy AI
Gateway.

* Envoy Gateway: FACTS.md §4 and §6 (route timeout rules 1-4, the route idle side effect
  rules 1-4, BTP/CTP precedence, bufferLimit, requestBuffer, compression).
* Envoy AI Gateway: FACTS.md §9 (60 s route timeout, ``streamIdleTimeout`` as
  ``per_try_idle_timeout``, the body read by ext_proc); it runs on Envoy Gateway, so §6 applies
  to the HTTPRoute it generates.

Every value carries its source; a value that does not parse is an ``Ignored`` with the reason,
and the value it would have replaced stays (or, for a route's own timeout, becomes 15 s: §6
rule 4).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from tokenpath.lint.envoy.gwcore import Raw
from tokenpath.lint.envoy.gwpolicy import TrafficPolicy
from tokenpath.lint.envoy.gwrule import (
    RuleContext,
    own_source,
    parse_raw,
    rule_timeout,
    timer_seconds,
)
from tokenpath.lint.envoy.policies import Layer
from tokenpath.lint.envoy.values import (
    EG_BUFFER_LIMIT,
    ENVOY_COMPRESSOR_DEFAULT_TYPES,
    ENVOY_ROUTE_TIMEOUT_S,
    default,
    envoy_defaults,
    envoy_idle_default,
    envoy_route_default,
    fact_detail,
    fact_seconds,
    field_source,
    parse_gateway_duration,
    parse_go_duration,
    parse_quantity,
    with_ignored,
    written,
)
from tokenpath.lint.model import (
    Controller,
    EnvoyRouteSettings,
    Ignored,
    Setting,
    Source,
    SourceKind,
)

EG_INVALID_TIMEOUT_S = ENVOY_ROUTE_TIMEOUT_S  # an unparsable HTTPRoute duration: Envoy's 15s
EG_IDLE_FLOOR_S = fact_seconds(Controller.ENVOY_GATEWAY, "idle.from-request")  # max(1h, request)
T = TypeVar("T")

AIGW_ROUTE_TIMEOUT_S = fact_seconds(Controller.ENVOY_AI_GATEWAY, "timeouts.request")


def eg_settings(ctx: RuleContext) -> EnvoyRouteSettings:
    """The settings of the rule's routes on Envoy Gateway or Envoy AI Gateway."""
    ai = ctx.controller is Controller.ENVOY_AI_GATEWAY
    start = envoy_defaults("Envoy AI Gateway" if ai else "Envoy Gateway")
    route, backend, timeout_set = _eg_route_timeout(ctx, ai)
    idle = _eg_idle(ctx, route, timeout_set)
    per_try_idle = start.per_try_idle_timeout
    if ai and ctx.rule.stream_idle is not None:
        # AIGatewayRouteRule.streamIdleTimeout -> per_try_idle_timeout (FACTS.md §9)
        raw = ctx.rule.stream_idle
        value, why = parse_raw(raw, parse_go_duration)
        source = own_source(ctx, "streamIdleTimeout", raw)
        per_try_idle = (
            with_ignored(per_try_idle, Ignored(source, raw.text, why))
            if value is None
            else written(per_try_idle, timer_seconds(value), source, raw.text)
        )
    max_stream, _ = _policy_value(
        start.max_stream_duration, ctx.btp, "timeout.http.maxStreamDuration", _duration
    )
    limit = default(
        EG_BUFFER_LIMIT, fact_detail(Controller.ENVOY_GATEWAY, "connection.bufferLimit")
    )
    limit, _ = _policy_value(limit, ctx.ctp, "connection.bufferLimit", parse_quantity)
    buffered = _body_buffered(ctx, start.body_buffered, ai)
    limit, by_filter = _policy_value(limit, ctx.btp, "requestBuffer.limit", parse_quantity)
    if by_filter:
        buffered = written(
            buffered,
            True,
            limit.source,
            limit.raw,
        )
    return replace(
        start,
        route_timeout=route,
        idle_timeout=idle,
        backend_timeout=backend,
        per_try_idle_timeout=per_try_idle,
        max_stream_duration=max_stream,
        compression=_compression(ctx, start.compression),
        body_buffered=buffered,
        request_buffer_limit=limit,
    )


def _duration(text: str) -> float:
    # Envoy Gateway policy durations are gwapiv1.Duration (GEP-2257) in its API types.
    return timer_seconds(parse_gateway_duration(text))


def _eg_route_timeout(ctx: RuleContext, ai: bool) -> tuple[Setting[float], Setting[float], bool]:
    """(route timeout, per-try timeout, whether a request timeout is set at all) by FACTS.md
    §6 rules 1-4 (and §9 for AI Gateway)."""
    rule = ctx.rule
    timeout_set = ai or rule.request is not None
    if ai:
        # Envoy AI Gateway writes timeouts.request on the HTTPRoute it generates, 60s when
        # unset, so a BTP requestTimeout never applies (HTTPRoute timeouts beat it, §6).
        route = default(
            AIGW_ROUTE_TIMEOUT_S, fact_detail(Controller.ENVOY_AI_GATEWAY, "timeouts.request")
        )
        route = _ignore_policies(
            route,
            ctx.btp,
            "timeout.http.requestTimeout",
            "Envoy AI Gateway always sets timeouts.request on the HTTPRoute it generates "
            "(60s when unset), which beats a BackendTrafficPolicy requestTimeout "
            "(FACTS.md §6, §9)",
        )
    else:
        route = envoy_route_default("Envoy Gateway")
        if rule.request is None and (rule.backend_request is None or rule.has_retry):
            route, by_policy = _policy_value(
                route, ctx.btp, "timeout.http.requestTimeout", _duration
            )
            timeout_set = timeout_set or by_policy
        else:
            route = _ignore_policies(
                route,
                ctx.btp,
                "timeout.http.requestTimeout",
                "the HTTPRoute's own timeouts beat a BackendTrafficPolicy requestTimeout "
                "(FACTS.md §6)",
            )
    if rule.request is not None:
        route = _eg_timeout(ctx, route, "timeouts.request", rule.request)
    backend = envoy_defaults("").backend_timeout
    if rule.backend_request is not None and rule.has_retry:
        backend = rule_timeout(ctx, backend, "timeouts.backendRequest", rule.backend_request)
    elif rule.backend_request is not None:
        # Processed after `request` and overwrites it when the rule has no retry (§6 rule 2).
        route = _eg_timeout(ctx, route, "timeouts.backendRequest", rule.backend_request)
        timeout_set = True
    return route, backend, timeout_set


def _eg_timeout(ctx: RuleContext, previous: Setting[float], key: str, raw: Raw) -> Setting[float]:
    source = own_source(ctx, key, raw)
    value, why = parse_raw(raw, parse_gateway_duration)
    if value is None:
        fallback = Source(
            SourceKind.DEFAULT,
            key="",
            detail=f"Envoy Gateway uses 15s when {key} does not parse (FACTS.md §6)",
        )
        return written(
            previous, EG_INVALID_TIMEOUT_S, fallback, raw.text, (Ignored(source, raw.text, why),)
        )
    return written(previous, timer_seconds(value), source, raw.text)


def _eg_idle(ctx: RuleContext, route: Setting[float], timeout_set: bool) -> Setting[float]:
    """The route idle timer by FACTS.md §6 ``idleTimeout()``, weakest rule first so each
    stronger one records what it beat."""
    idle = envoy_idle_default()
    if timeout_set:
        # Rule 3: a request timeout is set (also an invalid one, which became 15s).
        if route.value == math.inf:
            detail = (
                "Envoy Gateway sets route idle_timeout 0 with a 0s request timeout: no idle "
                "guard (FACTS.md §6)"
            )
            idle = written(idle, math.inf, replace(route.source, detail=detail), route.raw)
        else:
            value = max(EG_IDLE_FLOOR_S, route.value)
            detail = "Envoy Gateway sets route idle_timeout max(1h, request timeout) (FACTS.md §6)"
            idle = written(idle, value, replace(route.source, detail=detail), route.raw)
    # Rule 2: a CTP streamIdleTimeout leaves the route idle unset, so the HCM value applies.
    idle, _ = _policy_value(idle, ctx.ctp, "timeout.http.streamIdleTimeout", _duration)
    # Rule 1: a BTP streamIdleTimeout sets the route idle timeout.
    idle, _ = _policy_value(idle, ctx.btp, "timeout.http.streamIdleTimeout", _duration)
    return idle


def _body_buffered(ctx: RuleContext, start: Setting[bool], ai: bool) -> Setting[bool]:
    """Envoy AI Gateway and the endpoint picker of an InferencePool read the request body
    with ext_proc, so bodies above the buffer limit get a 413 (FACTS.md §6 bufferLimit row,
    §9 request body row)."""
    if ai:
        detail = (
            "Envoy AI Gateway's ext_proc reads the request body to find the model (FACTS.md §6, §9)"
        )
        return written(start, True, Source(SourceKind.DEFAULT, key="", detail=detail), None)
    if ctx.pool is not None:
        source = field_source(
            ctx.route.ref,
            f"{ctx.where}.backendRefs (InferencePool {ctx.pool.name})",
            ctx.pool.node,
            "the endpoint picker reads the whole request body through ext_proc to pick an "
            "endpoint (FACTS.md §6, §9; kubernetes-sigs/gateway-api-inference-extension#854, "
            "envoyproxy/ai-gateway#827)",
        )
        return written(start, True, source, ctx.pool.name)
    return start


def _compression(
    ctx: RuleContext, start: Setting[tuple[str, ...] | None]
) -> Setting[tuple[str, ...] | None]:
    """A BTP ``compression``/``compressor`` runs Envoy's compressor with its default content
    types: there is no content-type field, so SSE is never compressed (FACTS.md §6)."""
    result = start
    for policy in reversed(ctx.btp.policies):
        if policy.compression is not None:
            raw = policy.compression
            source = _policy_source(policy, raw.text, raw)
            result = written(result, ENVOY_COMPRESSOR_DEFAULT_TYPES, source, raw.text)
    for policy, winner in ctx.btp.shadowed:
        if policy.compression is not None:
            raw = policy.compression
            source = _policy_source(policy, raw.text, raw)
            result = with_ignored(result, Ignored(source, raw.text, _shadow_reason(winner)))
    return result


def _policy_value(
    previous: Setting[T], layer: Layer, key: str, parse: Callable[[str], T]
) -> tuple[Setting[T], bool]:
    """``previous`` replaced by the strongest policy of ``layer`` that sets ``key``; weaker
    ones are recorded as overridden, shadowed and unparsable ones as ignored. Also whether a
    policy value applied."""
    result = previous
    applied = False
    for policy in reversed(layer.policies):
        raw = policy.value(key)
        if raw is None:
            continue
        source = _policy_source(policy, key, raw)
        try:
            value = parse(raw.text)
        except ValueError as error:
            result = with_ignored(result, Ignored(source, raw.text, str(error)))
            continue
        result = written(result, value, source, raw.text)
        applied = True
    for policy, winner in layer.shadowed:
        raw = policy.value(key)
        if raw is not None:
            source = _policy_source(policy, key, raw)
            result = with_ignored(result, Ignored(source, raw.text, _shadow_reason(winner)))
    return result, applied


def _ignore_policies(
    previous: Setting[float], layer: Layer, key: str, reason: str
) -> Setting[float]:
    result = previous
    for policy in (*layer.policies, *(p for p, _ in layer.shadowed)):
        raw = policy.value(key)
        if raw is not None:
            source = _policy_source(policy, key, raw)
            result = with_ignored(result, Ignored(source, raw.text, reason))
    return result


def _shadow_reason(winner: TrafficPolicy) -> str:
    return (
        f"{winner.ref} targets this route (or its listener) and Envoy Gateway applies only "
        "the more specific policy (FACTS.md §6)"
    )


def _policy_source(policy: TrafficPolicy, key: str, raw: Raw) -> Source:
    """The source of ``raw``, written at ``spec.<key>`` of ``policy``."""
    return field_source(policy.ref, f"spec.{key}", raw.node)
