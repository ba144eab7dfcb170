"""Envoy AI Gateway's AIServiceBackend and the Gateway API Inference Extension's
InferencePool as read: where an AIGatewayRoute's backend leads, and which pods a pool selects
on which ports (FACTS.md §9)."""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.lint.envoy.gwcore import BackendRef, CoreReader
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.yamlnode import YNode


@dataclass(frozen=True, slots=True)
class AIServiceBackend:
    ref: ObjectRef
    backend: BackendRef | None


@dataclass(frozen=True, slots=True)
class InferencePool:
    ref: ObjectRef
    selector: tuple[tuple[str, str], ...]
    ports: tuple[int, ...]


class InferenceReader(CoreReader):
    """Reads AIServiceBackends and InferencePools along their CRD schemas."""

    def ai_backend(self, ref: ObjectRef, root: YNode) -> AIServiceBackend:
        spec = self.map(root.get("spec"), "spec")
        backend = spec.get("backendRef") if spec is not None else None
        return AIServiceBackend(ref, self.backend_ref(backend, "spec.backendRef"))

    def pool(self, ref: ObjectRef, root: YNode) -> InferencePool:
        spec = self.map(root.get("spec"), "spec")
        if spec is None:
            return InferencePool(ref, (), ())
        selector_node = self.map(spec.get("selector"), "spec.selector")
        selector: tuple[tuple[str, str], ...] = ()
        ports: list[int] = []
        if selector_node is not None and selector_node.get("matchLabels") is not None:
            # inference.networking.k8s.io/v1: a LabelSelector
            selector = self.labels(selector_node.get("matchLabels"), "spec.selector.matchLabels")
        elif selector_node is not None:
            selector = self.labels(selector_node, "spec.selector")  # v1alpha2: a plain map
        for i, node in enumerate(self.seq(spec.get("targetPorts"), "spec.targetPorts")):
            item = self.map(node, f"spec.targetPorts[{i}]")
            number = (
                self.integer(item.get("number"), f"spec.targetPorts[{i}].number") if item else None
            )
            ports.extend([number] if number is not None else [])
        legacy = self.integer(spec.get("targetPortNumber"), "spec.targetPortNumber")
        ports.extend([legacy] if legacy is not None else [])
        return InferencePool(ref, selector, tuple(ports))
