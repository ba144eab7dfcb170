"""An Envoy bootstrap holds a field Envoy rejects, so Envoy refuses the whole file.

## What it does
Flags a key of a raw Envoy bootstrap (`envoy.yaml` / `envoy.json`) that is not a field of the
message it is written in: a misspelling, or an option put in the wrong message. The message
names the message that does have the field. It checks the HTTP connection manager, its
`http_protocol_options`, `http2_protocol_options` and `common_http_protocol_options`, the
inline route configuration (virtual hosts, routes, route actions, retry policies), the
compressor and buffer filters, and the clusters' protocol options. It also flags a duration
Envoy cannot parse (`timeout: 1m`, `timeout: 15`).

With `tokenpath lint --validate`, every bootstrap is also run through the real binary
(`envoy --mode validate -c FILE`): a file Envoy rejects is reported with Envoy's own reason,
and a static finding on a file Envoy accepts is dropped.

## Why it breaks streaming
Envoy parses its config with protobuf's JSON parser, which refuses an unknown field. The whole
file is rejected: Envoy does not start, or keeps its previous config, and none of the routes
in the file is served. A popular piece of advice for SSE through Envoy is
`http2_protocol_options: {allow_chunked_length: true}`; there is no such field, and the HTTP/1
option of that name only concerns messages with both `Transfer-Encoding: chunked` and
`Content-Length`, loosening a request smuggling guard. Envoy streams without it.

## Example
```yaml
typed_config:   # of envoy.filters.network.http_connection_manager
  stat_prefix: ingress
  http2_protocol_options:
    allow_chunked_length: true   # Http2ProtocolOptions: no such field
```

## Fix
For `http2_protocol_options.allow_chunked_length` the fix deletes the line. It is unsafe
because the file then loads and serves traffic, and it drops what was written rather than
moving it (moving it to `http_protocol_options` would weaken a smuggling guard for no
streaming benefit). It is advice only when the key is not alone on a block-style line, or
the value is shared through a YAML anchor. For other keys the advice names the message that
has the field, or asks to correct the spelling or the duration (`"300s"`; `"0s"` turns a timer
off).

## Source
`envoy --mode validate` with Envoy 1.40.0 rejects `allow_chunked_length` under
`http2_protocol_options` on the HCM and on a cluster: `Http2ProtocolOptions: no such field:
'allow_chunked_length'` (FACTS.md §5, §17). Field lists are those of the Envoy 1.40.0 protos
(`tokenpath.lint.envoy.schema`); `tests/lint/envoy/test_envoy_validate.py` checks the static
check against the binary.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from tokenpath.fix.edit import Edit, Fix, Safety
from tokenpath.lint.envoy.bootstrap import bootstrap_refusals
from tokenpath.lint.envoy.values import ENVOY_HCM
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.kinds import ENVOY_BOOTSTRAP
from tokenpath.lint.model import EnvoyRoute, Family, Ignored, ObjectRef, Setting
from tokenpath.lint.objects import Objects
from tokenpath.lint.policy import Policy
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import advice
from tokenpath.lint.yamlnode import NodeKind, YNode

META = RuleMeta(
    code="TP507",
    name="envoy-field-rejected",
    severity=Severity.ERROR,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/protocol.proto",
        ENVOY_HCM,
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto",
        "https://www.envoyproxy.io/docs/envoy/latest/operations/cli#cmdoption-mode",
    ),
    proven_on="Envoy 1.40.0 (envoy --mode validate)",
    family=Family.ENVOY,
)

_H2_CHUNKED = re.compile(
    r"(^|\.)(http2_protocol_options|http2ProtocolOptions)\.(allow_chunked_length|allowChunkedLength)$"
)


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    for refusal in route.settings.refused:
        setting = Setting(value=refusal.raw, source=refusal.source, raw=refusal.raw)
        yield ctx.finding(
            META,
            route,
            refusal.reason,
            setting_name=refusal.source.key,
            setting=setting,
            fix=refusal_fix(refusal),
        )


def check_objects(objects: Objects, ctx: RuleContext) -> Iterator[Finding]:
    """The same findings for every bootstrap, so a file whose routes are not linted (no LLM
    route, or routes only from ``rds``) is reported too; the engine folds the two."""
    for ref in objects.others:
        if ref.kind != ENVOY_BOOTSTRAP:
            continue
        for refusal in bootstrap_refusals(ref):
            finding = ctx.object_finding(
                META,
                ref,
                refusal.source.line,
                refusal.reason,
                setting_name=refusal.source.key,
                value=refusal.raw,
                fix=refusal_fix(refusal),
            )
            yield dataclasses.replace(finding, source=refusal.source)


def refusal_fix(refusal: Ignored) -> Fix:
    """Delete ``http2_protocol_options.allow_chunked_length`` when that is one clean line;
    advice otherwise."""
    key = refusal.raw.split(":", 1)[0]
    if _H2_CHUNKED.search(refusal.source.key):
        edit = _delete_line(refusal)
        title = f"delete http2_protocol_options.{key}: no such field, and streaming needs none"
        if edit is not None:
            return Fix(title, (edit,), Safety.UNSAFE)
        return advice(title)
    if "has no field" not in refusal.reason:
        return advice('write a protobuf duration string such as "300s" ("0s" turns it off)')
    if "belongs to" in refusal.reason:
        return advice(f"move '{key}' to the message the finding names, or delete it")
    return advice(f"correct or delete '{key}'")


def _delete_line(refusal: Ignored) -> Edit | None:
    """An edit removing the whole line ``key: value``, or None when that is not safe: the key
    shares its line, the value spans lines, or anything on the way is anchored or aliased."""
    obj, value = refusal.source.obj, refusal.source.node
    if obj is None or obj.node is None or value is None or value.kind is not NodeKind.SCALAR:
        return None
    path = _find(obj.node, value)
    if path is None or len(path) < 2 or any(n.alias or n.anchor for n in path):
        return None
    parent = path[-2]
    key = next((k for k, v in parent.items if v is value), None)
    if parent.flow or key is None:
        return None
    text = obj.text
    start = text.rfind("\n", 0, key.span.start) + 1
    end = text.find("\n", value.span.end)
    end = len(text) if end < 0 else end + 1
    rest = text[value.span.end : end].strip()
    if text[start : key.span.start].strip() or (rest and not rest.startswith("#")):
        return None
    if "\n" in text[key.span.start : value.span.end]:
        return None
    return Edit(obj.file, start, end, "")


def _find(node: YNode, target: YNode) -> list[YNode] | None:
    """Nodes from ``node`` down to ``target`` (by identity), or None."""
    if node is target:
        return [node]
    children = [v for _, v in node.items] + list(node.elements)
    for child in children:
        below = _find(child, target)
        if below is not None:
            return [node, *below]
    return None


# -- envoy --mode validate ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvoyValidation:
    """What ``envoy --mode validate`` said about one bootstrap."""

    obj: ObjectRef
    envoy_version: str  # e.g. "1.40.0"
    reason: str  # Envoy's reason, condensed to one line; "" when Envoy accepts the file

    @property
    def accepted(self) -> bool:
        return not self.reason


def validation_finding(validation: EnvoyValidation, ctx: RuleContext) -> Finding | None:
    """A finding at the bootstrap's first line when Envoy rejected it; None when accepted."""
    if validation.accepted:
        return None
    message = f"Envoy {validation.envoy_version} rejects this file: {validation.reason}"
    return ctx.object_finding(
        META,
        validation.obj,
        validation.obj.line,
        message,
        setting_name="envoy --mode validate",
        fix=advice("fix what Envoy names, then re-run with --validate"),
    )


