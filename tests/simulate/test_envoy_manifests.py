"""``simulate PATH…`` on Envoy-family routes: an Envoy Gateway HTTPRoute through the real Envoy,
predicted vs measured per scenario, scaled as ``simulate --proxy envoy`` scales."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokenpath.lint.pipeline import LintOptions
from tokenpath.probe.verdict import CutKind
from tokenpath.report.manifests import render_manifests_json, render_manifests_text
from tokenpath.simulate.manifests import simulate_manifests
from tokenpath.simulate.proofs import BACKEND, gateway_route, ingress
from tokenpath.simulate.scale import DEFAULT_TIME_SCALE
from tokenpath.simulate.scenarios import select

pytestmark = pytest.mark.proxy

# No timeouts on the rule: Envoy Gateway leaves Envoy's implicit 15 s route timeout (FACTS §6).
EG_DEFAULT = BACKEND + gateway_route("")


def test_an_envoy_gateway_route_runs_through_envoy_with_the_implicit_15s_scaled(
    envoy_binary: str, tmp_path: Path
) -> None:
    path = tmp_path / "eg.yaml"
    path.write_text(EG_DEFAULT)
    report = simulate_manifests(
        [str(path)],
        LintOptions(),
        select(["fast-small", "long-generation", "header-delay"]),
        time_scale=DEFAULT_TIME_SCALE,
    )
    assert not report.errors
    (route,) = report.routes
    assert route.obj == "HTTPRoute/ai/llm"
    assert route.controller == "envoy-gateway"
    assert route.proxy == "envoy"
    assert route.proxy_version == "1.40.0"
    assert route.directives == ()  # nothing configured: Envoy's own defaults
    assert route.report is not None
    # The implicit 15 s is written out scaled (0.75 s at 0.05), as simulate --proxy envoy does.
    assert ("route.timeout", "0.75s") in route.report.directives
    assert any("route.timeout 15s as 0.75s" in note for note in route.report.notes)
    measured = {r.run.scenario.name: r for r in route.results}
    assert measured["fast-small"].run.verdict == "STREAMING"
    long = measured["long-generation"]
    assert long.run.verdict == "CUT"
    assert long.prediction.cut is CutKind.TOTAL
    assert long.run.result is not None
    assert long.run.result.verdict.cut is not None
    assert long.run.result.verdict.cut.kind is CutKind.TOTAL
    assert measured["header-delay"].prediction.cut is CutKind.BEFORE_HEADERS
    verdicts = [(r.run.scenario.name, r.run.verdict, r.prediction.label) for r in route.results]
    assert report.all_agree, verdicts
    assert report.proxy == "envoy"
    assert report.proxies == (("envoy", "1.40.0"),)

    text = render_manifests_text(report)
    assert "llm.example.com/v1 HTTPRoute/ai/llm (envoy-gateway)" in text
    assert "through envoy 1.40.0" in text
    assert "DISAGREES" not in text
    assert "3 of 3 scenario results agree" in text

    document = render_manifests_json(report)
    assert document["proxy"] == "envoy"
    assert document["proxy_version"] == "1.40.0"
    assert document["proxies"] == [{"proxy": "envoy", "version": "1.40.0"}]
    (route_json,) = document["routes"]
    assert route_json["ingress"] == route_json["object"] == "HTTPRoute/ai/llm"
    assert route_json["proxy"] == "envoy"
    assert route_json["proxy_version"] == "1.40.0"
    assert {r["proxy"] for r in document["results"]} == {"envoy"}
    assert {r["object"] for r in document["results"]} == {"HTTPRoute/ai/llm"}
    json.dumps(document)


def test_each_route_runs_through_the_proxy_of_its_family(
    envoy_binary: str, nginx_binary: str, tmp_path: Path
) -> None:
    (tmp_path / "eg.yaml").write_text(
        EG_DEFAULT.replace(
            "kind: HTTPRoute\nmetadata:\n  name: llm", "kind: HTTPRoute\nmetadata:\n  name: llm-eg"
        )
    )
    (tmp_path / "ing.yaml").write_text(
        ingress("nginx", '    nginx.ingress.kubernetes.io/proxy-buffering: "off"')
    )
    report = simulate_manifests(
        [str(tmp_path)], LintOptions(), select(["fast-small"]), time_scale=DEFAULT_TIME_SCALE
    )
    assert not report.errors
    proxies = {route.obj: route.proxy for route in report.routes}
    assert proxies == {"HTTPRoute/ai/llm-eg": "envoy", "Ingress/ai/llm": "nginx"}
    assert report.all_agree
    assert set(report.proxy.split("+")) == {"nginx", "envoy"}
    document = render_manifests_json(report)
    assert {p["proxy"] for p in document["proxies"]} == {"nginx", "envoy"}


ISTIO_AND_AI_GATEWAY = (
    BACKEND
    + """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: mesh
  namespace: ai
spec:
  hosts: [vllm.ai.svc.cluster.local]
  http:
    - match: [{uri: {prefix: /v1}}]
      timeout: 30s
      route: [{destination: {host: vllm.ai.svc.cluster.local, port: {number: 8000}}}]
---
"""
    + gateway_route("").split("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute")[0]
    + """---
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata:
  name: chat
  namespace: ai
spec:
  parentRefs: [{name: eg}]
  rules:
    - backendRefs: [{name: vllm-backend}]
---
apiVersion: aigateway.envoyproxy.io/v1alpha1
kind: AIServiceBackend
metadata:
  name: vllm-backend
  namespace: ai
spec:
  schema: {name: OpenAI}
  backendRef: {name: vllm, kind: Service, group: "", port: 8000}
"""
)


def test_istio_and_ai_gateway_routes_run_through_envoy_as_predicted(
    envoy_binary: str, tmp_path: Path
) -> None:
    path = tmp_path / "mesh.yaml"
    path.write_text(ISTIO_AND_AI_GATEWAY)
    report = simulate_manifests(
        [str(path)],
        LintOptions(),
        select(["fast-small", "long-generation"]),
        time_scale=DEFAULT_TIME_SCALE,
    )
    assert not report.errors
    by_object = {route.obj: route for route in report.routes}
    assert set(by_object) == {"VirtualService/ai/mesh", "AIGatewayRoute/ai/chat"}
    for route in by_object.values():
        assert route.proxy == "envoy"
        measured = {r.run.scenario.name: r.run.verdict for r in route.results}
        assert measured["fast-small"] == "STREAMING"
    # Istio's 30 s is a total cap of the 60 s generation. The AI Gateway's implicit 60 s ends
    # with the stream itself: the predictor says it is too close to call, and either agrees.
    mesh = by_object["VirtualService/ai/mesh"]
    long = next(r for r in mesh.results if r.run.scenario.name == "long-generation")
    assert long.prediction.cut is CutKind.TOTAL
    assert long.run.verdict == "CUT"
    verdicts = [
        (r.run.scenario.name, route.obj, r.run.verdict, r.prediction.label)
        for route in report.routes
        for r in route.results
    ]
    assert report.all_agree, verdicts
