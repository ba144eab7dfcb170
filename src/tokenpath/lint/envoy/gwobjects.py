"""The Gateway API family objects of the input, read from ``Objects.others`` field by field:
Gateway API core kinds (``gwcore``), Envoy Gateway policies (``gwpolicy``), Envoy AI Gateway
and Inference Extension kinds (``gwinference``).

A malformed field (a list where a map belongs, a map where a string belongs) is an
``InputError`` with file:line and reads as absent; nothing here raises. Values whose syntax
only the implementation checks (durations, quantities) are kept as written, with their node,
so the settings code can record an unparsable one as ``Ignored`` with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    classes: tuple[GatewayClass, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    routes: tuple[XRoute, ...] = ()
    grants: tuple[ReferenceGrant, ...] = ()
    btps: tuple[TrafficPolicy, ...] = ()
    ctps: tuple[TrafficPolicy, ...] = ()
    ai_backends: tuple[AIServiceBackend, ...] = ()
    pools: tuple[InferencePool, ...] = ()


def read_gateway_objects(objects: Objects) -> tuple[GatewayObjects, list[InputError]]:
    """The Gateway API family objects of the input, in input order."""
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
    return result, list(dict.fromkeys(reader.errors))


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
