"""A total route timeout cuts streams that run longer than it.

## What it does
Flags an Envoy-family LLM route whose total timeout is shorter than the policy's
`max_generation_s`, the longest a generation may take from request to last token. The total
is the shorter of the route timeout (Envoy `RouteAction.timeout`, Gateway API
`timeouts.request`, Contour `timeoutPolicy.response`, Istio `http[].timeout`, Envoy Gateway
`requestTimeout`) and the route's `max_stream_duration`. It also fires when nothing is set,
because the defaults are short: Envoy's route timeout is 15 s, and Envoy Gateway and Contour
leave it there; an AIGatewayRoute defaults to 60 s. Istio sets no route timeout.

## Why it breaks streaming
Both timers run from the request to the end of the response and nothing resets them: tokens
and SSE heartbeats do not help. A healthy stream still sending tokens is cut when the timer
fires. Before the response headers the client gets a 504 `upstream request timeout`; after
them, the body ends without its terminator and without `data: [DONE]`, which a lenient
client takes for a short answer. Envoy closes the connection 1 s after the cut (its
`delayed_close_timeout`), so the client sees the end at 16 s or 61 s rather than 15 s or 60 s.

## Example
```yaml
kind: HTTPRoute
spec:
  rules:
    - backendRefs: [{name: vllm, port: 8000}]
      # no timeouts: Envoy Gateway leaves Envoy's 15 s route timeout
```

## Fix
Set the route's own timeout to `ceil(max_generation_s)` (`"900s"` by default, valid in the
Gateway API, Go, Istio and protobuf syntaxes): `timeouts.request` on an HTTPRoute or
AIGatewayRoute rule, `timeoutPolicy.response` on an HTTPProxy route, `timeout` on a
VirtualService route. A value that came from a BackendTrafficPolicy is overridden on the
route, since HTTPRoute timeouts take precedence over it. When the binding cap is a
`max_stream_duration` set by a policy, the fix is advice to raise it there. The fix is unsafe:
a hung upstream is held longer. It never writes `0s`: on Envoy Gateway that also removes the
stream's idle guard, and on a Contour HTTPProxy `0s` means the 15 s default.

## Source
A 20 s generation was cut at 15 s by Envoy 1.40.0's default route timeout while tokens
arrived every 0.5 s, and the FIN came 1 s late (FACTS.md §0, §5). Envoy Gateway sets no
route timeout unless asked (FACTS.md §6); AIGatewayRoute defaults to 60 s (FACTS.md §9);
`0s` on Envoy Gateway and Contour HTTPProxy (FACTS.md §6, §8, §17).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import EnvoyRoute, Family, Setting
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._envoy import (
    LABELS,
    on_own_object,
    raise_advice,
    raise_timer_fix,
    route_finding,
    short_timer,
    stated,
)
from tokenpath.lint.rules._envoy_durations import whole_seconds
from tokenpath.lint.rules._shared import seconds

META = RuleMeta(
    code="TP204",
    name="route-timeout-caps-stream",
    severity=Severity.ERROR,
    category=Category.ROUTE_TIMEOUT_TOO_SHORT,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto",
        "https://gateway-api.sigs.k8s.io/guides/http-timeouts/",
        "https://gateway.envoyproxy.io/docs/tasks/traffic/http-timeouts/",
        "https://github.com/envoyproxy/ai-gateway/blob/main/api/v1alpha1/ai_gateway_route.go",
        "https://github.com/projectcontour/contour/blob/main/apis/projectcontour/v1/httpproxy.go",
        "https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/",
    ),
    proven_on="Envoy 1.40.0 (tests/proxy/test_rule_proofs.py)",
    family=Family.ENVOY,
)

_CAPS = ("route_timeout", "max_stream_duration")


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    limit = ctx.policy.max_generation_s
    # A written but ignored value is TP207's; its fix may already be enough.
    short = short_timer(route, _CAPS, limit)
    if short is None:
        return
    name, setting = short
    yield route_finding(
        ctx,
        META,
        route,
        f"{stated(route, name, setting)}: a total cap below the longest expected generation "
        f"({seconds(limit)}, policy max_generation_s), so a healthy stream is cut mid-flow; "
        f"{_seen(route, name, setting)}",
        name,
        setting,
        _fix(route, name, setting, limit),
    )


def _seen(route: EnvoyRoute, name: str, setting: Setting[float]) -> str:
    """How the client sees the cut (FACTS.md §0, §5)."""
    close = route.settings.delayed_close.value
    late = f" about {seconds(close)} later" if close > 0 else ""
    status = "a 504" if name == "route_timeout" else "an error"
    return (
        f"the client sees the cut{late}, at {seconds(setting.value + close)}, as a 200 without "
        f"`[DONE]`, or gets {status} before the headers"
    )


def _fix(route: EnvoyRoute, name: str, setting: Setting[float], limit: float) -> Fix | None:
    text = whole_seconds(limit)
    if text is None:
        return None
    # Route-level timeouts beat BackendTrafficPolicy values (FACTS.md §6): write on the route.
    on_route = name == "route_timeout" or on_own_object(route, setting)
    fix = raise_timer_fix(route, name, setting, text, on_route=on_route)
    return fix or raise_advice(setting, text, f"this route's {LABELS[name]}")
