"""Which Envoy Gateway policies reach a route, in which order, and policies without effect.

Targeting (FACTS.md §6, Envoy Gateway policy attachment): a BackendTrafficPolicy (BTP) or
ClientTrafficPolicy (CTP) names its targets with ``targetRef``, ``targetRefs[]`` or
``targetSelectors[]`` (``matchLabels`` on the target's labels). Targets are local references:
a policy reaches only objects of its own namespace.

Precedence (FACTS.md §6): a BTP on the xRoute beats a BTP on its Gateway, and a CTP on a
listener (``sectionName``) beats a Gateway-wide CTP. Envoy Gateway applies the more specific
policy *as a whole*: the Gateway's policy is skipped for a route that has its own (its
translator skips routes whose traffic features a route policy already set), unless the route
policy sets ``mergeType`` (then fields merge, the route's winning; U ⚠). Several policies on
the same target: Envoy Gateway keeps the oldest; tokenpath cannot see creation times and
keeps the first in input order (U ⚠).
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.lint.envoy.gwcore import Gateway, Listener, ParentRef, XRoute
from tokenpath.lint.envoy.gwobjects import AIGW_GROUP, GatewayObjects, read_gateway_objects
from tokenpath.lint.envoy.gwpolicy import BTP_KIND, TrafficPolicy
from tokenpath.lint.model import ObjectRef, qualified
from tokenpath.lint.objects import Objects, same_namespace

_TARGET_KINDS = ("Gateway", "HTTPRoute", "GRPCRoute")


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """A policy that takes no effect, and why."""

    policy: ObjectRef
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ParentGateway:
    """The Gateway a route attaches to, as far as the input tells."""

    name: str
    namespace: str
    gateway: Gateway | None  # None when the Gateway is not in the input
    listener: Listener | None  # the listener the route is served on, when known


@dataclass(frozen=True, slots=True)
class Layer:
    """Policies of one precedence level, and the ones they shadow as a whole."""

    policies: tuple[TrafficPolicy, ...]  # contributing, strongest first
    shadowed: tuple[tuple[TrafficPolicy, TrafficPolicy], ...] = ()  # (shadowed, by)


def parent_gateway(gw: GatewayObjects, route: XRoute, parent: ParentRef) -> ParentGateway:
    namespace = parent.namespace or route.ref.namespace
    gateway = next(
        (g for g in gw.gateways_named(parent.name) if same_namespace(g.ref.namespace, namespace)),
        None,
    )
    return ParentGateway(parent.name, namespace, gateway, _listener(gateway, parent, route))


def _listener(gateway: Gateway | None, parent: ParentRef, route: XRoute) -> Listener | None:
    """The listener named by ``sectionName``, else the first whose hostname admits one of the
    route's hostnames (or any listener when either side has none)."""
    if gateway is None:
        return None
    if parent.section_name:
        return next((x for x in gateway.listeners if x.name == parent.section_name), None)
    for listener in gateway.listeners:
        if not listener.hostname or not route.hostnames:
            return listener
        if any(_host_matches(listener.hostname, h) for h in route.hostnames):
            return listener
    return None


def _host_matches(listener: str, host: str) -> bool:
    if listener.startswith("*."):
        return host.endswith(listener[1:]) or host == listener
    return listener == host


def route_btps(gw: GatewayObjects, route: XRoute) -> tuple[TrafficPolicy, ...]:
    """BTPs on the xRoute itself. An AIGatewayRoute is served through the HTTPRoute Envoy AI
    Gateway generates under the same name, which is what a BTP targets."""
    kind = "HTTPRoute" if route.ref.kind == "AIGatewayRoute" else route.ref.kind
    return tuple(
        p
        for p in gw.policies_for(BTP_KIND, kind, route.ref.name)
        if same_namespace(p.ref.namespace, route.ref.namespace)
        and _targets(p, kind, route.ref.name, route.labels, section=None)
    )


def gateway_policies(
    gw: GatewayObjects, policy_kind: str, parent: ParentGateway
) -> tuple[tuple[TrafficPolicy, ...], tuple[TrafficPolicy, ...]]:
    """(policies on the route's listener, Gateway-wide policies) of ``policy_kind``."""
    labels = parent.gateway.labels if parent.gateway is not None else ()
    listener = parent.listener.name if parent.listener is not None else ""
    local = [
        p
        for p in gw.policies_for(policy_kind, "Gateway", parent.name)
        if same_namespace(p.ref.namespace, parent.namespace)
    ]
    on_listener = tuple(
        p
        for p in local
        if listener and _targets(p, "Gateway", parent.name, labels, section=listener)
    )
    gateway_wide = tuple(
        p
        for p in local
        if p not in on_listener and _targets(p, "Gateway", parent.name, labels, section="")
    )
    return on_listener, gateway_wide


def _targets(
    policy: TrafficPolicy,
    kind: str,
    name: str,
    labels: tuple[tuple[str, str], ...],
    section: str | None,
) -> bool:
    """Whether ``policy`` names the object; ``section`` "" = only section-less refs, a name =
    only refs to that section, None = either."""
    for target in policy.targets:
        if target.kind != kind or target.name != name:
            continue
        if section is None or target.section_name == section:
            return True
    if section:
        return False  # selectors select whole objects
    have = set(labels)
    return any(
        s.kind == kind and s.match_labels and set(s.match_labels) <= have for s in policy.selectors
    )


