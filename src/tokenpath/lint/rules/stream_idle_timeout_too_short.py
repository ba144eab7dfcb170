"""The stream idle timeout is shorter than the longest silence the policy expects.

## What it does
Flags an Envoy-family LLM route whose idle timer is shorter than the policy's
`max_silence_s`, the longest time the model may say nothing (queueing and prefill before the
first token, a tool call, silent reasoning). The idle timer is the route's `idle_timeout`,
else the connection manager's `stream_idle_timeout` (300 s by default), or a per-attempt
`per_try_idle_timeout` (an AIGatewayRoute rule's `streamIdleTimeout`), whichever is shorter.

## Why it breaks streaming
The timer restarts with every read from the upstream, so it does not cap a stream's length:
tokens reset it, and so do SSE comment heartbeats. It fires on the first silence longer
than itself. Before the response headers the client gets a 504 `stream timeout`; after them
the body is cut without its terminator or `data: [DONE]`. When the server sent its headers at
once, a long time to first token gives a 200 with no events at all. The per-attempt variant
ends the attempt instead, which fails over to a retry only before the headers.

## Example
```yaml
kind: HTTPProxy
spec:
  routes:
    - timeoutPolicy:
        response: infinity
        idle: 60s   # a 2-minute tool call is cut
```

## Fix
Raise the timer above the longest expected silence: `ceil(max_silence_s)` (`"300s"` by
default). The fix edits the route's own field where it has one (Contour `timeoutPolicy.idle`,
an Envoy route's `idle_timeout`) and is unsafe, since a hung upstream is detected later.
Elsewhere it is advice: on Envoy Gateway, a BackendTrafficPolicy `timeout.http.streamIdleTimeout`
for the route; Istio has no per-route setting, so an EnvoyFilter on the connection manager's
`stream_idle_timeout`; on an AIGatewayRoute, the rule's `streamIdleTimeout`. Servers that
send SSE heartbeats during long pauses avoid the problem without a longer timer.

## Source
Envoy 1.40.0 cut a silent stream at its idle timeout and heartbeats kept it alive; the status
before headers was 504 `stream timeout` (FACTS.md §0, §5). Envoy Gateway's knobs (FACTS.md
§6), Istio's missing per-route setting (FACTS.md §7), Contour `timeoutPolicy.idle` (FACTS.md
§8), AIGatewayRoute `streamIdleTimeout` (FACTS.md §9).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import Controller, EnvoyRoute, Family, Setting, SourceKind
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._envoy import (
    raise_advice,
    raise_timer_fix,
    route_finding,
    short_timer,
    stated,
)
from tokenpath.lint.rules._envoy_durations import whole_seconds
from tokenpath.lint.rules._shared import advice, seconds

META = RuleMeta(
    code="TP206",
    name="stream-idle-timeout-too-short",
    severity=Severity.WARNING,
    category=Category.IDLE_TIMEOUT_TOO_SHORT,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto",
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
        "https://gateway.envoyproxy.io/docs/api/extension_types/",
        "https://github.com/projectcontour/contour/blob/main/apis/projectcontour/v1/httpproxy.go",
        "https://github.com/envoyproxy/ai-gateway/blob/main/api/v1alpha1/ai_gateway_route.go",
    ),
    proven_on="Envoy 1.40.0 (tests/proxy/test_rule_proofs.py)",
    family=Family.ENVOY,
)

_TIMERS = ("idle_timeout", "per_try_idle_timeout")


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    limit = ctx.policy.max_silence_s
    short = short_timer(route, _TIMERS, limit)
    if short is None:
        return
    name, setting = short
    if name == "idle_timeout":
        consequence = (
            "a longer silence (time to first token, a tool call) gives a 504 `stream timeout` "
            "before the headers, or cuts the stream after them"
        )
    else:
        consequence = (
            "a longer silence (time to first token, a tool call) ends the attempt: a retry or "
            "an error before the headers, a cut stream after them"
        )
    yield route_finding(
        ctx,
        META,
        route,
        f"{stated(route, name, setting)}, shorter than the longest expected silence "
        f"({seconds(limit)}, policy max_silence_s): {consequence}; SSE comment heartbeats "
        "keep it alive",
        name,
        setting,
        _fix(route, name, setting, limit),
    )


def _fix(route: EnvoyRoute, name: str, setting: Setting[float], limit: float) -> Fix | None:
    text = whole_seconds(limit)
    if text is None:
        return None
    # A route-level idle timer beats the connection manager's and the controller's global
    # values (FACTS.md §5, §8), so the route's own field is the place when it has one.
    fix = raise_timer_fix(route, name, setting, text, on_route=True)
    if fix is not None:
        return fix
    if name == "per_try_idle_timeout":
        knob = (
            "this AIGatewayRoute rule's streamIdleTimeout"
            if route.owner.controller is Controller.ENVOY_AI_GATEWAY
            else "the route's retry per_try_idle_timeout"
        )
        return raise_advice(setting, text, knob)
    match route.owner.controller:
        case Controller.ENVOY_GATEWAY | Controller.ENVOY_AI_GATEWAY:
            knob = f"timeout.http.streamIdleTimeout of a BackendTrafficPolicy on {route.obj}"
            return raise_advice(setting, text, knob)
        case Controller.ISTIO:
            if setting.source.kind is SourceKind.FIELD:  # an EnvoyFilter, say: raise it there
                return raise_advice(setting, text, "")
            return advice(
                "Istio has no per-route stream idle timeout (istio/istio#24565): raise the "
                f'connection manager\'s stream_idle_timeout to "{text}" or more with an '
                "EnvoyFilter (or the mesh config)"
            )
        case Controller.CONTOUR:
            return raise_advice(setting, text, "timeoutPolicy.idle on this HTTPProxy route")
        case _:
            return raise_advice(
                setting, text, "the route's idle_timeout (or the HCM's stream_idle_timeout)"
            )
