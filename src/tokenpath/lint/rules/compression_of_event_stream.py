"""gzip or brotli compresses token streams.

## What it does
Flags a route where the controller compresses token streams: `use-gzip` with `gzip-types`, or
`enable-brotli` with `brotli-types`, listing `text/event-stream`, `application/x-ndjson`
(Ollama) or the wildcard `*`. The stock type lists of ingress-nginx contain neither stream
type, so this fires only when someone added one. The finding is an error when response
buffering is also on. It does not fire when the policy sets `compression_allowed: true`.

## Why it breaks streaming
A compressor is a body filter with its own buffer. With buffering off, nginx 1.22.1
compressed each SSE event and flushed it at once, so tokens kept flowing. With buffering on,
nginx 1.22.1 held the whole compressed answer until the end, even from a chunked HTTP/1.1
upstream that streams fine without gzip: every token arrives at once. Even when nginx flushes,
every later hop and the client must cope with a compressed event stream, and compressing a
few tokens per event saves little. `tokenpath probe` reports a compressed stream as
`COMPRESSED`.

## Example
```yaml
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
data:
  use-gzip: "true"
  gzip-types: "application/json text/event-stream"
```

## Fix
Remove the stream types from the list. The type list exists only in the controller's
ConfigMap, so the fix edits that global list, and it is unsafe because it changes
compression for every Ingress of the controller. It keeps every other type as written. When
the list is a wildcard, or the stream types are all it holds, there is no edit, only the
advice to list the types that should be compressed. To keep compression on purpose, set
`compression_allowed: true` in the policy.

## Source
nginx 1.22.1 with buffering off compressed and flushed each SSE event (FACTS.md §1); with
buffering on it held the stream to the end (measured by tokenpath's rule proofs,
`tests/proxy/test_rule_proofs.py`; FACTS.md §1 lists this pairing as unverified).
ingress-nginx keys and defaults: FACTS.md §2. The severity follows FACTS.md §1 "Severity".
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.fix.edit import Fix, Safety
from tokenpath.fix.yamledit import replace_scalar
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute, Setting, SourceKind
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import WILDCARD_TYPES, advice, escalate, stream_types_in

META = RuleMeta(
    code="TP301",
    name="compression-of-event-stream",
    severity=Severity.WARNING,
    category=Category.COMPRESSION_BUFFERS_STREAM,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://nginx.org/en/docs/http/ngx_http_gzip_module.html#gzip_types",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#gzip-types",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#brotli-types",
    ),
    proven_on="nginx 1.22.1 (tests/proxy/test_rule_proofs.py)",
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    if ctx.policy.compression_allowed:
        return
    settings = route.settings
    compressors = (
        ("gzip", settings.gzip, settings.gzip_types),
        ("brotli", settings.brotli, settings.brotli_types),
    )
    for name, enabled, types in compressors:
        if not enabled.value:
            continue
        matched = stream_types_in(types.value)
        if not matched:
            continue
        message = f"{name} compresses token streams ({', '.join(matched)} in {name}_types)"
        if settings.buffering.value:
            message += " while response buffering is on"
        finding = ctx.finding(
            META,
            route,
            message,
            setting_name=f"{name}_types",
            setting=types,
            fix=_fix(types, matched),
        )
        yield escalate(ctx, META, finding) if settings.buffering.value else finding


def _fix(types: Setting[tuple[str, ...]], matched: tuple[str, ...]) -> Fix:
    keep = tuple(t for t in types.value if t not in matched)
    hint = advice(
        f"list in {types.source.key} only the types to compress, "
        "without text/event-stream and application/x-ndjson"
    )
    source = types.source
    if (
        any(t in WILDCARD_TYPES for t in matched)
        or not keep
        or source.kind is not SourceKind.CONFIGMAP
        or source.obj is None
        or source.node is None
    ):
        return hint
    edit = replace_scalar(source.obj, source.node, " ".join(keep))
    if edit is None:
        return hint
    removed = ", ".join(matched)
    return Fix(
        title=f"remove {removed} from {source.key} in {source.obj} (affects every Ingress)",
        edits=(edit,),
        safety=Safety.UNSAFE,
    )
