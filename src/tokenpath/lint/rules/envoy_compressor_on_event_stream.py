"""An Envoy compressor compresses token streams.

## What it does
Flags an Envoy-family LLM route whose response compressor lists `text/event-stream` (SSE) or
`application/x-ndjson` (Ollama) among the content types it compresses. Envoy's default list
holds neither, and Envoy Gateway's own compression (`compression` / `compressor` of a
BackendTrafficPolicy) uses that default list and has no content-type field: it never covers
token streams. So the type was added on purpose, by an EnvoyFilter or a raw Envoy
configuration. It does not fire when the policy sets `compression_allowed: true`.

## Why it breaks streaming
At this hop it does not: Envoy 1.40.0 compressed SSE and still sent each event as it came.
The risk lies behind it: every later hop and the client must decompress an event stream, and
a proxy or client library that buffers to decompress, or that does not expect a compressed
`text/event-stream`, delays or breaks the stream. Compressing a few tokens per event also
saves little.

## Example
```yaml
# EnvoyFilter patch of envoy.filters.http.compressor
response_direction_config:
  common_config:
    content_type: [application/json, text/event-stream]
```

## Fix
Remove the stream types from the compressor's content types where they were added (an
EnvoyFilter, the Envoy configuration). No automatic fix: the list lives in a patch whose
other effects tokenpath does not judge. To keep compression on purpose, set
`compression_allowed: true` in the policy.

## Source
Envoy's compressor defaults and its per-event sending of compressed SSE, measured with Envoy
1.40.0 (FACTS.md §5); Envoy Gateway compression uses Envoy's default types (FACTS.md §6);
compression injected by an EnvoyFilter in Istio (FACTS.md §7).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import EnvoyRoute, Family
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._envoy import route_finding
from tokenpath.lint.rules._shared import STREAM_TYPES, advice, origin

META = RuleMeta(
    code="TP302",
    name="envoy-compressor-on-event-stream",
    severity=Severity.INFO,
    category=Category.COMPRESSION_BUFFERS_STREAM,
    fix=FixAvailability.NEVER,
    references=(
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/compressor/v3/compressor.proto",
        "https://gateway.envoyproxy.io/docs/api/extension_types/",
    ),
    proven_on="Envoy 1.40.0 (tests/proxy/test_rule_proofs.py)",
    family=Family.ENVOY,
)


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    setting = route.settings.compression
    if setting.value is None or ctx.policy.compression_allowed:
        return
    streams = tuple(t for t in setting.value if _media_type(t) in STREAM_TYPES)
    if not streams:
        return
    listed = ", ".join(streams)
    yield route_finding(
        ctx,
        META,
        route,
        f"a response compressor compresses {listed} on this route ({origin(setting.source)}). "
        "Envoy (1.40.0, measured) still sends each compressed event as it comes, so this hop "
        "adds no delay; but every later hop and the client must decompress the stream, and "
        "one that buffers to decompress may hold tokens back",
        "compression",
        setting,
        advice(f"remove {listed} from the compressor's content types ({origin(setting.source)})"),
    )


def _media_type(content_type: str) -> str:
    """'text/event-stream; charset=utf-8' -> 'text/event-stream'."""
    return content_type.split(";", 1)[0].strip().lower()
