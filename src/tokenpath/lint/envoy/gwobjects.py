"""The Gateway API family objects of the input, read from ``Objects.others`` field by field:
Gateway API core kinds (``gwcore``), Envoy Gateway policies (``gwpolicy``), Envoy AI Gateway
and Inference Extension kinds (``gwinference``).

A malformed field (a list where a map belongs, a map where a string belongs) is an
``InputError`` with file:line and reads as absent; nothing here raises. Values whose syntax
only the implementation checks (durations, quantities) are kept as written, with their node,
so the settings code can record an unparsable one as ``Ignored`` with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.gwcore import (
    Gateway,
    GatewayClass,
    ReferenceGrant,
    XRoute,
)
from tokenpath.lint.envoy.gwinference import AIServiceBackend, InferencePool, InferenceReader
from tokenpath.lint.envoy.gwpolicy import (
    BTP_FIELDS,
    BTP_KIND,
    CTP_FIELDS,
    CTP_KIND,
    PolicyReader,
    TrafficPolicy,
)
from tokenpath.lint.envoy.reader import api_group
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.objects import Objects
from tokenpath.lint.yamlnode import YNode

GATEWAY_GROUP = "gateway.networking.k8s.io"
EG_GROUP = "gateway.envoyproxy.io"
AIGW_GROUP = "aigateway.envoyproxy.io"
INFERENCE_GROUPS = ("inference.networking.k8s.io", "inference.networking.x-k8s.io")
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "AIGatewayRoute")


@dataclass(frozen=True, slots=True)
class GatewayObjects:
    """The family's objects by kind, in input order, with the indexes policy targeting and
    parent lookups go through (built once, so thousands of routes and policies stay linear)."""

    classes: tuple[GatewayClass, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    routes: tuple[XRoute, ...] = ()
    grants: tuple[ReferenceGrant, ...] = ()
    btps: tuple[TrafficPolicy, ...] = ()
    ctps: tuple[TrafficPolicy, ...] = ()
    ai_backends: tuple[AIServiceBackend, ...] = ()
    pools: tuple[InferencePool, ...] = ()
    # (policy kind, target kind, target name) -> policies naming it, in input order
    _by_target: dict[tuple[str, str, str], list[TrafficPolicy]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _selecting: dict[str, list[TrafficPolicy]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )  # policy kind -> policies with targetSelectors
    _gateways: dict[str, list[Gateway]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _position: dict[int, int] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )  # id(policy) -> its position in the input

    def __post_init__(self) -> None:
        for position, policy in enumerate((*self.btps, *self.ctps)):
            self._position[id(policy)] = position
            kind = policy.ref.kind
            names = dict.fromkeys((kind, t.kind, t.name) for t in policy.targets)
            for key in names:
                self._by_target.setdefault(key, []).append(policy)
            if policy.selectors:
                self._selecting.setdefault(kind, []).append(policy)
        for gateway in self.gateways:
            self._gateways.setdefault(gateway.ref.name, []).append(gateway)

    def policies_for(self, policy_kind: str, kind: str, name: str) -> tuple[TrafficPolicy, ...]:
        """Policies of ``policy_kind`` that may target ``kind``/``name``: those naming it and
        those with selectors (the caller checks namespaces, sections and labels), in input
        order."""
        named = self._by_target.get((policy_kind, kind, name), [])
        selecting = self._selecting.get(policy_kind, [])
        if not selecting:
            return tuple(named)
        order = {
            id(p): i for i, p in enumerate(self.btps if policy_kind == BTP_KIND else self.ctps)
        }
        merged = {id(p): p for p in (*named, *selecting)}
        return tuple(sorted(merged.values(), key=lambda p: order[id(p)]))

    def gateways_named(self, name: str) -> tuple[Gateway, ...]:
        return tuple(self._gateways.get(name, ()))


def read_gateway_objects(objects: Objects) -> tuple[GatewayObjects, tuple[InputError, ...]]:
    """The Gateway API family objects of the input, in input order (read through
    ``objects.view`` by the adapter and the policy rule alike, so only once)."""
    reader = _Reader()
    items: list[object] = []
    for ref in objects.others:
        if ref.node is None:
            continue
        reader.at(ref)
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
    return result, tuple(dict.fromkeys(reader.errors))


class _Reader(PolicyReader, InferenceReader):
    """Reads each kind of the family with the reader of its module."""

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
            return self.policy(ref, root, BTP_FIELDS)
        if group == EG_GROUP and kind == CTP_KIND:
            return self.policy(ref, root, CTP_FIELDS)
        if group == AIGW_GROUP and kind == "AIServiceBackend":
            return self.ai_backend(ref, root)
        if group in INFERENCE_GROUPS and kind == "InferencePool":
            return self.pool(ref, root)
        return None
