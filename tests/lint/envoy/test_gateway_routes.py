"""Gateway API routes of the Envoy family: which implementation serves an HTTPRoute, GRPCRoute
or AIGatewayRoute, the host + path -> backend -> workload graph (Services, AIServiceBackends,
InferencePools, ReferenceGrants), LLM reasons, and malformed objects as InputErrors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gatewaykit import (
    FILE,
    eg_stack,
    gateway,
    gateway_class,
    http_route,
    line_of,
    load,
    routes_of,
    service_and_deployment,
)

from tokenpath.lint.document import SourceText
from tokenpath.lint.envoy.gateway import gateway_routes
from tokenpath.lint.model import Controller, ObjectRef
from tokenpath.lint.pipeline import LintOptions, lint_sources


def test_http_route_on_envoy_gateway_gives_one_route_per_match() -> None:
    text = eg_stack() + http_route()
    routes, errors = routes_of(text)
    assert errors == []
    [route] = routes
    assert route.owner.controller is Controller.ENVOY_GATEWAY
    assert route.owner.reason == (
        "parentRef Gateway ai/eg -> GatewayClass eg "
        "(controllerName gateway.envoyproxy.io/gatewayclass-controller)"
    )
    assert route.owner.class_name == "eg"
    assert (route.host, route.path, route.service, route.port) == (
        "llm.example.com",
        "/v1/chat/completions",
        "vllm",
        "8000",
    )
    assert route.workload is not None
    assert str(route.workload) == "Deployment/ai/vllm"
    assert route.images == ("vllm/vllm-openai:v0.6.3",)
    assert route.llm_reason == "image vllm/vllm-openai:v0.6.3 of Deployment/ai/vllm (vLLM)"
    assert route.line == line_of(text, "- path: {type: PathPrefix")
    assert isinstance(route.obj, ObjectRef)
    assert str(route.obj) == "HTTPRoute/ai/chat"


def test_hostnames_times_rules_times_matches() -> None:
    extra = (
        "    - matches:\n"
        "        - path: {type: PathPrefix, value: /a}\n"
        "        - path: {type: PathPrefix, value: /b}\n"
        "      backendRefs: [{name: vllm, port: 8000}]\n"
        "    - backendRefs: [{name: vllm, port: 8000}]\n"
    )
    text = eg_stack() + http_route(
        extra_rule=extra, hostnames='  hostnames: ["a.example.com", "b.example.com"]\n'
    )
    routes, _ = routes_of(text)
    labels = [r.label() for r in routes]
    assert labels == [
        "a.example.com/v1/chat/completions",
        "b.example.com/v1/chat/completions",
        "a.example.com/a",
        "a.example.com/b",
        "b.example.com/a",
        "b.example.com/b",
        "a.example.com/",
        "b.example.com/",
    ]
    # A rule without matches: the route's line is the rule's.
    assert routes[-1].line == line_of(text, "    - backendRefs: [{name: vllm")


def test_no_hostnames_fall_back_to_the_listener_hostname() -> None:
    listeners = (
        "    - name: https\n      protocol: HTTPS\n      port: 443\n"
        "      hostname: api.example.com\n"
    )
    text = (
        gateway_class()
        + gateway(listeners=listeners)
        + service_and_deployment()
        + http_route(hostnames="", parent="{name: eg, sectionName: https}")
    )
    [route], _ = routes_of(text)
    assert route.host == "api.example.com"


def test_no_hostname_anywhere_is_any_host() -> None:
    text = eg_stack() + http_route(hostnames="")
    [route], _ = routes_of(text)
    assert route.host == ""
    assert route.label() == "*/v1/chat/completions"


def test_istio_and_contour_controller_names() -> None:
    for controller, expected in (
        ("istio.io/gateway-controller", Controller.ISTIO),
        ("projectcontour.io/gateway-controller", Controller.CONTOUR),
    ):
        text = (
            gateway_class("c", controller)
            + gateway(cls="c")
            + service_and_deployment()
            + http_route()
        )
        [route], _ = routes_of(text)
        assert route.owner.controller is expected
        assert f"(controllerName {controller})" in route.owner.reason


def test_unknown_controller_name_gives_no_route_and_no_error() -> None:
    for controller in ("kgateway.dev/kgateway", "gke.io/gateway"):
        text = gateway_class("x", controller) + gateway(cls="x") + http_route()
        routes, errors = routes_of(text, Controller.ENVOY_GATEWAY)
        assert routes == []
        assert errors == []


def test_missing_gateway_uses_the_hint() -> None:
    text = service_and_deployment() + http_route()
    assert routes_of(text) == ([], [])
    [route], _ = routes_of(text, Controller.ISTIO)
    assert route.owner.controller is Controller.ISTIO
    assert route.owner.reason == "parentRef Gateway ai/eg not in the input; --controller istio"


def test_missing_gateway_class_uses_the_hint() -> None:
    text = gateway(cls="mystery") + service_and_deployment() + http_route()
    assert routes_of(text)[0] == []
    [route], _ = routes_of(text, Controller.CONTOUR)
    assert route.owner.controller is Controller.CONTOUR
    assert route.owner.class_name == "mystery"
    assert "GatewayClass mystery not in the input; --controller contour" in route.owner.reason


def test_a_hint_of_another_family_is_not_used() -> None:
    text = service_and_deployment() + http_route()
    assert routes_of(text, Controller.INGRESS_NGINX)[0] == []
    assert routes_of(text, Controller.ENVOY)[0] == []


def test_route_with_another_parent_kind_gives_no_route() -> None:
    text = eg_stack() + http_route(parent="{name: svc, kind: Service, group: ''}")
    assert routes_of(text, Controller.ENVOY_GATEWAY)[0] == []


def test_grpc_route_methods_become_paths() -> None:
    text = eg_stack() + (
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\n"
        "metadata:\n  name: grpc\n  namespace: ai\n"
        "spec:\n  parentRefs: [{name: eg}]\n  rules:\n"
        "    - matches:\n"
        "        - method: {service: inference.Generator, method: Stream}\n"
        "        - method: {service: inference.Health}\n"
        "        - headers: [{name: x, value: y}]\n"
        "      backendRefs: [{name: vllm, port: 8000}]\n"
    )
    routes, _ = routes_of(text)
    assert [r.path for r in routes] == ["/inference.Generator/Stream", "/inference.Health/", "/"]
    assert all(r.settings.fix_target is None for r in routes)  # GRPCRoute has no timeouts


# --- Envoy AI Gateway and InferencePool ---------------------------------------------------

AI_ROUTE = (
    "---\napiVersion: aigateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\n"
    "metadata:\n  name: chat\n  namespace: ai\n{meta}"
    "spec:\n  parentRefs:\n    - name: eg\n      kind: Gateway\n"
    "  rules:\n"
    "    - matches:\n"
    "        - headers: [{{type: Exact, name: x-ai-eg-model, value: llama}}]\n"
    "      backendRefs:\n        - {backend}\n{rest}"
)
AI_BACKEND = (
    "---\napiVersion: aigateway.envoyproxy.io/v1alpha1\nkind: AIServiceBackend\n"
    "metadata:\n  name: llama\n  namespace: ai\n"
    "spec:\n  schema: {name: OpenAI}\n  backendRef:\n    name: vllm\n    kind: Service\n"
    "    port: 8000\n"
)


def ai_route(backend: str = "name: llama", meta: str = "", rest: str = "") -> str:
    return AI_ROUTE.format(meta=meta, backend=backend, rest=rest)


def test_ai_gateway_route_is_an_llm_route_on_envoy_ai_gateway() -> None:
    text = eg_stack() + AI_BACKEND + ai_route()
    [route], errors = routes_of(text)
    assert errors == []
    assert route.owner.controller is Controller.ENVOY_AI_GATEWAY
    assert route.owner.reason.startswith("AIGatewayRoute on Envoy Gateway: parentRef Gateway ai/eg")
    assert route.llm_reason == "AIGatewayRoute (Envoy AI Gateway serves OpenAI-compatible LLM APIs)"
    # Header matches only: the generated HTTPRoute matches every path.
    assert route.path == "/"
    assert route.line == line_of(text, "- headers: [{type: Exact")
    # The AIServiceBackend's Service and workload.
    assert (route.service, route.port) == ("vllm", "8000")
    assert route.workload is not None
    assert route.workload.name == "vllm"


def test_ai_gateway_route_without_gateway_still_runs_on_envoy_gateway() -> None:
    [route], _ = routes_of(AI_BACKEND + ai_route())
    assert route.owner.controller is Controller.ENVOY_AI_GATEWAY
    assert "(not in the input)" in route.owner.reason


def test_ai_gateway_route_on_another_implementation_gives_no_route() -> None:
    text = gateway_class("i", "istio.io/gateway-controller") + gateway(cls="i") + ai_route()
    assert routes_of(text)[0] == []


def test_ai_gateway_route_older_target_refs() -> None:
    text = eg_stack() + ai_route().replace("parentRefs:", "targetRefs:")
    [route], _ = routes_of(text)
    assert route.owner.controller is Controller.ENVOY_AI_GATEWAY


@pytest.mark.parametrize("build", [http_route, ai_route], ids=["HTTPRoute", "AIGatewayRoute"])
def test_streaming_false_excludes_a_route(build: Callable[..., str]) -> None:
    meta = '  annotations:\n    tokenpath.dev/streaming: "false"\n'
    [route], _ = routes_of(eg_stack() + build(meta=meta))
    assert route.llm_reason == ""


POOL_V1 = (
    "---\napiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\n"
    "metadata:\n  name: pool\n  namespace: ai\n"
    "spec:\n  selector:\n    matchLabels: {app: model-server}\n"
    "  targetPorts: [{number: 8000}]\n  endpointPickerRef: {name: epp, port: {number: 9002}}\n"
)
POOL_V1ALPHA2 = (
    "---\napiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\n"
    "metadata:\n  name: pool\n  namespace: ai\n"
    "spec:\n  selector: {app: model-server}\n  targetPortNumber: 8000\n"
    "  extensionRef: {name: epp}\n"
)
PLAIN_SERVER = (
    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: model\n  namespace: ai\n"
    "spec:\n  template:\n    metadata:\n      labels: {app: model-server, tier: gpu}\n"
    "    spec:\n      containers: [{name: s, image: registry.example.com/team/server:1}]\n"
)


def test_inference_pool_backend_gives_an_llm_route_with_workloads() -> None:
    for pool, group in (
        (POOL_V1, "inference.networking.k8s.io"),
        (POOL_V1ALPHA2, "inference.networking.x-k8s.io"),
    ):
        backend = f"{{group: {group}, kind: InferencePool, name: pool}}"
        text = (
            gateway_class()
            + gateway()
            + pool
            + PLAIN_SERVER
            + http_route(backend=backend, path="/")
        )
        [route], errors = routes_of(text)
        assert errors == []
        assert route.llm_reason == (
            "backend InferencePool ai/pool (Gateway API Inference Extension)"
        )
        assert route.workload is not None
        assert str(route.workload) == "Deployment/ai/model"
        assert (route.service, route.port) == ("pool", "8000")
        # ext_proc of the endpoint picker reads the body (FACTS.md §6, §9)
        buffered = route.settings.body_buffered
        assert buffered.value is True
        assert buffered.source.describe() == (
            f"spec.rules[0].backendRefs (InferencePool pool) of HTTPRoute/ai/chat "
            f"({FILE}:{line_of(text, 'kind: InferencePool, name: pool')})"
        )


def test_inference_pool_with_a_stronger_reason_keeps_it() -> None:
    text = (
        gateway_class()
        + gateway()
        + POOL_V1
        + PLAIN_SERVER.replace("registry.example.com/team/server:1", "vllm/vllm-openai:v0.8")
        + http_route(
            backend="{group: inference.networking.k8s.io, kind: InferencePool, name: pool}"
        )
    )
    [route], _ = routes_of(text)
    assert route.llm_reason == "image vllm/vllm-openai:v0.8 of Deployment/ai/model (vLLM)"


def test_ai_gateway_route_to_an_inference_pool() -> None:
    backend = "{group: inference.networking.k8s.io, kind: InferencePool, name: pool}"
    text = eg_stack() + POOL_V1 + PLAIN_SERVER + ai_route(backend=backend)
    [route], _ = routes_of(text)
    assert route.workload is not None
    assert route.workload.name == "model"
    assert route.llm_reason.startswith("AIGatewayRoute")


# --- ReferenceGrant ------------------------------------------------------------------------

GRANT = (
    "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\n"
    "metadata:\n  name: allow\n  namespace: models\n"
    "spec:\n  from:\n    - {{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {ns}}}\n"
    "  to:\n    - {{group: '', kind: Service{name}}}\n"
)


def test_cross_namespace_backend_needs_a_reference_grant() -> None:
    base = (
        gateway_class()
        + gateway()
        + service_and_deployment(namespace="models")
        + http_route(backend="{name: vllm, namespace: models, port: 8000}")
    )
    [route], _ = routes_of(base)
    assert route.workload is None
    # The path still makes it an LLM route; the note says why the backend is unresolved.
    assert route.llm_reason == (
        "path /v1/chat/completions (OpenAI chat completions API); backend Service models/vllm "
        "left unresolved: no ReferenceGrant in namespace models allows HTTPRoute from "
        "namespace ai"
    )
    for grant in (GRANT.format(ns="ai", name=""), GRANT.format(ns="ai", name=", name: vllm")):
        [route], _ = routes_of(base + grant)
        assert route.workload is not None
        assert str(route.workload) == "Deployment/models/vllm"
        assert route.llm_reason.startswith("image vllm/vllm-openai")
    for grant in (GRANT.format(ns="other", name=""), GRANT.format(ns="ai", name=", name: x")):
        [route], _ = routes_of(base + grant)
        assert route.workload is None


# --- malformed input -----------------------------------------------------------------------


def test_malformed_fields_give_input_errors_with_lines_and_no_exception() -> None:
    text = eg_stack() + (
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
        "metadata:\n  name: bad\n  namespace: ai\n"
        "spec:\n  parentRefs: {name: eg}\n"
        "  hostnames: example.com\n"
        "  rules:\n"
        "    - matches:\n"
        "        - path: /v1\n"
        "      backendRefs:\n        - {name: [vllm], port: eighty}\n"
        "      timeouts: 30s\n"
        "    - nope\n"
        "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\n"
        "metadata:\n  name: p\n  namespace: ai\n"
        "spec:\n  targetRefs: {kind: Gateway, name: eg}\n"
        "  timeout:\n    http: [requestTimeout]\n"
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
        "metadata:\n  name: g2\nspec:\n  controllerName: {a: b}\n"
        "---\napiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\n"
        "metadata:\n  name: p\nspec:\n  targetPorts: [{number: x}]\n"
    )
    objects, errors = load(text)
    assert errors == []
    routes, errors = gateway_routes(objects, None)
    assert routes == []  # the only rule's parentRefs did not read
    bad = "HTTPRoute/ai/bad: spec.rules[0]"
    expected = [
        ("parentRefs: {name: eg}", "HTTPRoute/ai/bad: spec.parentRefs must be a list"),
        ("hostnames: example.com", "HTTPRoute/ai/bad: spec.hostnames must be a list"),
        ("- path: /v1", "HTTPRoute/ai/bad: spec.rules[0].matches[0].path must be a mapping"),
        ("{name: [vllm]", f"{bad}.backendRefs[0].name must be a single value"),
        ("{name: [vllm]", f"{bad}.backendRefs[0].port must be an integer"),
        ("timeouts: 30s", "HTTPRoute/ai/bad: spec.rules[0].timeouts must be a mapping"),
        ("- nope", "HTTPRoute/ai/bad: spec.rules[1] must be a mapping"),
        ("targetRefs: {kind", "BackendTrafficPolicy/ai/p: spec.targetRefs must be a list"),
        (
            "http: [requestTimeout]",
            "BackendTrafficPolicy/ai/p: spec.timeout.http must be a mapping",
        ),
        ("controllerName: {a: b}", "GatewayClass/g2: spec.controllerName must be a single value"),
        ("[{number: x}]", "InferencePool/p: spec.targetPorts[0].number must be an integer"),
    ]
    assert sorted((e.line, e.message) for e in errors) == sorted(
        (line_of(text, needle), message) for needle, message in expected
    )
    assert all(e.file == FILE for e in errors)


def test_objects_of_other_api_groups_are_not_read() -> None:
    text = (
        "---\napiVersion: example.com/v1\nkind: HTTPRoute\nmetadata: {name: x}\n"
        "spec:\n  parentRefs: nope\n"
    )
    assert routes_of(text, Controller.ENVOY_GATEWAY) == ([], [])


# --- through the pipeline ------------------------------------------------------------------


def test_routes_reach_the_pipeline() -> None:
    text = eg_stack() + http_route()
    result = lint_sources([SourceText(file=FILE, text=text)], LintOptions())
    assert result.errors == ()
    labels = [(r.owner.controller, r.label()) for r in result.routes]
    assert (Controller.ENVOY_GATEWAY, "llm.example.com/v1/chat/completions") in labels


def test_envoy_filters_reach_httproutes_on_an_istio_gateway() -> None:
    istio_class = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: istio
spec:
  controllerName: istio.io/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: ai
spec:
  gatewayClassName: istio
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: idle
  namespace: istio-system
spec:
  configPatches:
    - applyTo: NETWORK_FILTER
      match:
        context: GATEWAY
        listener:
          filterChain:
            filter: {name: envoy.filters.network.http_connection_manager}
      patch:
        operation: MERGE
        value:
          name: envoy.filters.network.http_connection_manager
          typed_config:
            stream_idle_timeout: 60s
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: chat
  namespace: ai
spec:
  parentRefs: [{name: gw}]
  hostnames: [chat.example.com]
  rules:
    - backendRefs: [{name: vllm, port: 8000}]
"""
    text = service_and_deployment() + "---\n" + istio_class
    result = lint_sources([SourceText(file="istio.yaml", text=text)], LintOptions())
    assert result.errors == ()
    (route,) = result.routes
    assert route.owner.controller is Controller.ISTIO
    idle = route.settings.idle_timeout
    assert idle.value == 60.0
    assert "EnvoyFilter/istio-system/idle" in idle.source.describe()
