"""Envoy Gateway BackendTrafficPolicy (BTP) and ClientTrafficPolicy (CTP) objects as read:
their targets and the streaming-relevant fields as written (FACTS.md §6). Which policies
reach a route: ``tokenpath.lint.envoy.policies``."""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.lint.envoy.gwcore import CoreReader, Raw
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.yamlnode import YNode

BTP_KIND = "BackendTrafficPolicy"
CTP_KIND = "ClientTrafficPolicy"
BTP_FIELDS = (
    "timeout.http.requestTimeout",
    "timeout.http.streamIdleTimeout",
    "timeout.http.maxStreamDuration",
    "connection.bufferLimit",
    "requestBuffer.limit",
)
CTP_FIELDS = (
    "timeout.http.streamIdleTimeout",
    "timeout.http.idleTimeout",
    "connection.bufferLimit",
)


@dataclass(frozen=True, slots=True)
class TargetRef:
    group: str
    kind: str
    name: str
    section_name: str
    line: int


@dataclass(frozen=True, slots=True)
class TargetSelector:
    kind: str
    match_labels: tuple[tuple[str, str], ...]
    line: int


@dataclass(frozen=True, slots=True)
class TrafficPolicy:
    """A BackendTrafficPolicy or ClientTrafficPolicy: its targets and the streaming-relevant
    fields as written, keyed by dotted path below ``spec`` (``timeout.http.requestTimeout``)."""

    ref: ObjectRef
    targets: tuple[TargetRef, ...]
    selectors: tuple[TargetSelector, ...]
    values: tuple[tuple[str, Raw], ...]
    compression: Raw | None  # the ``compression`` / ``compressor`` list key, when non-empty
    merge_type: str

    def value(self, key: str) -> Raw | None:
        return next((raw for name, raw in self.values if name == key), None)

    @property
    def line(self) -> int:
        return self.ref.line


class PolicyReader(CoreReader):
    """Reads BTPs and CTPs along their CRD schemas."""

    def policy(self, ref: ObjectRef, root: YNode, keys: tuple[str, ...]) -> TrafficPolicy:
        spec = self.map(root.get("spec"), "spec")
        targets: list[TargetRef] = []
        selectors: list[TargetSelector] = []
        values: list[tuple[str, Raw]] = []
        compression = None
        merge_type = ""
        if spec is not None:
            single = self.target_ref(spec.get("targetRef"), "spec.targetRef")
            targets.extend([single] if single is not None else [])
            for i, node in enumerate(self.seq(spec.get("targetRefs"), "spec.targetRefs")):
                target = self.target_ref(node, f"spec.targetRefs[{i}]")
                targets.extend([target] if target is not None else [])
            nodes = self.seq(spec.get("targetSelectors"), "spec.targetSelectors")
            for i, node in enumerate(nodes):
                selector = self.selector(node, f"spec.targetSelectors[{i}]")
                selectors.extend([selector] if selector is not None else [])
            for key in keys:
                raw = self.value_at(spec, key)
                if raw is not None:
                    values.append((key, raw))
            for key in ("compressor", "compression"):
                items = self.seq(spec.get(key), f"spec.{key}")
                if items and compression is None:
                    compression = Raw(key, items[0])
            merge_type = self.text(spec.get("mergeType"), "spec.mergeType")
        return TrafficPolicy(
            ref, tuple(targets), tuple(selectors), tuple(values), compression, merge_type
        )

    def value_at(self, spec: YNode, dotted: str) -> Raw | None:
        node = spec
        parts = dotted.split(".")
        for depth, part in enumerate(parts[:-1]):
            inner = self.map(node.get(part), "spec." + ".".join(parts[: depth + 1]))
            if inner is None:
                return None
            node = inner
        return self.raw(node.get(parts[-1]), f"spec.{dotted}")

    def target_ref(self, node: YNode | None, where: str) -> TargetRef | None:
        item = self.map(node, where)
        if item is None:
            return None
        return TargetRef(
            group=self.text(item.get("group"), f"{where}.group"),
            kind=self.text(item.get("kind"), f"{where}.kind"),
            name=self.text(item.get("name"), f"{where}.name"),
            section_name=self.text(item.get("sectionName"), f"{where}.sectionName"),
            line=item.span.line,
        )

    def selector(self, node: YNode, where: str) -> TargetSelector | None:
        item = self.map(node, where)
        if item is None:
            return None
        return TargetSelector(
            kind=self.text(item.get("kind"), f"{where}.kind"),
            match_labels=self.labels(item.get("matchLabels"), f"{where}.matchLabels"),
            line=item.span.line,
        )
