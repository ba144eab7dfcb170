"""Istio VirtualServices through the real pipeline: routes, Service resolution, timeouts
(FACTS.md §7)."""

from __future__ import annotations

import math

import meshkit
from meshkit import routes_of

from tokenpath.lint.model import Controller, EnvoyRoute, SourceKind
from tokenpath.lint.pipeline import LintResult


def lint(text: str) -> LintResult:
    return meshkit.lint("vs.yaml", "---\n" + text)


def routes(text: str) -> list[EnvoyRoute]:
    return routes_of("vs.yaml", "---\n" + text, "VirtualService")


def vs(http: str, *, namespace: str = "ai", extra: str = "") -> str:
    return f"""\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: chat
  namespace: {namespace}
spec:
  hosts: [chat.example.com]
{extra}  http:
{http}"""


SIMPLE = """\
    - match:
        - uri:
            prefix: /v1
      route:
        - destination:
            host: vllm
            port:
              number: 8000
"""


def test_route_per_host_entry_and_match() -> None:
    text = vs(
        """\
    - match:
        - uri: {prefix: /v1}
        - uri: {exact: /generate}
      route:
        - destination: {host: vllm}
""",
        extra="  gateways: [istio-system/public]\n",
    ).replace("hosts: [chat.example.com]", "hosts: [a.example.com, b.example.com]")
    found = routes(text)
    assert [(r.host, r.path) for r in found] == [
        ("a.example.com", "/v1"),
        ("b.example.com", "/v1"),
        ("a.example.com", "/generate"),
        ("b.example.com", "/generate"),
    ]
    route = found[0]
    assert route.owner.controller is Controller.ISTIO
    assert route.owner.reason == "VirtualService (Istio), gateways istio-system/public"
    assert route.service == "vllm"
    assert route.port == "8000"  # the Service's only port
    assert route.workload is not None
    assert route.workload.name == "vllm"
    assert "vllm/vllm-openai:v0.6.3" in route.llm_reason
    assert route.line == 29  # the match entry


def test_no_default_route_timeout() -> None:
    (route,) = routes(vs(SIMPLE))
    settings = route.settings
    assert settings.route_timeout.value == math.inf
    assert settings.route_timeout.source.kind is SourceKind.DEFAULT
    assert settings.route_timeout.source.describe().startswith(
        "default (istio default 0s (protobuf duration; 0s = disabled), https://"
    )
    assert settings.idle_timeout.value == 300.0
    assert settings.backend_timeout.value == math.inf
    assert settings.uninterpreted == ()
    target = settings.fix_target
    assert target is not None
    assert target.obj == route.obj
    assert target.path("route_timeout") == ("timeout",)
    assert target.node.get("route") is not None  # the http entry


def test_timeout_and_per_try_timeout() -> None:
    http = (
        SIMPLE
        + "      timeout: 1m\n      retries:\n        attempts: 2\n        perTryTimeout: 500ms\n"
    )
    (route,) = routes(vs(http))
    timeout = route.settings.route_timeout
    assert timeout.value == 60.0
    assert timeout.raw == "1m"
    assert (
        timeout.source.describe() == "spec.http[0].timeout of VirtualService/ai/chat (vs.yaml:35)"
    )
    assert timeout.overridden[0].kind is SourceKind.DEFAULT
    per_try = route.settings.backend_timeout
    assert per_try.value == 0.5
    assert per_try.source.describe() == (
        "spec.http[0].retries.perTryTimeout of VirtualService/ai/chat (vs.yaml:38)"
    )


def test_zero_timeout_disables_it() -> None:
    (route,) = routes(vs(SIMPLE + "      timeout: 0s\n"))
    assert route.settings.route_timeout.value == math.inf
    assert route.settings.route_timeout.source.kind is SourceKind.FIELD


def test_per_try_timeout_without_attempts_does_not_apply() -> None:
    http = SIMPLE + "      retries:\n        attempts: 0\n        perTryTimeout: 5s\n"
    (route,) = routes(vs(http))
    per_try = route.settings.backend_timeout
    assert per_try.value == math.inf
    (ignored,) = per_try.ignored
    assert ignored.raw == "5s"
    assert "attempts is 0" in ignored.reason


def test_invalid_timeout_is_ignored() -> None:
    (route,) = routes(vs(SIMPLE + "      timeout: 1d\n"))
    timeout = route.settings.route_timeout
    assert timeout.value == math.inf
    (ignored,) = timeout.ignored
    assert ignored.raw == "1d"
    assert "not a Go duration" in ignored.reason
    assert ignored.source.line == 35


def test_destination_host_forms_resolve_in_their_namespace() -> None:
    for host in ("vllm.ai", "vllm.ai.svc", "vllm.ai.svc.cluster.local"):
        http = SIMPLE.replace("host: vllm", f"host: {host}")
        (route,) = routes(vs(http, namespace="web"))
        assert route.service == "vllm"
        assert route.workload is not None, host
        assert route.workload.namespace == "ai"
        assert route.is_llm


def test_short_host_is_relative_to_the_virtual_service() -> None:
    (route,) = routes(vs(SIMPLE, namespace="web"))  # no Service vllm in web
    assert route.workload is None
    assert route.llm_reason == "path /v1 on port 8000, the default port of vLLM"


def test_weighted_destinations_pick_the_llm_backend() -> None:
    http = """\
    - route:
        - destination: {host: other}
          weight: 10
        - destination: {host: vllm, port: {number: 8000}}
          weight: 90
"""
    (route,) = routes(vs(http))
    assert route.service == "vllm"
    assert route.path == "/"


def test_redirect_entries_give_no_route() -> None:
    http = "    - redirect: {uri: /v2}\n" + SIMPLE
    (route,) = routes(vs(http))
    assert route.path == "/v1"


def test_other_api_groups_are_not_read() -> None:
    text = vs(SIMPLE).replace("networking.istio.io/v1", "example.com/v1")
    assert routes(text) == []


def test_malformed_fields_are_input_errors() -> None:
    text = vs(
        """\
    - match: {uri: /v1}
      timeout: [1s]
      retries: 3
      route:
        - destination:
            host: vllm
            port: {number: eighty}
""",
    ).replace("hosts: [chat.example.com]", "hosts: chat.example.com")
    result = lint(text)
    messages = sorted(str(e) for e in result.errors)
    assert messages == [
        "vs.yaml:25: VirtualService/ai/chat: spec.hosts must be a list",
        "vs.yaml:27: VirtualService/ai/chat: spec.http[0].match must be a list",
        "vs.yaml:28: VirtualService/ai/chat: spec.http[0].timeout must be a single value",
        "vs.yaml:29: VirtualService/ai/chat: spec.http[0].retries must be a mapping",
        "vs.yaml:33: VirtualService/ai/chat: spec.http[0].route[0].destination.port.number "
        "must be an integer",
    ]
    (route,) = [r for r in result.routes if r.obj.kind == "VirtualService"]
    assert route.host == ""
    assert route.settings.route_timeout.value == math.inf