def layered(specific: tuple[TrafficPolicy, ...], general: tuple[TrafficPolicy, ...]) -> Layer:
    """Both levels in precedence order; ``general`` is shadowed as a whole by a ``specific``
    policy unless that one sets ``mergeType``."""
    if not specific:
        return Layer(general)
    winner = specific[0]
    if winner.merge_type:
        return Layer((*specific, *general))
    return Layer(specific, tuple((p, winner) for p in general))


def policy_problems(objects: Objects) -> list[PolicyProblem]:
    """BTPs and CTPs that take no effect.

    * A ``targetRef``/``targetRefs`` entry naming a Gateway, HTTPRoute or GRPCRoute that is
      not in the input. Reported only when the input holds at least one Gateway API object of
      the policy's namespace, so a policy file linted on its own is not noise. An HTTPRoute
      target is present when an AIGatewayRoute of that name is (it generates the HTTPRoute).
    * A Gateway-level BTP shadowed on every route of its Gateway by route-level BTPs (as a
      whole; with ``mergeType`` only when they set every field it sets).
    """
    gw, _ = objects.view(read_gateway_objects)
    named = _named(gw)
    problems: list[PolicyProblem] = []
    for policy in (*gw.btps, *gw.ctps):
        problems.extend(_missing_targets(named, policy))
    for policy in gw.btps:
        problem = _shadowed(gw, policy)
        if problem is not None:
            problems.append(problem)
    return problems


@dataclass(frozen=True, slots=True)
class _Named:
    """Namespaces of the Gateways and routes in the input: all of them, and per (kind, name);
    an AIGatewayRoute also counts as the HTTPRoute it generates."""

    namespaces: frozenset[str]
    by_name: dict[tuple[str, str], frozenset[str]]

    def has(self, namespace: str, key: tuple[str, str] | None = None) -> bool:
        found = self.namespaces if key is None else self.by_name.get(key, frozenset())
        # same_namespace: equal, or either side left open
        return bool(found) and (not namespace or namespace in found or "" in found)


def _named(gw: GatewayObjects) -> _Named:
    found = [("Gateway", g.ref.namespace, g.ref.name) for g in gw.gateways]
    for route in gw.routes:
        kind = "HTTPRoute" if route.ref.kind == "AIGatewayRoute" else route.ref.kind
        found.append((kind, route.ref.namespace, route.ref.name))
    by_name: dict[tuple[str, str], set[str]] = {}
    for kind, namespace, name in found:
        by_name.setdefault((kind, name), set()).add(namespace)
    return _Named(
        frozenset(ns for _, ns, _ in found),
        {key: frozenset(spaces) for key, spaces in by_name.items()},
    )


def _missing_targets(named: _Named, policy: TrafficPolicy) -> list[PolicyProblem]:
    namespace = policy.ref.namespace
    if not named.has(namespace):
        return []
    problems = []
    for target in policy.targets:
        if target.kind not in _TARGET_KINDS or target.group == AIGW_GROUP:
            continue
        if named.has(namespace, (target.kind, target.name)):
            continue
        problems.append(
            PolicyProblem(
                policy.ref,
                target.line,
                f"targets {target.kind} {qualified(namespace, target.name)}, which is not in "
                "the input",
            )
        )
    return problems


def _shadowed(gw: GatewayObjects, policy: TrafficPolicy) -> PolicyProblem | None:
    gateways = [t for t in policy.targets if t.kind == "Gateway" and not t.section_name]
    if not gateways:
        return None
    routes = [
        (route, parent)
        for route in gw.routes
        for parent in route.parent_refs
        if parent.kind == "Gateway"
        and any(
            g.name == parent.name
            and same_namespace(policy.ref.namespace, parent.namespace or route.ref.namespace)
            for g in gateways
        )
    ]
    if not routes:
        return None
    winners: list[TrafficPolicy] = []
    for route, _ in routes:
        own = route_btps(gw, route)
        if not own:
            return None
        if own[0].merge_type and not _covers(own, policy):
            return None
        winners.append(own[0])
    names = ", ".join(dict.fromkeys(qualified(p.ref.namespace, p.ref.name) for p in winners))
    gateway = qualified(policy.ref.namespace, gateways[0].name)
    return PolicyProblem(
        policy.ref,
        gateways[0].line,
        f"shadowed by BackendTrafficPolicy {names} on every route of Gateway {gateway}: "
        "Envoy Gateway applies the route's own policy instead (FACTS.md §6)",
    )


def _covers(own: tuple[TrafficPolicy, ...], policy: TrafficPolicy) -> bool:
    keys = {key for key, _ in policy.values}
    if policy.compression is not None:
        keys.add("compression")
    set_by_route = {key for p in own for key, _ in p.values}
    set_by_route |= {"compression" for p in own if p.compression is not None}
    return bool(keys) and keys <= set_by_route
