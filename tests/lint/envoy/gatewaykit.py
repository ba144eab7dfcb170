"""YAML builders and a loader shared by the Gateway API adapter tests (test_gateway_*,
test_eg_*): real manifests through the real loader and object reader. Holds no tests."""

from __future__ import annotations

from tokenpath.lint.document import InputError, SourceText
from tokenpath.lint.envoy.gateway import gateway_routes
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import Controller, EnvoyRoute
from tokenpath.lint.objects import Objects

FILE = "gw.yaml"
EG = "gateway.envoyproxy.io/gatewayclass-controller"


def load(text: str) -> tuple[Objects, list[InputError]]:
    documents, errors = load_documents(SourceText(FILE, text))
    objects, object_errors = parse_objects(documents, {FILE: text})
    return objects, errors + object_errors


def routes_of(
    text: str, hint: Controller | None = None
) -> tuple[list[EnvoyRoute], list[InputError]]:
    objects, errors = load(text)
    assert errors == []
    return gateway_routes(objects, hint)


def line_of(text: str, needle: str, nth: int = 0) -> int:
    """1-based line of the ``nth`` line containing ``needle``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[nth]


def gateway_class(name: str = "eg", controller: str = EG) -> str:
    return (
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
        f"metadata:\n  name: {name}\nspec:\n  controllerName: {controller}\n"
    )


def gateway(
    name: str = "eg", cls: str = "eg", namespace: str = "ai", labels: str = "", listeners: str = ""
) -> str:
    listeners = listeners or "    - name: http\n      protocol: HTTP\n      port: 80\n"
    label_block = f"  labels:\n{labels}" if labels else ""
    return (
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
        f"metadata:\n  name: {name}\n  namespace: {namespace}\n{label_block}"
        f"spec:\n  gatewayClassName: {cls}\n  listeners:\n{listeners}"
    )


def http_route(
    name: str = "chat",
    namespace: str = "ai",
    timeouts: str = "",
    extra_rule: str = "",
    backend: str = "{name: vllm, port: 8000}",
    parent: str = "{name: eg}",
    path: str = "/v1/chat/completions",
    meta: str = "",
    hostnames: str = '  hostnames: ["llm.example.com"]\n',
) -> str:
    timeout_block = f"      timeouts:\n{timeouts}" if timeouts else ""
    return (
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
        f"metadata:\n  name: {name}\n  namespace: {namespace}\n{meta}"
        f"spec:\n  parentRefs:\n    - {parent}\n{hostnames}"
        "  rules:\n"
        "    - matches:\n"
        f"        - path: {{type: PathPrefix, value: {path}}}\n"
        f"      backendRefs:\n        - {backend}\n"
        f"{timeout_block}{extra_rule}"
    )


def service_and_deployment(
    name: str = "vllm", namespace: str = "ai", image: str = "vllm/vllm-openai:v0.6.3"
) -> str:
    return (
        f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n"
        f"  namespace: {namespace}\nspec:\n  selector: {{app: {name}}}\n"
        "  ports:\n    - port: 8000\n      targetPort: 8000\n"
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"
        f"  namespace: {namespace}\nspec:\n  template:\n    metadata:\n"
        f"      labels: {{app: {name}}}\n    spec:\n      containers:\n"
        f"        - name: server\n          image: {image}\n"
    )


def policy(
    kind: str,
    name: str,
    spec: str,
    target: str = "    kind: Gateway\n    name: eg\n",
    namespace: str = "ai",
    key: str = "targetRef",
) -> str:
    target_block = (
        f"  targetRef:\n    group: gateway.networking.k8s.io\n{target}"
        if key == "targetRef"
        else target
    )
    return (
        f"---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: {kind}\n"
        f"metadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n{target_block}{spec}"
    )


def btp(name: str, spec: str, target: str = "    kind: Gateway\n    name: eg\n", **kw: str) -> str:
    return policy("BackendTrafficPolicy", name, spec, target, **kw)


def ctp(name: str, spec: str, target: str = "    kind: Gateway\n    name: eg\n", **kw: str) -> str:
    return policy("ClientTrafficPolicy", name, spec, target, **kw)


ON_ROUTE = "    kind: HTTPRoute\n    name: chat\n"


def eg_stack() -> str:
    """GatewayClass + Gateway on Envoy Gateway, and the vLLM backend."""
    return gateway_class() + gateway() + service_and_deployment()
