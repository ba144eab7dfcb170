"""The send timeout may cut off a queued request before its prompt is delivered.

## What it does
Flags a route whose effective upstream send timeout (`proxy-send-timeout`, 60 s by default
on both controllers) is shorter than the policy's `max_silence_s`. This is an info finding:
it matters only for large prompts sent to a server that does not read them while the request
waits in its queue.

## Why it breaks streaming
`proxy_send_timeout` is not a stream timer. It limits the gap between two successful writes
of the request to the upstream, and it runs only while a write is blocked. Once the prompt
is delivered, nothing more is written upstream, so it never cuts a stream of tokens. Raising
it does not help against cuts mid-answer; that is the read timeout (TP201).

The one case where it can matter is a prompt larger than the socket buffers (long contexts,
images, tool schemas) sent to a server that accepts the connection but reads the body only
when a worker or slot is free. nginx's write then blocks for as long as the request waits in
the server's queue. If that wait is longer than the send timeout, the request fails before
the model has seen it. The queue wait is part of the silence before the first token, which is
why the policy's `max_silence_s` is the yardstick. With request buffering on (the default),
nginx reads the whole prompt from the client first and then writes it upstream, so a slow
client does not trigger this timer.

tokenpath has not measured this case, which is why the finding is only info.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/proxy-send-timeout: "30"
```

## Fix
If the route takes large prompts and the server queues requests, raise the timeout to the
longest expected queue wait. The fix sets it to `ceil(max_silence_s)` in the controller's
syntax, on this Ingress's annotation, or as a new annotation when the value comes from the
ConfigMap or the default. It is unsafe because it changes behaviour: an upstream that stops
reading is detected later.

## Source
nginx documents `proxy_send_timeout` as a limit "between two successive write operations"
on the request to the proxied server (FACTS.md §1). Both controllers default to 60 s
(FACTS.md §2, §3). The queueing case is reasoned from that definition, not measured.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import timeout_below_silence

META = RuleMeta(
    code="TP202",
    name="send-timeout-too-short",
    severity=Severity.INFO,
    category=Category.SEND_TIMEOUT_TOO_SHORT,
    fix=FixAvailability.ALWAYS,
    references=(
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_send_timeout",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-timeouts",
    ),
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    yield from timeout_below_silence(
        META,
        route,
        ctx,
        "send_timeout",
        "a large prompt to a server that queues it unread would fail before generation starts",
    )
