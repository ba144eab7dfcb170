"""The Envoy family of the lint model: Gateway API routes served by Envoy Gateway, Istio or
Contour; Envoy AI Gateway routes; Istio VirtualServices; Contour HTTPProxies; raw Envoy
bootstrap files. Each becomes a ``Route[EnvoyRouteSettings]`` with the values the Envoy it
runs on ends up with, and where each came from (FACTS.md §4-§9)."""

from __future__ import annotations

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.bootstrap import bootstrap_routes
from tokenpath.lint.envoy.contour import contour_routes
from tokenpath.lint.envoy.gateway import gateway_routes
from tokenpath.lint.envoy.istio import virtual_service_routes
from tokenpath.lint.model import Controller, EnvoyRoute
from tokenpath.lint.objects import Objects


def build_envoy_routes(
    objects: Objects, *, controller_hint: Controller | None
) -> tuple[list[EnvoyRoute], list[InputError]]:
    """Every Envoy-family route of the input (LLM or not), and input problems found on the
    way. ``controller_hint`` names the Gateway API implementation when the input has no
    GatewayClass for a route's Gateway."""
    routes: list[EnvoyRoute] = []
    errors: list[InputError] = []
    for build in (gateway_routes, virtual_service_routes, contour_routes, bootstrap_routes):
        found, problems = build(objects, controller_hint)
        routes.extend(found)
        errors.extend(problems)
    return routes, errors
