"""`proxy-stream-timeout` is set, but it does not apply to HTTP streams.

## What it does
Flags ingress-nginx's ConfigMap key `proxy-stream-timeout` when it is longer than the route's
effective read timeout. In that case it looks like it was meant to keep HTTP token streams
alive. A value no longer than the read timeout is taken to be meant for TCP/UDP services,
and the rule stays quiet.

## Why it breaks streaming
Despite its name, `proxy-stream-timeout` sets `proxy_timeout` in nginx's `stream {}` block.
That block serves the controller's TCP and UDP services (`tcp-services` and
`udp-services`), never HTTP. An LLM stream over HTTP, SSE or NDJSON alike, is bound by the
read timeout (`proxy-read-timeout`, 60 s by default). The longer value has no effect on it,
and streams are still cut after 60 s of silence.

## Example
```yaml
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
data:
  proxy-stream-timeout: "3600s"   # TCP/UDP only; HTTP streams still stop after 60 s
```

## Fix
Set `proxy-read-timeout` instead, in integer seconds (`"3600"`): as an annotation on the
LLM Ingress, or in the ConfigMap. TP201 reports, and fixes, a read timeout that is shorter
than the policy's longest silence. This rule gives advice only, so that it does not add a
second edit to the same annotation.

## Source
ingress-nginx ConfigMap documentation and `internal/ingress/controller/config/config.go`:
`proxy-stream-timeout` is the `stream {}` `proxy_timeout`, default `600s` (FACTS.md §2, §17).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import Controller, NginxRoute, Setting, Source, SourceKind
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import advice, intended_seconds, seconds

META = RuleMeta(
    code="TP504",
    name="proxy-stream-timeout-not-http",
    severity=Severity.WARNING,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.NEVER,
    references=(
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#proxy-stream-timeout",
        "https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/controller/config/config.go",
    ),
)

KEY = "proxy-stream-timeout"


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    configmap = route.owner.configmap
    if route.owner.controller is not Controller.INGRESS_NGINX or configmap is None:
        return
    data = configmap.node.get("data") if configmap.node is not None else None
    node = data.get(KEY) if data is not None else None
    raw = node.text() if node is not None else None
    if node is None or raw is None:
        return
    stream_timeout = intended_seconds(raw)
    read_timeout = route.settings.read_timeout.value
    if stream_timeout is None or stream_timeout <= read_timeout:
        return
    source = Source(
        kind=SourceKind.CONFIGMAP, key=KEY, obj=configmap, line=node.span.line, node=node
    )
    yield ctx.finding(
        META,
        route,
        f"{KEY} {raw} applies only to TCP/UDP services; HTTP streams are still cut after "
        f"{seconds(read_timeout)} of silence (read timeout)",
        setting_name=KEY,
        setting=Setting(value=stream_timeout, source=source, raw=raw),
        fix=advice(f"set proxy-read-timeout instead (integer seconds, e.g. {int(stream_timeout)})"),
    )
