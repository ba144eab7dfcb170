"""An Envoy Gateway policy has no effect.

## What it does
Flags a BackendTrafficPolicy or ClientTrafficPolicy that changes nothing: its `targetRef`,
`targetRefs` or `targetSelectors` name a Gateway, HTTPRoute or GRPCRoute that is not in the
input (a typo, another namespace: targets are local references), or a Gateway-level
BackendTrafficPolicy is shadowed on every route of its Gateway by route-level policies,
which Envoy Gateway applies as a whole instead of it.

## Why it breaks streaming
The policy is usually where the streaming timeouts were raised (`timeout.http.requestTimeout`,
`streamIdleTimeout`) or the buffer limit for large prompts (`connection.bufferLimit`). When
it reaches no route, the defaults stay: Envoy's 15 s route timeout cuts streams (TP204) and
32 KiB request bodies get a 413 behind a body-buffering filter (TP402), while the manifests
look configured.

## Example
```yaml
kind: BackendTrafficPolicy
metadata: {name: llm-timeouts, namespace: ai}
spec:
  targetRefs:
    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: lmm}   # no such route
  timeout:
    http: {requestTimeout: 900s}
```

## Fix
Point the policy at the object it was meant for (same namespace), or move its settings into
the route-level policy that shadows it. No automatic fix: which target was meant is a guess.

## Source
Envoy Gateway policy attachment and precedence: a route-level BackendTrafficPolicy beats the
Gateway's, a listener-level ClientTrafficPolicy beats a Gateway-wide one (FACTS.md §6).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.envoy.policies import policy_problems
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import EnvoyRoute, Family
from tokenpath.lint.objects import Objects
from tokenpath.lint.rule import RuleContext

META = RuleMeta(
    code="TP506",
    name="policy-without-effect",
    severity=Severity.WARNING,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.NEVER,
    references=(
        "https://gateway.envoyproxy.io/contributions/design/backend-traffic-policy/",
        "https://gateway.envoyproxy.io/docs/api/extension_types/",
    ),
    family=Family.ENVOY,
)


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    """Nothing per route: the problem belongs to the policy object (``check_objects``)."""
    return iter(())


def check_objects(objects: Objects, ctx: RuleContext) -> Iterator[Finding]:
    for problem in policy_problems(objects):
        yield ctx.object_finding(META, problem.policy, problem.line, problem.message)
