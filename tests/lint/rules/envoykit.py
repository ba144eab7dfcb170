"""Hand-built Envoy-family routes for rule unit tests: real YAML objects (HTTPRoute, HTTPProxy,
VirtualService, AIGatewayRoute, BackendTrafficPolicy), so fixes are real text edits, with
settings given explicitly, independent of the adapters' resolution."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from rulekit import load_object

from tokenpath.lint.envoy.values import envoy_defaults, field_source
from tokenpath.lint.model import (
    Controller,
    EnvoyRouteSettings,
    FixTarget,
    Ignored,
    ObjectRef,
    Ownership,
    Route,
    Setting,
    Source,
    SourceKind,
)
from tokenpath.lint.yamlnode import YNode

EG = Controller.ENVOY_GATEWAY
AIGW = Controller.ENVOY_AI_GATEWAY
ISTIO = Controller.ISTIO
CONTOUR = Controller.CONTOUR
ENVOY = Controller.ENVOY

GATEWAY_API = "gateway.networking.k8s.io/v1"
ENVOY_GATEWAY_API = "gateway.envoyproxy.io/v1alpha1"


def manifest(api_version: str, kind: str, name: str, spec: str) -> str:
    """The object ``kind``/ai/``name`` with ``spec`` (its lines, indented 2)."""
    return (
        f"apiVersion: {api_version}\nkind: {kind}\n"
        f"metadata:\n  name: {name}\n  namespace: ai\nspec:\n{spec}"
    )


# Templates: ``{rule}`` (or ``{http}``) is filled in at load time, so braces in YAML are doubled.
HTTPROUTE = manifest(
    GATEWAY_API,
    "HTTPRoute",
    "llm",
    """\
  parentRefs:
    - name: eg
  hostnames: [llm.example.com]
  rules:
    - matches:
        - path: {{type: PathPrefix, value: /v1}}
      backendRefs:
        - name: vllm  # the model server
          port: 8000
{rule}""",
)

AIGATEWAYROUTE = manifest(
    "aigateway.envoyproxy.io/v1alpha1",
    "AIGatewayRoute",
    "llm",
    """\
  parentRefs:
    - name: eg
  rules:
    - backendRefs:
        - name: vllm
{rule}""",
)

HTTPPROXY = manifest(
    "projectcontour.io/v1",
    "HTTPProxy",
    "llm",
    """\
  virtualhost:
    fqdn: llm.example.com
  routes:
    - conditions:
        - prefix: /v1
      services:
        - name: vllm
          port: 8000
{rule}""",
)

VIRTUALSERVICE = manifest(
    "networking.istio.io/v1",
    "VirtualService",
    "llm",
    """\
  hosts: [llm.example.com]
  http:
    - route:
        - destination:
            host: vllm
            port:
              number: 8000
{rule}""",
)

BTP = manifest(
    ENVOY_GATEWAY_API,
    "BackendTrafficPolicy",
    "timeouts",
    """\
  targetRefs:
    - group: gateway.networking.k8s.io
      kind: Gateway
      name: eg
  timeout:
    http:
{http}""",
)

# Where each kind's route map sits, and the fields the adapters name for fixes.
_ROUTE_MAPS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "HTTPRoute": (
        ("spec", "rules"),
        (
            ("route_timeout", ("timeouts", "request")),
            ("backend_timeout", ("timeouts", "backendRequest")),
        ),
    ),
    "AIGatewayRoute": (
        ("spec", "rules"),
        (
            ("route_timeout", ("timeouts", "request")),
            ("per_try_idle_timeout", ("streamIdleTimeout",)),
        ),
    ),
    "HTTPProxy": (
        ("spec", "routes"),
        (
            ("route_timeout", ("timeoutPolicy", "response")),
            ("idle_timeout", ("timeoutPolicy", "idle")),
        ),
    ),
    "VirtualService": (
        ("spec", "http"),
        (("route_timeout", ("timeout",)), ("backend_timeout", ("retries", "perTryTimeout"))),
    ),
}


def _indented(lines: str, by: str) -> str:
    return "".join(f"{by}{line}\n" for line in lines.splitlines())


def httproute(rule: str = "") -> ObjectRef:
    """An HTTPRoute; ``rule`` is extra YAML for its one rule, written at the rule's indent."""
    return load_object(HTTPROUTE.format(rule=_indented(rule, "      ")), "route.yaml")


def aigatewayroute(rule: str = "") -> ObjectRef:
    return load_object(AIGATEWAYROUTE.format(rule=_indented(rule, "      ")), "aigw.yaml")


def httpproxy(rule: str = "") -> ObjectRef:
    return load_object(HTTPPROXY.format(rule=_indented(rule, "      ")), "proxy.yaml")


def virtualservice(rule: str = "") -> ObjectRef:
    return load_object(VIRTUALSERVICE.format(rule=_indented(rule, "      ")), "vs.yaml")


def btp(http: str) -> ObjectRef:
    return load_object(BTP.format(http=_indented(http, "      ")), "btp.yaml")


def route_map(obj: ObjectRef) -> YNode:
    """The first rule / route / http entry of a route object."""
    assert obj.node is not None
    keys, _ = _ROUTE_MAPS[obj.kind]
    entries = obj.node.path(*keys)
    assert entries is not None
    return entries.elements[0]


def fix_target(obj: ObjectRef) -> FixTarget:
    return FixTarget(obj=obj, node=route_map(obj), paths=_ROUTE_MAPS[obj.kind][1])


def at(obj: ObjectRef, *keys: str) -> Source:
    """The source of the value at ``keys`` below the object's first route map (or, for a
    policy, below ``spec``)."""
    base = route_map(obj) if obj.kind in _ROUTE_MAPS else obj.node
    assert base is not None
    node = base.path(*keys) if obj.kind in _ROUTE_MAPS else base.path("spec", *keys)
    assert node is not None, keys
    return field_source(obj, ".".join(keys), node)


def written(value: Any, source: Source) -> Setting[Any]:
    assert source.node is not None
    return Setting(value=value, source=source, raw=source.node.value)


def ignored(fallback: Setting[Any], source: Source, reason: str) -> Setting[Any]:
    """``fallback`` in effect, with the value at ``source`` written but ignored."""
    assert source.node is not None
    entry = Ignored(source=source, raw=source.node.value, reason=reason)
    return dataclasses.replace(fallback, ignored=(*fallback.ignored, entry))


def defaults(controller: Controller) -> EnvoyRouteSettings:
    """What each controller leaves when nothing is set (FACTS.md §5-§9)."""
    base = envoy_defaults(str(controller))
    if controller is ISTIO:
        no_timeout = Setting(math.inf, Source(SourceKind.DEFAULT, "", detail="Istio sets none"))
        return dataclasses.replace(base, route_timeout=no_timeout)
    if controller is AIGW:
        aigw = Setting(60.0, Source(SourceKind.DEFAULT, "", detail="AIGatewayRoute default 60s"))
        return dataclasses.replace(base, route_timeout=aigw)
    return base


def route(obj: ObjectRef, controller: Controller = EG, **overrides: Any) -> Route[Any]:
    """An LLM route of ``obj`` (its first route map) with ``controller``'s defaults."""
    settings = dataclasses.replace(defaults(controller), fix_target=fix_target(obj), **overrides)
    return Route(
        obj=obj,
        host="llm.example.com",
        path="/v1",
        service="vllm",
        port="8000",
        workload=None,
        images=("vllm/vllm-openai:v0.6.3",),
        owner=Ownership(controller=controller, version="", reason="test"),
        llm_reason="test",
        settings=settings,
        line=route_map(obj).span.line,
    )
