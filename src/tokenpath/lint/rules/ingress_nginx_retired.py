"""ingress-nginx, which serves this Ingress, is retired.

## What it does
Reports once per Ingress served by ingress-nginx (kubernetes/ingress-nginx) that the project
is retired. This is an info finding about the controller, not about the manifest.

## Why it breaks streaming
It does not break streaming today. Best-effort maintenance ended in March 2026, and there are
no further releases or security fixes. The last releases are v1.15.1, v1.14.5 and v1.13.9
(2026-03-19), which bundle nginx 1.27.1, and the repository is archived. Any streaming bug
found in it from now on stays unfixed, and the edge of the cluster runs software that
receives no security fixes.

## Example
```yaml
spec:
  ingressClassName: nginx   # IngressClass controller: k8s.io/ingress-nginx
```

## Fix
There is no automatic fix. Plan a migration to the Gateway API, which is the path the
project recommends. `ingress2gateway` converts Ingress resources, including some
ingress-nginx annotations, into Gateway and HTTPRoute objects. Afterwards, check the
streaming settings again on the new implementation: Envoy Gateway and Contour default to
a 15 s total route timeout, which cuts long generations (FACTS.md §4). F5 NGINX Ingress
Controller is a different project (annotation prefix `nginx.org/`), not a drop-in
replacement: its buffering default is the opposite (on), and it ignores every
`nginx.ingress.kubernetes.io/*` annotation (TP502).

## Source
Kubernetes blog, "Ingress NGINX retirement" (2025-11-11); FACTS.md §2. Gateway API timeout
semantics: FACTS.md §4. Common migration pitfalls: FACTS.md §17.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import Controller, NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import at_object

META = RuleMeta(
    code="TP503",
    name="ingress-nginx-retired",
    severity=Severity.INFO,
    category=Category.INFO,
    fix=FixAvailability.NEVER,
    references=(
        "https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/",
        "https://gateway-api.sigs.k8s.io/guides/migrating-from-ingress/",
        "https://github.com/kubernetes-sigs/ingress2gateway",
    ),
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    if route.owner.controller is not Controller.INGRESS_NGINX:
        return
    version = f" {route.owner.version}" if route.owner.version else ""
    finding = ctx.finding(
        META,
        route,
        f"served by ingress-nginx{version}, retired in March 2026 (no further releases or "
        "security fixes); plan a move to the Gateway API (ingress2gateway)",
    )
    # One finding per Ingress, not per path: point at the object itself.
    yield at_object(finding)
