"""An EnvoyFilter may change this route's streaming settings, and tokenpath does not read it.

## What it does
Reports each Istio EnvoyFilter patch that reaches an LLM route and may change how it streams,
but that tokenpath does not interpret: patches of the route configuration (`HTTP_ROUTE`,
`VIRTUAL_HOST`, `ROUTE_CONFIGURATION`), filters that may buffer or compress bodies (buffer,
ext_proc, ext_authz, Lua, gzip...), other timeout or buffer fields, and any such patch of a
filter narrowed by `workloadSelector` or `targetRefs`. tokenpath reads only a connection
manager `MERGE` of `stream_idle_timeout` or `delayed_close_timeout` and the insertion of
Envoy's compressor filter; those are checked by the timeout and compression rules instead.

## Why it breaks streaming
An EnvoyFilter edits the Envoy configuration after Istio generated it. A route timeout
patched in cuts long generations; a compressor or a body-buffering filter can hold tokens
until the response ends. None of it shows in the VirtualService, so the other rules would
report this route as fine while the proxy behaves differently.

## Example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: route-timeout, namespace: ai}
spec:
  configPatches:
    - applyTo: HTTP_ROUTE
      patch:
        operation: MERGE
        value: {route: {timeout: 30s}}   # a total cap: a 40 s answer is cut
```

## Fix
None automatic. Check what the proxy really runs with
`istioctl proxy-config route <pod> -o json` (route timeout, idle timeout, retries) or
`istioctl proxy-config listener <pod> -o json` (HTTP filters, connection manager timeouts),
then move the intent to the VirtualService (`timeout`) or drop the patch.

## Source
Istio sets no route timeout and no per-route idle timeout of its own (FACTS.md §7); what an
EnvoyFilter adds is the usual Istio cause of buffered or cut streams (SeldonIO/seldon-core#2727,
FACTS.md §7). Envoy's route timeout is a total and its compressor skips SSE only by default
(FACTS.md §5).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import EnvoyRoute, Family, Setting
from tokenpath.lint.rule import RuleContext

META = RuleMeta(
    code="TP508",
    name="envoy-filter-not-interpreted",
    severity=Severity.INFO,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.NEVER,
    references=(
        "https://istio.io/latest/docs/reference/config/networking/envoy-filter/",
        "https://istio.io/latest/docs/reference/commands/istioctl/#istioctl-proxy-config",
    ),
    family=Family.ENVOY,
)


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    for entry in route.settings.uninterpreted:
        where = entry.source.obj if entry.source.obj is not None else route.obj
        setting = Setting(value=entry.raw, source=entry.source, raw=entry.raw)
        yield ctx.finding(
            META,
            route,
            f"{where} may change how this route streams ({entry.raw}): {entry.reason}",
            setting_name=entry.source.key,
            setting=setting,
        )
