"""The upstream is spoken to over HTTP/1.0 while response buffering is on.

## What it does
Flags a route where ingress-nginx talks HTTP/1.0 to the upstream
(`proxy-http-version: "1.0"`, as an annotation or in the controller ConfigMap) and response
buffering is on. With buffering off, HTTP/1.0 alone does not hold the stream, and the rule
stays quiet. F5 NGINX Ingress Controller always uses HTTP/1.1 upstream.

## Why it breaks streaming
An HTTP/1.0 request gets a close-delimited answer from servers such as uvicorn and aiohttp:
no `Transfer-Encoding: chunked`, and the end of the body is the end of the connection. A
buffering nginx cannot tell how much of such a body is left, so it passes data on only in
whole buffers. Tokens arrive in bursts of about 4 KB, a short answer arrives all at the end,
and the final `data: [DONE]` waits until the upstream closes the connection. Over HTTP/1.1
the same servers answer chunked, and nginx passes each chunk on as it arrives.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/proxy-buffering: "on"
    nginx.ingress.kubernetes.io/proxy-http-version: "1.0"
```

## Fix
Set `nginx.ingress.kubernetes.io/proxy-http-version: "1.1"`. The fix edits the annotation
when this Ingress sets it. When the value comes from the ConfigMap, it adds the annotation
to this Ingress instead. The fix is unsafe: an upstream that only speaks HTTP/1.0 would
break. Turning buffering off (TP101) fixes the stream as well, and doing both is best.

## Source
nginx 1.22.1 with buffering on held a close-delimited body in whole buffers and streamed a
chunked one (FACTS.md §1, "How buffering behaves"). `proxy_http_version` defaults to 1.0 in
nginx and to 1.1 in ingress-nginx (FACTS.md §1, §2); the F5 template always sets 1.1
(FACTS.md §3).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.fix.edit import Safety
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import has_ignored_annotation, set_value_fix

META = RuleMeta(
    code="TP102",
    name="http10-upstream-with-buffering",
    severity=Severity.ERROR,
    category=Category.HTTP10_UPSTREAM,
    fix=FixAvailability.ALWAYS,
    references=(
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_http_version",
        "https://github.com/nginx/nginx/blob/release-1.22.1/src/event/ngx_event_pipe.c",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/",
    ),
    proven_on="nginx 1.22.1 (tests/proxy/test_rule_proofs.py)",
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    version = route.settings.http_version
    if version.value != "1.0" or not route.settings.buffering.value:
        return
    if has_ignored_annotation(version):
        return
    yield ctx.finding(
        META,
        route,
        "the upstream is spoken to over HTTP/1.0 with response buffering on: "
        "close-delimited replies leave nginx in ~4 KB bursts and the end waits for the close",
        setting_name="http_version",
        setting=version,
        fix=set_value_fix(route, version, "http_version", "1.1", Safety.UNSAFE),
    )
