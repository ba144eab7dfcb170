"""The read timeout is shorter than the longest silence the policy expects.

## What it does
Flags a route whose effective upstream read timeout (`proxy-read-timeout`; ingress-nginx and
F5 NGINX Ingress Controller both default to 60 s) is shorter than the policy's
`max_silence_s`. That policy value is the longest time the model may say nothing: queueing and
prefill before the first token, or a pause for a tool call or silent reasoning.

## Why it breaks streaming
`proxy_read_timeout` is the longest gap nginx allows between two reads from the upstream.
It does not cap the length of the response: tokens reset it, and so do SSE comment
heartbeats. It fires on the first silence longer than the limit. Before the response
headers, the client gets a 504. After the headers, nginx closes the connection in the middle
of the body, without the chunked terminator. A client that does not require `data: [DONE]`
can take that for a complete answer.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "60"   # a 2-minute tool call is cut
```

## Fix
Raise the timeout above the longest expected silence. The fix sets it to
`ceil(max_silence_s)` in the controller's syntax: integer seconds for ingress-nginx
(`"300"`), nginx time for F5 NGINX Ingress Controller (`"300s"`). It edits this Ingress's
annotation, or adds one when the value comes from the ConfigMap or the default. It is unsafe
because it changes behaviour: a hung upstream is detected later. Servers that send SSE
heartbeats during long pauses avoid the problem without a longer timeout.

## Source
With nginx 1.22.1, a gap longer than `proxy_read_timeout` gave a 504 before the headers and
a cut body after them, and heartbeats kept the stream alive (FACTS.md §0, §1). Both
controllers default to 60 s (FACTS.md §2, §3).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import timeout_below_silence

META = RuleMeta(
    code="TP201",
    name="read-timeout-too-short",
    severity=Severity.WARNING,
    category=Category.READ_TIMEOUT_TOO_SHORT,
    fix=FixAvailability.ALWAYS,
    references=(
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-timeouts",
        "https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/advanced-configuration-with-annotations/",
    ),
    proven_on="nginx 1.22.1 (tests/proxy/test_rule_proofs.py)",
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    yield from timeout_below_silence(
        META,
        route,
        ctx,
        "read_timeout",
        "a longer pause before or between tokens gives a 504 or a cut stream",
    )
