"""Gateway API routes served by an Envoy-family implementation: HTTPRoute and GRPCRoute on
Envoy Gateway, Istio or Contour; AIGatewayRoute on Envoy AI Gateway; InferencePool backends
(Gateway API Inference Extension).

One ``Route`` per (hostname x rule x match) and parent Gateway. The implementation comes from
the parent Gateway's GatewayClass ``controllerName``; when the input lacks the Gateway or the
GatewayClass, from ``controller_hint``. Routes of other implementations (kgateway, GKE, ...)
give no route and no error. Effective settings: ``tokenpath.lint.envoy.gwsettings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.envoyfilter import Proxies, apply_envoy_filters
from tokenpath.lint.envoy.envoypatches import EnvoyFilter, read_envoy_filters
from tokenpath.lint.envoy.gwcore import BackendRef, Rule, XRoute
from tokenpath.lint.envoy.gwinference import InferencePool
from tokenpath.lint.envoy.gwobjects import (
    AIGW_GROUP,
    GATEWAY_GROUP,
    INFERENCE_GROUPS,
    GatewayObjects,
    read_gateway_objects,
)
from tokenpath.lint.envoy.gwpolicy import BTP_KIND, CTP_KIND
from tokenpath.lint.envoy.gwrule import RuleContext
from tokenpath.lint.envoy.gwsettings import rule_settings
from tokenpath.lint.envoy.policies import (
    ParentGateway,
    gateway_policies,
    layered,
    parent_gateway,
    route_btps,
)
from tokenpath.lint.llm import STREAMING_ANNOTATION, llm_reason
from tokenpath.lint.model import Controller, EnvoyRoute, Ownership, Route, qualified
from tokenpath.lint.objects import (
    Backend,
    Objects,
    Service,
    Workload,
    images_of,
    same_namespace,
)
from tokenpath.lint.routes import resolve_backend

EG_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"
ISTIO_CONTROLLER = "istio.io/gateway-controller"
CONTOUR_PREFIX = "projectcontour.io/"
_HINTS = (Controller.ENVOY_GATEWAY, Controller.ISTIO, Controller.CONTOUR)
AIGW_REASON = "AIGatewayRoute (Envoy AI Gateway serves OpenAI-compatible LLM APIs)"


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a rule's first backendRef leads."""

    service: str  # the name as written (Service, InferencePool or EG Backend)
    port: str
    found: Service | None
    workloads: tuple[Workload, ...]
    ports: tuple[int, ...]
    pool: BackendRef | None = None  # an InferencePool backendRef
    pool_name: str = ""  # "ns/name" of that pool
    note: str = ""  # why the backend is left unresolved


def gateway_routes(
    objects: Objects, controller_hint: Controller | None
) -> tuple[list[EnvoyRoute], list[InputError]]:
    """Every Envoy-family Gateway API route of the input (LLM or not) and input errors of
    malformed Gateway API objects."""
    gw, errors = objects.view(read_gateway_objects)
    # EnvoyFilters reach the Envoy of an Istio Gateway too; their input errors are reported
    # once, by the VirtualService adapter.
    filters, _ = objects.view(read_envoy_filters)
    hint = controller_hint if controller_hint in _HINTS else None
    routes: list[EnvoyRoute] = []
    for route in gw.routes:
        seen: set[tuple[str, str]] = set()
        for parent_ref in route.parent_refs:
            if parent_ref.kind != "Gateway":
                continue
            parent = parent_gateway(gw, route, parent_ref)
            if (parent.namespace, parent.name) in seen:
                continue
            seen.add((parent.namespace, parent.name))
            owner = _owner(gw, route, parent, hint)
            if owner is not None:
                routes.extend(_routes(objects, gw, filters, route, parent, owner))
    return routes, list(errors)


def controller_of(controller_name: str) -> Controller | None:
    if controller_name == EG_CONTROLLER:
        return Controller.ENVOY_GATEWAY
    if controller_name == ISTIO_CONTROLLER:
        return Controller.ISTIO
    if controller_name.startswith(CONTOUR_PREFIX):
        return Controller.CONTOUR
    return None


