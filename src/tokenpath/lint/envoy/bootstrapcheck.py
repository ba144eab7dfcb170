"""The refusals of a raw Envoy bootstrap: every key that is not a field of its message
(``tokenpath.lint.envoy.schema``) makes Envoy reject the whole file (FACTS.md §5, §17).

``RefusalReader`` is the base of the bootstrap readers: it checks each map it is shown and
collects the refusals as ``Ignored`` entries, pointing at the key.
"""

from __future__ import annotations

from tokenpath.lint.envoy.protojson import ANY_TYPE_KEY, get_field
from tokenpath.lint.envoy.schema import (
    AUTO_HTTP_CONFIG,
    EXPLICIT_HTTP_CONFIG,
    HTTP1,
    HTTP2,
    HTTP_COMMON,
    UPSTREAM_HTTP,
    USE_DOWNSTREAM_HTTP_CONFIG,
    Message,
    unknown_field,
)
from tokenpath.lint.fields import FieldReader
from tokenpath.lint.model import Ignored, ObjectRef, Source, SourceKind
from tokenpath.lint.yamlnode import NodeKind, YNode


class RefusalReader(FieldReader):
    """Reads one bootstrap ``ref`` and collects what makes Envoy refuse it."""

    def __init__(self, ref: ObjectRef) -> None:
        super().__init__()
        self.ref = ref
        self.file, self.obj = ref.file, str(ref)
        self.refused: list[Ignored] = []

    def check(self, node: YNode | None, message: Message, where: str, packed: bool = False) -> None:
        """Record every key of the map ``node`` that is not a field of ``message``."""
        if node is None or node.kind is not NodeKind.MAP:
            return
        for key_node, value in node.items:
            key = key_node.value
            if key_node.kind is not NodeKind.SCALAR or key == "<<":
                continue  # YAML merge keys are resolved by the parser, not fields
            if packed and key == ANY_TYPE_KEY:
                continue
            reason = unknown_field(message, key)
            if reason is not None:
                self.refuse(f"{where}.{key}", key_node, value, reason)

    def refuse(self, key: str, key_node: YNode, value: YNode, reason: str) -> None:
        source = Source(SourceKind.FIELD, key, self.ref, key_node.span.line, node=value)
        self.refused.append(Ignored(source, f"{key_node.value}: {self.raw(value)}", reason))

    def raw(self, node: YNode) -> str:
        if node.kind is NodeKind.SCALAR:
            return node.value
        text = " ".join(self.ref.text[node.span.start : node.span.end].split())
        return text if len(text) <= 60 else text[:57] + "..."

    def protocol_options(self, node: YNode, where: str) -> None:
        """The three HTTP protocol option messages an HCM, a cluster or an upstream
        HttpProtocolOptions config may hold."""
        for name, message in (
            ("http_protocol_options", HTTP1),
            ("http2_protocol_options", HTTP2),
            ("common_http_protocol_options", HTTP_COMMON),
        ):
            self.check(get_field(node, name), message, f"{where}.{name}")

    def upstream_options(self, node: YNode, where: str) -> None:
        self.check(node, UPSTREAM_HTTP, where, packed=True)
        common = "common_http_protocol_options"
        self.check(get_field(node, common), HTTP_COMMON, f"{where}.{common}")
        for name, message in (
            ("explicit_http_config", EXPLICIT_HTTP_CONFIG),
            ("use_downstream_protocol_config", USE_DOWNSTREAM_HTTP_CONFIG),
            ("auto_config", AUTO_HTTP_CONFIG),
        ):
            config = get_field(node, name)
            self.check(config, message, f"{where}.{name}")
            if config is not None and config.kind is NodeKind.MAP:
                self.protocol_options(config, f"{where}.{name}")
