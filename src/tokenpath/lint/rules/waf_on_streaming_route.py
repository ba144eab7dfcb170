"""A web application firewall (ModSecurity) inspects a streaming route's responses.

## What it does
Flags a route on which ingress-nginx runs ModSecurity (`enable-modsecurity: "true"`, as an
annotation or in the controller ConfigMap).

## Why it breaks streaming
A WAF that inspects response bodies is a body filter. It sits between the upstream and the
client and can hold the body until it has seen enough of it, or all of it. Comparable
filters hold SSE until the end of the response: Coraza's nginx module and Gloo's WAF.
tokenpath has not measured ModSecurity itself, so this finding is a warning about a risk,
not a finding of fact. Probe the route (`tokenpath probe URL`) to see whether tokens arrive
one by one.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/enable-modsecurity: "true"
```

## Fix
There is no automatic fix, because turning off a WAF is a security decision. If the probe
shows buffering, try turning off response-body inspection for this location
(`SecResponseBodyAccess Off`) and probe again. Only if the route does not need the
WAF, set `nginx.ingress.kubernetes.io/enable-modsecurity: "false"` on this Ingress.

## Source
ingress-nginx `enable-modsecurity` defaults to false (FACTS.md §2). User reports of body
filters holding SSE: corazawaf/coraza-nginx#81, solo-io/gloo#11398. The effect of
ModSecurity itself is unverified (FACTS.md §2, evidence U).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import advice

META = RuleMeta(
    code="TP103",
    name="waf-on-streaming-route",
    severity=Severity.WARNING,
    category=Category.RESPONSE_BUFFERING,
    fix=FixAvailability.NEVER,
    references=(
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#modsecurity",
        "https://github.com/corazawaf/coraza-nginx/issues/81",
        "https://github.com/solo-io/gloo/issues/11398",
    ),
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    setting = route.settings.modsecurity
    if not setting.value:
        return
    yield ctx.finding(
        META,
        route,
        "ModSecurity inspects this route's responses; WAF body filters are known to hold "
        "SSE until the end (unverified for ModSecurity: probe the route)",
        setting_name="modsecurity",
        setting=setting,
        fix=advice("exclude this route from response-body inspection, or disable the WAF here"),
    )