def _owner(
    gw: GatewayObjects, route: XRoute, parent: ParentGateway, hint: Controller | None
) -> Ownership | None:
    where = f"parentRef Gateway {qualified(parent.namespace, parent.name)}"
    ai = route.ref.kind == "AIGatewayRoute"
    if parent.gateway is None:
        if ai:
            return _ai_owner(f"{where} (not in the input)", "")
        if hint is None:
            return None
        return Ownership(hint, "", f"{where} not in the input; --controller {hint}")
    class_name = parent.gateway.class_name
    found = next((c for c in gw.classes if c.ref.name == class_name), None)
    if found is None:
        if ai:
            return _ai_owner(f"{where} -> GatewayClass {class_name} (not in the input)", class_name)
        if hint is None:
            return None
        reason = f"{where} -> GatewayClass {class_name} not in the input; --controller {hint}"
        return Ownership(hint, "", reason, class_name=class_name)
    controller = controller_of(found.controller_name)
    reason = f"{where} -> GatewayClass {class_name} (controllerName {found.controller_name})"
    if ai:
        # Envoy AI Gateway extends Envoy Gateway only; on another implementation it is inert.
        return _ai_owner(reason, class_name) if controller is Controller.ENVOY_GATEWAY else None
    if controller is None:
        return None
    return Ownership(controller, "", reason, class_name=class_name)


def _ai_owner(reason: str, class_name: str) -> Ownership:
    return Ownership(
        Controller.ENVOY_AI_GATEWAY,
        "",
        f"AIGatewayRoute on Envoy Gateway: {reason}",
        class_name=class_name,
    )


def _routes(
    objects: Objects,
    gw: GatewayObjects,
    filters: Sequence[EnvoyFilter],
    route: XRoute,
    parent: ParentGateway,
    owner: Ownership,
) -> list[EnvoyRoute]:
    on_listener, gateway_wide = gateway_policies(gw, BTP_KIND, parent)
    btp = layered(route_btps(gw, route), (*on_listener, *gateway_wide))
    ctp = layered(*gateway_policies(gw, CTP_KIND, parent))
    hosts = route.hostnames or (parent.listener.hostname if parent.listener else "",)
    found: list[EnvoyRoute] = []
    for index, rule in enumerate(route.rules):
        target = _target(objects, gw, route, rule)
        ctx = RuleContext(
            owner.controller, route, rule, f"spec.rules[{index}]", btp, ctp, target.pool
        )
        settings = rule_settings(ctx)
        if owner.controller is Controller.ISTIO:
            gateway = Proxies(gateway_namespaces=(parent.namespace,), sidecars=False)
            settings = apply_envoy_filters(settings, filters, route.ref.namespace, proxies=gateway)
        matches = [(m.path or "/", m.line) for m in rule.matches] or [("/", rule.line)]
        # The LLM evidence depends on the path and the backend, not on the host.
        reasons = {path: _llm_reason(route, path, target) for path, _ in matches}
        for host in hosts:
            for path, line in matches:
                found.append(
                    Route(
                        obj=route.ref,
                        host=host,
                        path=path,
                        service=target.service,
                        port=target.port,
                        workload=target.workloads[0].ref if target.workloads else None,
                        images=images_of(target.workloads),
                        owner=owner,
                        llm_reason=reasons[path],
                        settings=settings,
                        line=line,
                    )
                )
    return found


def _llm_reason(route: XRoute, path: str, target: _Target) -> str:
    """AIGatewayRoute always serves LLM APIs; an InferencePool backend is an LLM backend when
    nothing stronger says so. The user's ``tokenpath.dev/streaming: "false"`` excludes both."""
    mark = next((e for e in route.annotations if e.key == STREAMING_ANNOTATION), None)
    if mark is not None and mark.value.strip().lower() in ("false", "no", "off", "0"):
        return ""
    if route.ref.kind == "AIGatewayRoute":
        reason = AIGW_REASON
    else:
        reason = llm_reason(
            route.annotations, str(route.ref), path, target.found, target.workloads, target.ports
        )
        if not reason and target.pool is not None:
            reason = f"backend InferencePool {target.pool_name} (Gateway API Inference Extension)"
    if reason and target.note:
        reason = f"{reason}; {target.note}"
    return reason