def merge_validations(
    findings: Sequence[Finding], validations: Iterable[EnvoyValidation], policy: Policy
) -> tuple[Finding, ...]:
    """``findings`` with the binary's verdicts: a finding per rejected bootstrap, and none of
    this rule's static findings on a bootstrap Envoy accepts (the binary is the authority)."""
    if META.code in policy.disabled:
        return tuple(findings)
    ctx = RuleContext(policy=policy)
    checked = list(validations)
    accepted = {v.obj for v in checked if v.accepted}
    kept = [f for f in findings if not (f.code == META.code and f.object in accepted)]
    for validation in checked:
        finding = validation_finding(validation, ctx)
        if finding is not None:
            kept.append(finding)
    return tuple(sorted(kept, key=lambda f: (f.object.file, f.line, f.object.doc_index, f.code)))


_NOISE = (
    re.compile(r"^error initializing configuration '[^']*':\s*"),
    re.compile(r"^(Protobuf message \(type \S+ reason |Unable to parse JSON as proto \()"),
    re.compile(r"INVALID_ARGUMENT: invalid JSON in envoy\.config\.bootstrap\.v3\.Bootstrap\s*"),
    # protobuf's debug-string marker, where Envoy goes on with a multi-line proto dump
    re.compile(r"\s*goo\.gle/debug\w+:?\s*$"),
)
_AT = re.compile(r"^@\s*(?P<at>\S+): message (?P<msg>\S+), near \S+ \(offset \d+\):\s*(?P<why>.*)$")
_TAIL = re.compile(r"\)( has unknown fields)?$|\): \{.*$")


def condense_reason(reason: str) -> str:
    """Envoy's rejection line, short: ``envoy.config.core.v3.Http2ProtocolOptions: no such
    field: 'allow_chunked_length' (at static_resources.listeners[0]...)`` rather than the
    temp file name, the parser's offsets and a dump of the whole config as JSON."""
    text = " ".join(reason.split())
    for noise in _NOISE:
        text = noise.sub("", text)
    match = _AT.match(text)
    if match is not None:
        why = _TAIL.sub("", match.group("why"))
        text = f"{match.group('msg')}: {why} (at {match.group('at')})"
    text = text.rstrip(": ") or "see envoy --mode validate -c FILE for the details"
    return text if len(text) <= 400 else text[:397] + "..."
