"""Effective Envoy settings of one Gateway API route rule, per implementation.

* Envoy Gateway and Envoy AI Gateway: ``tokenpath.lint.envoy.eg`` (FACTS.md §4, §6, §9).
* Istio and Contour serving HTTPRoutes: here (FACTS.md §4, §7, §8); Envoy Gateway policies
  do not apply.

Every value carries its source; a value that does not parse is an ``Ignored`` with the reason,
and the value it would have replaced stays (or, on Envoy Gateway, becomes 15 s: §6 rule 4).
"""

from __future__ import annotations

import math
from dataclasses import replace

from tokenpath.lint.envoy.eg import eg_settings
from tokenpath.lint.envoy.gwrule import RuleContext, rule_timeout
from tokenpath.lint.envoy.values import (
    default,
    envoy_defaults,
    envoy_idle_default,
    fact_detail,
    fact_seconds,
)
from tokenpath.lint.model import Controller, EnvoyRouteSettings, FixTarget


def rule_settings(ctx: RuleContext) -> EnvoyRouteSettings:
    """The effective settings of the rule's routes on ``ctx.controller``."""
    match ctx.controller:
        case Controller.ISTIO | Controller.CONTOUR:
            settings = _gateway_api_only(ctx)
        case _:
            settings = eg_settings(ctx)
    return replace(settings, fix_target=_fix_target(ctx))


def _fix_target(ctx: RuleContext) -> FixTarget | None:
    route_timeout = ("route_timeout", ("timeouts", "request"))
    if ctx.route.ref.kind == "HTTPRoute":
        backend = ("backend_timeout", ("timeouts", "backendRequest"))
        return FixTarget(obj=ctx.route.ref, node=ctx.rule.node, paths=(route_timeout, backend))
    if ctx.route.ref.kind == "AIGatewayRoute":
        return FixTarget(obj=ctx.route.ref, node=ctx.rule.node, paths=(route_timeout,))
    return None  # GRPCRoute v1 has no timeouts (FACTS.md §4)


def _gateway_api_only(ctx: RuleContext) -> EnvoyRouteSettings:
    """HTTPRoute ``timeouts`` as Istio or Contour map them (FACTS.md §4, §7, §8); Envoy
    Gateway policies do not apply."""
    start = envoy_defaults(ctx.controller.value)
    if ctx.controller is Controller.ISTIO:
        route = default(math.inf, fact_detail(Controller.ISTIO, "http.timeout"))
        idle = envoy_idle_default("Istio sets no route idle timeout: ")
    else:
        key = "httproute.timeouts.request"
        route = default(fact_seconds(Controller.CONTOUR, key), fact_detail(Controller.CONTOUR, key))
        idle = envoy_idle_default("Contour sets no route idle timeout: ")
    rule = ctx.rule
    if rule.request is not None:
        route = rule_timeout(ctx, route, "timeouts.request", rule.request)
    backend = start.backend_timeout
    if rule.backend_request is not None:
        backend = rule_timeout(ctx, backend, "timeouts.backendRequest", rule.backend_request)
    return replace(start, route_timeout=route, idle_timeout=idle, backend_timeout=backend)
