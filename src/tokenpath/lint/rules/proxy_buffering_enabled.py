"""Response buffering is on for a streaming route.

## What it does
Flags a route whose effective response buffering is on: ingress-nginx `proxy-buffering: "on"`
(annotation or controller ConfigMap) or F5 NGINX Ingress Controller, where buffering is on
unless `nginx.org/proxy-buffering: "False"` says otherwise. The finding is an error when
something else on the route makes buffering hold the stream:

* the upstream is spoken to over HTTP/1.0 (`proxy-http-version: "1.0"`);
* gzip or brotli is on for `text/event-stream` or `application/x-ndjson`;
* ModSecurity is on for the route.

## Why it breaks streaming
With `proxy_buffering on`, when nginx passes data on depends on how the upstream frames its
body. nginx releases a partly filled buffer only when it knows how much body is left:

* a chunked HTTP/1.1 body goes out chunk by chunk;
* a close-delimited body (what uvicorn and aiohttp send to an HTTP/1.0 proxy) leaves in whole
  buffers, about 4 KB at a time. A short answer arrives all at the end, and the last partial
  buffer, `data: [DONE]` included, waits until the upstream closes;
* a Content-Length body is held in the same way, even over HTTP/1.1;
* an event larger than one buffer lags by one event interval.

Body filters in the response path (compression, a WAF) add their own buffering on top.
Buffering off streams every read at once with either upstream protocol.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: vllm
  annotations:
    nginx.ingress.kubernetes.io/proxy-buffering: "on"
spec:
  ingressClassName: nginx
```
For the F5 NGINX Ingress Controller, the same holds with no annotation at all.

## Fix
Turn buffering off for this Ingress: `nginx.ingress.kubernetes.io/proxy-buffering: "off"`
(ingress-nginx) or `nginx.org/proxy-buffering: "False"` (F5 NGINX Ingress Controller).
The fix edits the annotation when this Ingress sets it. When the value comes from the
controller's ConfigMap or its default, the fix adds the annotation to this Ingress instead of
editing the ConfigMap, which would change every Ingress of that controller. The fix is
unsafe: it changes how nginx uses memory and upstream connections for this route.

## Source
nginx's `ngx_event_pipe.c` flushes a partly filled buffer only when the remaining length is
known. tokenpath measured each case above with nginx 1.22.1 (FACTS.md §1). ingress-nginx
defaults to `off` and F5 NGINX Ingress Controller to `True` (FACTS.md §2, §3).
The severity rules follow FACTS.md §1 "Severity".
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.fix.edit import Safety
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute, RouteSettings, SourceKind
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import (
    escalate,
    has_ignored_annotation,
    set_value_fix,
    stream_types_in,
)

META = RuleMeta(
    code="TP101",
    name="proxy-buffering-enabled",
    severity=Severity.WARNING,
    category=Category.RESPONSE_BUFFERING,
    fix=FixAvailability.ALWAYS,
    references=(
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering",
        "https://github.com/nginx/nginx/blob/release-1.22.1/src/event/ngx_event_pipe.c",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/",
        "https://github.com/nginx/kubernetes-ingress/blob/main/internal/configs/config_params.go",
    ),
    proven_on="nginx 1.22.1 (tests/proxy/test_rule_proofs.py)",
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    setting = route.settings.buffering
    if not setting.value:
        return
    # An ignored annotation (e.g. "false") is TP104's: its fix corrects that very value.
    if has_ignored_annotation(setting):
        return
    where = "by default" if setting.source.kind is SourceKind.DEFAULT else "for this route"
    message = f"response buffering is on {where}"
    aggravating = aggravating_conditions(route.settings)
    if aggravating:
        message += f" with {' and '.join(aggravating)}: nginx will hold tokens back"
    fix = set_value_fix(route, setting, "buffering", False, Safety.UNSAFE)
    finding = ctx.finding(META, route, message, setting_name="buffering", setting=setting, fix=fix)
    yield escalate(ctx, META, finding) if aggravating else finding


def aggravating_conditions(settings: RouteSettings) -> list[str]:
    """What on this route makes buffering hold the stream (FACTS.md §1 "Severity")."""
    found: list[str] = []
    if settings.http_version.value == "1.0":
        found.append("an HTTP/1.0 upstream")
    if settings.gzip.value and stream_types_in(settings.gzip_types.value):
        found.append("gzip on token streams")
    if settings.brotli.value and stream_types_in(settings.brotli_types.value):
        found.append("brotli on token streams")
    if settings.modsecurity.value:
        found.append("ModSecurity")
    return found