def _target(objects: Objects, gw: GatewayObjects, route: XRoute, rule: Rule) -> _Target:
    if not rule.backend_refs:
        return _Target("", "", None, (), ())
    ref = rule.backend_refs[0]
    ai = route.ref.kind == "AIGatewayRoute"
    namespace = ref.namespace or route.ref.namespace
    is_pool = ref.group in INFERENCE_GROUPS or ref.kind == "InferencePool"
    kind = "InferencePool" if is_pool else ref.kind or ("AIServiceBackend" if ai else "Service")
    note = _grant_note(gw, route, ref, kind, namespace)
    if note:
        return _Target(ref.name, ref.port, None, (), (), note=note)
    if is_pool:
        return _pool_target(objects, gw, ref, namespace)
    if kind == "AIServiceBackend":
        backend = next(
            (
                b
                for b in gw.ai_backends
                if b.ref.name == ref.name and same_namespace(b.ref.namespace, namespace)
            ),
            None,
        )
        if backend is None or backend.backend is None:
            return _Target(ref.name, ref.port, None, (), ())
        inner = backend.backend
        if inner.kind not in ("", "Service"):  # an Envoy Gateway Backend (external address)
            return _Target(inner.name, inner.port, None, (), ())
        namespace, ref = inner.namespace or backend.ref.namespace, inner
    elif kind != "Service":
        return _Target(ref.name, ref.port, None, (), ())
    found = resolve_backend(objects, namespace, Backend(ref.name, ref.port, ref.line))
    return _Target(ref.name, ref.port, found.service, found.workloads, found.ports)


def _pool_target(objects: Objects, gw: GatewayObjects, ref: BackendRef, namespace: str) -> _Target:
    pool: InferencePool | None = next(
        (
            p
            for p in gw.pools
            if p.ref.name == ref.name and same_namespace(p.ref.namespace, namespace)
        ),
        None,
    )
    name = qualified(namespace, ref.name)
    if pool is None or not pool.selector:
        return _Target(ref.name, ref.port, None, (), (), pool=ref, pool_name=name)
    wanted = set(pool.selector)
    workloads = tuple(
        w
        for w in objects.workloads
        if same_namespace(w.ref.namespace, pool.ref.namespace) and wanted <= set(w.pod_labels)
    )
    port = str(pool.ports[0]) if pool.ports else ref.port
    return _Target(ref.name, port, None, workloads, pool.ports, pool=ref, pool_name=name)


def _grant_note(
    gw: GatewayObjects, route: XRoute, ref: BackendRef, kind: str, namespace: str
) -> str:
    """Why a cross-namespace backendRef does not resolve, or "": Gateway API lets a route
    reach another namespace only through a ReferenceGrant in the target's namespace."""
    if not ref.namespace or same_namespace(ref.namespace, route.ref.namespace):
        return ""
    from_group = AIGW_GROUP if route.ref.kind == "AIGatewayRoute" else GATEWAY_GROUP
    to_group = ref.group or (AIGW_GROUP if kind == "AIServiceBackend" else "")
    for grant in gw.grants:
        if grant.ref.namespace != namespace:
            continue
        allowed_from = any(
            g == from_group and k == route.ref.kind and ns == route.ref.namespace
            for g, k, ns in grant.grants_from
        )
        allowed_to = any(
            g == to_group and k == kind and name in ("", ref.name) for g, k, name in grant.grants_to
        )
        if allowed_from and allowed_to:
            return ""
    return (
        f"backend {kind} {namespace}/{ref.name} left unresolved: no ReferenceGrant in "
        f"namespace {namespace} allows {route.ref.kind} from namespace {route.ref.namespace}"
    )
