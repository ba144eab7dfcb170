"""A response-buffering value the controller does not accept.

## What it does
Flags a `proxy-buffering` value that the owning controller does not accept:

* ingress-nginx takes only lowercase `on` or `off`. `"false"`, `"true"`, `"On"` and `"no"`
  are dropped, and the ConfigMap value or the default (`off`) applies instead.
* F5 NGINX Ingress Controller parses a boolean (`"True"`/`"False"`). A value it rejects
  makes it reject the whole Ingress.

## Why it breaks streaming
The annotation looks like it turns buffering off, but it does nothing. When the ConfigMap
says `on`, or on F5 NGINX Ingress Controller where the default is `True`, buffering stays on
and tokens are held (TP101). On F5 NGINX Ingress Controller the Ingress is ignored
altogether. When the fallback happens to be `off`, streaming works only by luck, and it stops
working as soon as someone sets buffering on in the ConfigMap.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/proxy-buffering: "false"   # ignored; use "off"
```

## Fix
The fix replaces the value with the controller's spelling of what was meant: `"false"` →
`"off"` for ingress-nginx, `"off"` → `"False"` for F5 NGINX Ingress Controller. On an
annotation it is safe, because it does what the value already says. On the controller
ConfigMap it is unsafe, because it changes the behaviour of every Ingress of that controller.
A value whose meaning is unclear gets no fix.

## Source
ingress-nginx accepts only `on` and `off` and drops any other annotation value
(internal/ingress/annotations/proxy/main.go; FACTS.md §2, §17). For F5 NGINX Ingress
Controller, an invalid annotation makes it reject the whole Ingress (FACTS.md §3).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import (
    ignored_values,
    intended_bool,
)

META = RuleMeta(
    code="TP104",
    name="buffering-value-invalid",
    severity=Severity.ERROR,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#proxy-buffering",
        "https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/annotations/proxy/main.go",
        "https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/advanced-configuration-with-annotations/",
    ),
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    yield from ignored_values(
        META, route, ctx, ("buffering",), lambda _name, raw: intended_bool(raw)
    )
