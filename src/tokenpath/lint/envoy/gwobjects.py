"""Typed Gateway API, Envoy Gateway, Envoy AI Gateway and Inference Extension objects, read
from ``Objects.others`` field by field.

A malformed field (a list where a map belongs, a map where a string belongs) is an
``InputError`` with file:line and reads as absent; nothing here raises. Values whose syntax
only the implementation checks (durations, quantities) are kept as written, with their node,
so the settings code can record an unparsable one as ``Ignored`` with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenpath.lint.document import InputError
from tokenpath.lint.fields import FieldReader
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.objects import Entry, Objects
from tokenpath.lint.yamlnode import YNode

GATEWAY_GROUP = "gateway.networking.k8s.io"
EG_GROUP = "gateway.envoyproxy.io"
AIGW_GROUP = "aigateway.envoyproxy.io"
INFERENCE_GROUPS = ("inference.networking.k8s.io", "inference.networking.x-k8s.io")
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "AIGatewayRoute")
BTP_KIND = "BackendTrafficPolicy"
CTP_KIND = "ClientTrafficPolicy"


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


@dataclass(frozen=True, slots=True)
class AIServiceBackend:
    ref: ObjectRef
    backend: BackendRef | None


@dataclass(frozen=True, slots=True)
class InferencePool:
    ref: ObjectRef
    selector: tuple[tuple[str, str], ...]
    ports: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GatewayObjects:
    classes: tuple[GatewayClass, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    routes: tuple[XRoute, ...] = ()
    grants: tuple[ReferenceGrant, ...] = ()
    btps: tuple[TrafficPolicy, ...] = ()
    ctps: tuple[TrafficPolicy, ...] = ()
    ai_backends: tuple[AIServiceBackend, ...] = ()
    pools: tuple[InferencePool, ...] = ()


_BTP_FIELDS = (
    "timeout.http.requestTimeout",
    "timeout.http.streamIdleTimeout",
    "timeout.http.maxStreamDuration",
    "connection.bufferLimit",
    "requestBuffer.limit",
)
_CTP_FIELDS = (
    "timeout.http.streamIdleTimeout",
    "timeout.http.idleTimeout",
    "connection.bufferLimit",
)


def read_gateway_objects(objects: Objects) -> tuple[GatewayObjects, list[InputError]]:
    """The Gateway API family objects of the input, in input order."""
    reader = _Reader()
    items: list[object] = []
    for ref in objects.others:
        if ref.node is None:
            continue
        reader.file, reader.obj = ref.file, str(ref)
        item = reader.read(ref, ref.node)
        if item is not None:
            items.append(item)
    result = GatewayObjects(
        classes=tuple(i for i in items if isinstance(i, GatewayClass)),
        gateways=tuple(i for i in items if isinstance(i, Gateway)),
        routes=tuple(i for i in items if isinstance(i, XRoute)),
        grants=tuple(i for i in items if isinstance(i, ReferenceGrant)),
        btps=tuple(i for i in items if isinstance(i, TrafficPolicy) and i.ref.kind == BTP_KIND),
        ctps=tuple(i for i in items if isinstance(i, TrafficPolicy) and i.ref.kind == CTP_KIND),
        ai_backends=tuple(i for i in items if isinstance(i, AIServiceBackend)),
        pools=tuple(i for i in items if isinstance(i, InferencePool)),
    )
    # A malformed map shared by several fields (``timeout``) is reported once.
    return result, list(dict.fromkeys(reader.errors))


def api_group(root: YNode) -> str:
    api_version = root.get("apiVersion")
    text = api_version.text() if api_version is not None else None
    return (text or "").partition("/")[0] if "/" in (text or "") else ""


class _Reader(FieldReader):
    """Reads each kind along its CRD schema with the generic shapes of ``FieldReader``."""

    def read(self, ref: ObjectRef, root: YNode) -> object | None:
        group = api_group(root)
        kind = ref.kind
        if group == GATEWAY_GROUP and kind == "GatewayClass":
            return self.gateway_class(ref, root)
        if group == GATEWAY_GROUP and kind == "Gateway":
            return self.gateway(ref, root)
        if (group == GATEWAY_GROUP and kind in ROUTE_KINDS[:2]) or (
            group == AIGW_GROUP and kind == "AIGatewayRoute"
        ):
            return self.route(ref, root)
        if group == GATEWAY_GROUP and kind == "ReferenceGrant":
            return self.grant(ref, root)
        if group == EG_GROUP and kind == BTP_KIND:
            return self.policy(ref, root, _BTP_FIELDS)
        if group == EG_GROUP and kind == CTP_KIND:
            return self.policy(ref, root, _CTP_FIELDS)
        if group == AIGW_GROUP and kind == "AIServiceBackend":
            spec = self.map(root.get("spec"), "spec")
            backend = spec.get("backendRef") if spec is not None else None
            return AIServiceBackend(ref, self.backend_ref(backend, "spec.backendRef"))
        if group in INFERENCE_GROUPS and kind == "InferencePool":
            return self.pool(ref, root)
        return None

    def labels_of(self, root: YNode) -> tuple[tuple[str, str], ...]:
        meta = self.map(root.get("metadata"), "metadata")
        return self.labels(meta.get("labels"), "metadata.labels") if meta is not None else ()

    def annotations_of(self, root: YNode) -> tuple[Entry, ...]:
        meta = self.map(root.get("metadata"), "metadata")
        if meta is None:
            return ()
        return self.string_map(meta.get("annotations"), "metadata.annotations")

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
            match = self.map(match_node, f"{where}.matches[{i}]")
            if match is not None:
                path = self.grpc_path(match, f"{where}.matches[{i}]") if kind == "GRPCRoute" else ""
                if kind != "GRPCRoute":
                    path_map = self.map(match.get("path"), f"{where}.matches[{i}].path")
                    if path_map is not None:
                        path = self.text(path_map.get("value"), f"{where}.matches[{i}].path.value")
                        self.text(path_map.get("type"), f"{where}.matches[{i}].path.type")
                matches.append(Match(path=path, line=match.span.line))
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
