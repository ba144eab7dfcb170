"""A per-attempt timeout shorter than the wait for the first token answers 504.

## What it does
Flags an Envoy-family LLM route whose per-attempt timeout is shorter than the policy's
`max_silence_s`: Gateway API `timeouts.backendRequest` (on Istio and Contour, and on Envoy
Gateway when the rule retries), Istio `retries.perTryTimeout`, Contour
`retryPolicy.perTryTimeout`, Envoy `retry_policy.per_try_timeout`. All of them become
Envoy's `retry_policy.per_try_timeout`.

## Why it breaks streaming
Envoy arms the per-try timeout for each attempt and stops it once the upstream's response
headers arrive: measured on Envoy 1.40.0, a stream that ran past it after the headers
finished normally. So it does not cap a generation; it caps the wait for the headers. A
server that sends its headers only with its first token (some do, and every server does when
a hop in between waits for the first body byte) and stays silent longer than the timeout
(queueing, prefill of a long prompt) gets a 504 `upstream request timeout`, and a retry
starts the whole prefill again. On Envoy Gateway, a `backendRequest` on a rule without
retries is not a per-try timeout at all: it replaces the rule's `request` timeout, a total
cap, which TP204 reports.

## Example
```yaml
kind: VirtualService
spec:
  http:
    - retries:
        attempts: 2
        perTryTimeout: 30s   # a 60 s queue before the first token gets a 504
```

## Fix
Set the per-attempt timeout to `ceil(max_silence_s)` (`"300s"` by default) at the field that
holds it. The Gateway API requires `backendRequest` not to exceed `request`; TP204 keeps
`request` long enough. The fix is unsafe: a hung attempt is given up later. A value set
elsewhere gets advice to raise it there.

## Source
Measured with Envoy 1.40.0 by `tokenpath simulate` (`simulate/predict_envoy.py` follows it):
a 1 s `per_try_timeout` with headers after 2 s gave a 504 `upstream request timeout`, and a
2 s stream after headers at once finished. FACTS.md §5 lists it as a total per attempt; the
binary disagrees. `backendRequest` semantics (FACTS.md §4), Envoy Gateway's overwrite of
`request` (FACTS.md §6), Istio retries (FACTS.md §7).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import EnvoyRoute, Family, Setting
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
    name="per-try-timeout-too-short",
    severity=Severity.WARNING,
    category=Category.ROUTE_TIMEOUT_TOO_SHORT,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://gateway-api.sigs.k8s.io/guides/http-timeouts/",
        "https://github.com/kubernetes-sigs/gateway-api/blob/main/apis/v1/httproute_types.go",
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto",
        "https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/",
    ),
    proven_on="Envoy 1.40.0 (tests/proxy/test_rule_proofs.py)",
    family=Family.ENVOY,
)


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    limit = ctx.policy.max_silence_s
    short = short_timer(route, ("backend_timeout",), limit)
    if short is None:
        return
    _, setting = short
    yield route_finding(
        ctx,
        META,
        route,
        f"{stated(route, 'backend_timeout', setting)}: Envoy gives each attempt this long "
        "to send its response headers (it stops the timer once they arrive), less than the "
        f"longest expected wait for the first token ({seconds(limit)}, policy "
        "max_silence_s): a server that sends its headers with its first token gets a 504 "
        "`upstream request timeout` after a long queue or prefill",
        "backend_timeout",
        setting,
        _fix(route, setting, limit),
    )


def _fix(route: EnvoyRoute, setting: Setting[float], limit: float) -> Fix | None:
    text = whole_seconds(limit)
    if text is None:
        return None
    on_route = on_own_object(route, setting)
    fix = raise_timer_fix(route, "backend_timeout", setting, text, on_route=on_route)
    return fix or raise_advice(setting, text, "this route's per-try timeout")
