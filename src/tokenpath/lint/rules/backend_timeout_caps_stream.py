"""A per-attempt total timeout cuts streams that run longer than it.

## What it does
Flags an Envoy-family LLM route whose per-attempt timeout is shorter than the policy's
`max_generation_s`: Gateway API `timeouts.backendRequest`, Istio `retries.perTryTimeout`,
Envoy `retry_policy.per_try_timeout`. Each caps one attempt from the request to the end of
its response, so for a stream it is a total, like the route timeout (TP204).

## Why it breaks streaming
Nothing resets the timer: tokens and SSE heartbeats do not help. A generation that runs
longer than it is cut mid-flow: a 504 before the response headers, or a body that ends without
its terminator and without `data: [DONE]` after them. A retry cannot help once the headers have
been sent. On Envoy Gateway, a `backendRequest` on a rule without retries even replaces the
rule's `request` timeout.

## Example
```yaml
kind: HTTPRoute
spec:
  rules:
    - timeouts:
        request: 900s
        backendRequest: 60s   # each attempt, so every stream, ends at 60 s
```

## Fix
Set the route's own per-attempt timeout to `ceil(max_generation_s)` (`"900s"` by default) at
the field that holds it. The Gateway API requires `backendRequest` not to exceed `request`,
so raise `request` too when it is shorter (TP204 does). The fix is unsafe: a hung upstream is
held longer. A value set elsewhere gets advice to raise it there. On Istio the finding is a
warning: that `perTryTimeout` caps a whole attempt is not confirmed there.

## Source
Per-try timeouts are totals per attempt (FACTS.md §5, §7); `backendRequest` covers one
attempt until the full response and must not exceed `request` (FACTS.md §4); Envoy Gateway
lets it overwrite `request` when there is no retry (FACTS.md §6). How a total cut looks to
the client (FACTS.md §0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import Controller, EnvoyRoute, Family, Setting
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._envoy import (
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
    code="TP205",
    name="backend-timeout-caps-stream",
    severity=Severity.ERROR,
    category=Category.ROUTE_TIMEOUT_TOO_SHORT,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://gateway-api.sigs.k8s.io/guides/http-timeouts/",
        "https://github.com/kubernetes-sigs/gateway-api/blob/main/apis/v1/httproute_types.go",
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto",
        "https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/",
    ),
    family=Family.ENVOY,
)


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    limit = ctx.policy.max_generation_s
    short = short_timer(route, ("backend_timeout",), limit)
    if short is None:
        return
    _, setting = short
    finding = route_finding(
        ctx,
        META,
        route,
        f"{stated(route, 'backend_timeout', setting)}: it caps each attempt from the request "
        f"to the end of the response, below the longest expected generation ({seconds(limit)}, "
        "policy max_generation_s), so a healthy stream is cut mid-flow: a 200 without "
        "`[DONE]`, or a 504 before the headers",
        "backend_timeout",
        setting,
        _fix(route, setting, limit),
    )
    if route.owner.controller is Controller.ISTIO:
        # That Istio's perTryTimeout caps a whole attempt is unconfirmed (FACTS.md §7: U).
        severity = ctx.policy.severity_for(META.code, Severity.WARNING)
        finding = dataclasses.replace(finding, severity=severity)
    yield finding


def _fix(route: EnvoyRoute, setting: Setting[float], limit: float) -> Fix | None:
    text = whole_seconds(limit)
    if text is None:
        return None
    on_route = on_own_object(route, setting)
    fix = raise_timer_fix(route, "backend_timeout", setting, text, on_route=on_route)
    return fix or raise_advice(setting, text, "this route's per-try timeout")
