"""Gateway API core kinds as read from ``Objects.others``: GatewayClass, Gateway, the
xRoutes (HTTPRoute, GRPCRoute and Envoy AI Gateway's AIGatewayRoute, which shares their
shape) and ReferenceGrant. The rest of the family: ``gwpolicy`` (Envoy Gateway policies),
``gwinference`` (AIServiceBackend, InferencePool), assembled by ``gwobjects``.

A malformed field is an ``InputError`` with file:line and reads as absent. Durations are kept
as written (``Raw``), with their node, so the settings code can record an unparsable one as
``Ignored`` with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenpath.lint.envoy.reader import ObjectReader
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.objects import Entry
from tokenpath.lint.yamlnode import YNode


@dataclass(frozen=True, slots=True)
class Raw:
    """A scalar as written, with its node (for provenance and fixes)."""

    text: str
    node: YNode = field(compare=False, repr=False)

    @property
    def line(self) -> int:
        return self.node.span.line


@dataclass(frozen=True, slots=True)
class Listener:
    name: str
    hostname: str


@dataclass(frozen=True, slots=True)
class GatewayClass:
    ref: ObjectRef
    controller_name: str


@dataclass(frozen=True, slots=True)
class Gateway:
    ref: ObjectRef
    labels: tuple[tuple[str, str], ...]
    class_name: str
    listeners: tuple[Listener, ...]


@dataclass(frozen=True, slots=True)
class ParentRef:
    name: str
    namespace: str  # as written; "" = the route's
    kind: str  # "Gateway" when not written
    section_name: str
    line: int


@dataclass(frozen=True, slots=True)
class BackendRef:
    name: str
    namespace: str  # as written; "" = the referrer's
    port: str
    kind: str  # as written; "" = the referrer's default kind
    group: str
    line: int
    node: YNode = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Match:
    path: str  # "" when the match has no path (GRPCRoute: "/service/method" or "/")
    line: int


@dataclass(frozen=True, slots=True)
class Rule:
    node: YNode = field(compare=False, repr=False)  # the rule map (fixes edit it)
    line: int = 0
    matches: tuple[Match, ...] = ()
    backend_refs: tuple[BackendRef, ...] = ()
    request: Raw | None = None  # timeouts.request
    backend_request: Raw | None = None  # timeouts.backendRequest
    has_retry: bool = False  # HTTPRoute rule ``retry`` (GEP-1731)
    stream_idle: Raw | None = None  # AIGatewayRoute rule streamIdleTimeout


@dataclass(frozen=True, slots=True)
class XRoute:
    """An HTTPRoute, GRPCRoute or AIGatewayRoute."""

    ref: ObjectRef
    annotations: tuple[Entry, ...]
    labels: tuple[tuple[str, str], ...]
    parent_refs: tuple[ParentRef, ...]
    hostnames: tuple[str, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class ReferenceGrant:
    ref: ObjectRef
    grants_from: tuple[tuple[str, str, str], ...]  # (group, kind, namespace)
    grants_to: tuple[tuple[str, str, str], ...]  # (group, kind, name); name "" = any


class CoreReader(ObjectReader):
    """Reads the core kinds along their CRD schemas."""

    def gateway_class(self, ref: ObjectRef, root: YNode) -> GatewayClass:
        spec = self.map(root.get("spec"), "spec")
        name = spec.get("controllerName") if spec is not None else None
        return GatewayClass(ref, self.text(name, "spec.controllerName"))

    def gateway(self, ref: ObjectRef, root: YNode) -> Gateway:
        spec = self.map(root.get("spec"), "spec")
        class_name, listeners = "", []
        if spec is not None:
            class_name = self.text(spec.get("gatewayClassName"), "spec.gatewayClassName")
            for i, node in enumerate(self.seq(spec.get("listeners"), "spec.listeners")):
                item = self.map(node, f"spec.listeners[{i}]")
                if item is not None:
                    where = f"spec.listeners[{i}]"
                    listeners.append(
                        Listener(
                            name=self.text(item.get("name"), f"{where}.name"),
                            hostname=self.text(item.get("hostname"), f"{where}.hostname"),
                        )
                    )
        return Gateway(ref, self.labels_of(root), class_name, tuple(listeners))

    def route(self, ref: ObjectRef, root: YNode) -> XRoute:
        spec = self.map(root.get("spec"), "spec")
        parents: list[ParentRef] = []
        hostnames: list[str] = []
        rules: list[Rule] = []
        if spec is not None:
            # AIGatewayRoute before v0.3 named its Gateways in spec.targetRefs.
            key = "parentRefs" if spec.get("parentRefs") is not None else "targetRefs"
            if ref.kind != "AIGatewayRoute":
                key = "parentRefs"
            for i, node in enumerate(self.seq(spec.get(key), f"spec.{key}")):
                parent = self.parent_ref(node, f"spec.{key}[{i}]")
                if parent is not None:
                    parents.append(parent)
            for i, node in enumerate(self.seq(spec.get("hostnames"), "spec.hostnames")):
                hostnames.append(self.text(node, f"spec.hostnames[{i}]"))
            for i, node in enumerate(self.seq(spec.get("rules"), "spec.rules")):
                rule = self.rule(ref.kind, node, f"spec.rules[{i}]")
                if rule is not None:
                    rules.append(rule)
        return XRoute(
            ref=ref,
            annotations=self.annotations_of(root),
            labels=self.labels_of(root),
            parent_refs=tuple(parents),
            hostnames=tuple(h for h in hostnames if h),
            rules=tuple(rules),
        )

    def parent_ref(self, node: YNode, where: str) -> ParentRef | None:
        item = self.map(node, where)
        if item is None:
            return None
        return ParentRef(
            name=self.text(item.get("name"), f"{where}.name"),
            namespace=self.text(item.get("namespace"), f"{where}.namespace"),
            kind=self.text(item.get("kind"), f"{where}.kind") or "Gateway",
            section_name=self.text(item.get("sectionName"), f"{where}.sectionName"),
            line=item.span.line,
        )

    def rule(self, kind: str, node: YNode, where: str) -> Rule | None:
        item = self.map(node, where)
        if item is None:
            return None
        matches = []
        for i, match_node in enumerate(self.seq(item.get("matches"), f"{where}.matches")):
            match = self.match(kind, match_node, f"{where}.matches[{i}]")
            matches.extend([match] if match is not None else [])
        backends = []
        for i, ref_node in enumerate(self.seq(item.get("backendRefs"), f"{where}.backendRefs")):
            backend = self.backend_ref(ref_node, f"{where}.backendRefs[{i}]")
            if backend is not None:
                backends.append(backend)
        timeouts = self.map(item.get("timeouts"), f"{where}.timeouts")
        request = backend_request = None
        if timeouts is not None:
            request = self.raw(timeouts.get("request"), f"{where}.timeouts.request")
            backend_request = self.raw(
                timeouts.get("backendRequest"), f"{where}.timeouts.backendRequest"
            )
        retry = item.get("retry")
        stream_idle = self.raw(item.get("streamIdleTimeout"), f"{where}.streamIdleTimeout")
        return Rule(
            node=item,
            line=item.span.line,
            matches=tuple(matches),
            backend_refs=tuple(backends),
            request=request,
            backend_request=backend_request,
            has_retry=retry is not None and self.map(retry, f"{where}.retry") is not None,
            stream_idle=stream_idle if kind == "AIGatewayRoute" else None,
        )

    def match(self, kind: str, node: YNode, where: str) -> Match | None:
        match = self.map(node, where)
        if match is None:
            return None
        if kind == "GRPCRoute":
            return Match(path=self.grpc_path(match, where), line=match.span.line)
        path = ""
        path_map = self.map(match.get("path"), f"{where}.path")
        if path_map is not None:
            path = self.text(path_map.get("value"), f"{where}.path.value")
            self.text(path_map.get("type"), f"{where}.path.type")
        return Match(path=path, line=match.span.line)

    def grpc_path(self, match: YNode, where: str) -> str:
        method = self.map(match.get("method"), f"{where}.method")
        if method is None:
            return "/"
        service = self.text(method.get("service"), f"{where}.method.service")
        name = self.text(method.get("method"), f"{where}.method.method")
        if not service:
            return "/"
        return f"/{service}/{name}" if name else f"/{service}/"

    def backend_ref(self, node: YNode | None, where: str) -> BackendRef | None:
        item = self.map(node, where)
        if item is None:
            return None
        port_node = item.get("port")
        port = self.integer(port_node, f"{where}.port")
        return BackendRef(
            name=self.text(item.get("name"), f"{where}.name"),
            namespace=self.text(item.get("namespace"), f"{where}.namespace"),
            port=str(port) if port is not None else "",
            kind=self.text(item.get("kind"), f"{where}.kind"),
            group=self.text(item.get("group"), f"{where}.group"),
            line=item.span.line,
            node=item,
        )

    def raw(self, node: YNode | None, where: str) -> Raw | None:
        if node is None:
            return None
        text = self.text(node, where)
        return Raw(text, node) if text else None

    def grant(self, ref: ObjectRef, root: YNode) -> ReferenceGrant:
        spec = self.map(root.get("spec"), "spec")
        sides: dict[str, list[tuple[str, str, str]]] = {"from": [], "to": []}
        for side, third in (("from", "namespace"), ("to", "name")):
            nodes = self.seq(spec.get(side), f"spec.{side}") if spec is not None else ()
            for i, node in enumerate(nodes):
                item = self.map(node, f"spec.{side}[{i}]")
                if item is None:
                    continue
                sides[side].append(
                    (
                        self.text(item.get("group"), f"spec.{side}[{i}].group"),
                        self.text(item.get("kind"), f"spec.{side}[{i}].kind"),
                        self.text(item.get(third), f"spec.{side}[{i}].{third}"),
                    )
                )
        return ReferenceGrant(ref, tuple(sides["from"]), tuple(sides["to"]))
