"""A streaming-related value the controller does not accept, so another value applies.

## What it does
Flags a written value that the owning controller drops or rejects, for the settings that
TP104 (buffering) and TP203 (timeouts) do not cover: request buffering, the upstream HTTP
version, the request body limit, gzip, brotli and ModSecurity. Examples are a body limit of
`"32Mi"` (Kubernetes quantity syntax rather than nginx's `32m`), `proxy-http-version:
"HTTP/1.1"`, and `proxy-request-buffering: "false"`.

## Why it breaks streaming
ingress-nginx drops an annotation value it cannot parse and applies the ConfigMap value or
its default instead, logging only a line in the controller's log. The manifest then says one
thing and nginx does another. A body limit silently stays 1 MiB (413 on long prompts), and an
HTTP version stays at the ConfigMap's value. F5 NGINX Ingress Controller rejects the whole
Ingress instead, so the route disappears.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: "64Mi"   # nginx syntax is "64m"
```

## Fix
When the meaning is clear, the fix rewrites the value in the controller's syntax: `"64Mi"` →
`"64m"`, `"false"` → `"off"`, `"HTTP/1.1"` → `"1.1"`. On an annotation it is safe, because
it does what the value already says. On the controller ConfigMap it is unsafe, because it
changes every Ingress of that controller. Other values get no fix.

## Source
ingress-nginx drops invalid annotation values and falls back to the ConfigMap value or the
default (internal/ingress/annotations/proxy/main.go; FACTS.md §2). F5 NGINX Ingress Controller
rejects an Ingress with an invalid annotation (FACTS.md §3).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import (
    ignored_values,
    intended_bool,
    intended_bytes,
)

META = RuleMeta(
    code="TP505",
    name="setting-value-ignored",
    severity=Severity.WARNING,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/",
        "https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/annotations/proxy/main.go",
        "https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/advanced-configuration-with-annotations/",
    ),
)

# Settings with their own rule for ignored values: buffering (TP104), timeouts (TP203).
SETTINGS = (
    "request_buffering",
    "http_version",
    "body_size",
    "gzip",
    "gzip_types",
    "brotli",
    "brotli_types",
    "modsecurity",
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    yield from ignored_values(META, route, ctx, SETTINGS, _meant)


def _meant(name: str, raw: str) -> object | None:
    """What the value was meant to say, when that is clear."""
    match name:
        case "request_buffering" | "gzip" | "brotli" | "modsecurity":
            return intended_bool(raw)
        case "http_version":
            version = raw.strip().upper().removeprefix("HTTP/")
            return version if version in ("1.0", "1.1") else None
        case "body_size":
            return intended_bytes(raw) or None  # "0" is valid everywhere, so never ignored
        case _:
            return None
