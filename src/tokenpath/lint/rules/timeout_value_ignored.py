"""A timeout value the controller does not accept, so another value applies.

## What it does
Flags a read, send or connect timeout the owning controller does not accept:

* ingress-nginx takes integer seconds only, with no unit (its template appends the `s`).
  `"3600s"`, `"1h"` and `"5m"` fail to parse. The annotation is dropped, and the ConfigMap
  value or the default (60 s) applies, with only a line in the controller's log.
* F5 NGINX Ingress Controller takes nginx time syntax (`"3600s"`, `"1h"`, `"3600"`). A value
  it rejects makes it reject the whole Ingress.

## Why it breaks streaming
The manifest looks like it allows an hour of silence, but nginx still cuts the stream after
60 s: a 504 before the first token, or a body cut off in mid-answer (see TP201). This is the
most common wrong fix for cut LLM streams behind ingress-nginx. On F5 NGINX Ingress
Controller the route disappears altogether.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600s"   # stays 60; write "3600"
```

## Fix
The fix rewrites the value in the controller's syntax, keeping the duration that was meant:
`"3600s"` → `"3600"` and `"1h"` → `"3600"` for ingress-nginx, `"1.5h"` → `"5400s"` for
F5 NGINX Ingress Controller. On an annotation it is safe, because it does what the value
already says. On the controller ConfigMap it is unsafe, because it changes every Ingress of
that controller. A value whose duration is unclear, or not a whole number of seconds, gets no
fix.

## Source
ingress-nginx parses these annotations as integers and drops invalid values
(internal/ingress/annotations/proxy/main.go; FACTS.md §2, §17). F5 NGINX Ingress
Controller uses nginx time syntax, and an invalid annotation makes it reject the whole
Ingress (FACTS.md §3).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import (
    ignored_values,
    intended_whole_seconds,
)

META = RuleMeta(
    code="TP203",
    name="timeout-value-ignored",
    severity=Severity.ERROR,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-timeouts",
        "https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/annotations/proxy/main.go",
        "https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/advanced-configuration-with-annotations/",
    ),
)

_TIMEOUTS = ("read_timeout", "send_timeout", "connect_timeout")


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    yield from ignored_values(
        META, route, ctx, _TIMEOUTS, lambda _name, raw: intended_whole_seconds(raw)
    )
