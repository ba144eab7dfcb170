"""Contour HTTPProxies through the real pipeline: routes and timeouts, including ``0s``
(unset for Contour), ``infinity`` and invalid values (FACTS.md §8)."""

from __future__ import annotations

import math

import meshkit
import pytest
from meshkit import routes_of

from tokenpath.lint.model import Controller, EnvoyRoute, SourceKind
from tokenpath.lint.pipeline import LintResult

PROXY = """\
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: chat, namespace: ai}
spec:
  virtualhost: {fqdn: chat.example.com}
  routes:
    - conditions:
        - prefix: /v1
      services:
        - name: vllm
          port: 8000
"""


def lint(text: str) -> LintResult:
    return meshkit.lint("p.yaml", "---\n" + text)


def route_of(text: str) -> EnvoyRoute:
    (route,) = routes_of("p.yaml", "---\n" + text, "HTTPProxy")
    return route


def with_policy(policy: str) -> str:
    return PROXY + policy


def test_route_defaults() -> None:
    route = route_of(PROXY)
    assert (route.host, route.path, route.service, route.port) == (
        "chat.example.com",
        "/v1",
        "vllm",
        "8000",
    )
    assert route.owner.controller is Controller.CONTOUR
    assert route.owner.reason == "HTTPProxy (Contour)"
    assert "vllm/vllm-openai:v0.6.3" in route.llm_reason
    assert route.line == 26  # the condition
    settings = route.settings
    assert settings.route_timeout.value == 15.0
    assert settings.route_timeout.source.describe().startswith(
        "default (contour default 15s (Go duration or infinity; 0s counts as unset), https://"
    )
    assert settings.idle_timeout.value == 300.0
    assert settings.backend_timeout.value == math.inf
    target = settings.fix_target
    assert target is not None
    assert target.obj == route.obj
    assert target.path("route_timeout") == ("timeoutPolicy", "response")
    assert target.path("idle_timeout") == ("timeoutPolicy", "idle")
    assert target.path("backend_timeout") == ("retryPolicy", "perTryTimeout")
    assert target.node.get("services") is not None


def test_timeout_policy_and_per_try_timeout() -> None:
    policy = """\
      timeoutPolicy:
        response: 1h
        idle: 5m
        idleConnection: 1h
      retryPolicy:
        count: 2
        perTryTimeout: 90s
"""
    settings = route_of(with_policy(policy)).settings
    assert settings.route_timeout.value == 3600.0
    assert settings.route_timeout.raw == "1h"
    assert settings.route_timeout.source.describe() == (
        "spec.routes[0].timeoutPolicy.response of HTTPProxy/ai/chat (p.yaml:31)"
    )
    assert settings.idle_timeout.value == 300.0
    assert settings.idle_timeout.source.kind is SourceKind.FIELD
    assert settings.idle_timeout.source.line == 32
    assert settings.backend_timeout.value == 90.0
    assert settings.backend_timeout.source.describe() == (
        "spec.routes[0].retryPolicy.perTryTimeout of HTTPProxy/ai/chat (p.yaml:36)"
    )


@pytest.mark.parametrize("word", ["infinity", "infinite"])
def test_infinity_turns_the_timer_off(word: str) -> None:
    policy = f"      timeoutPolicy:\n        response: {word}\n        idle: {word}\n"
    settings = route_of(with_policy(policy)).settings
    assert settings.route_timeout.value == math.inf
    assert settings.route_timeout.raw == word
    assert settings.idle_timeout.value == math.inf


def test_zero_counts_as_unset() -> None:
    policy = "      timeoutPolicy:\n        response: 0s\n        idle: 0s\n"
    settings = route_of(with_policy(policy)).settings
    timeout = settings.route_timeout
    assert timeout.value == 15.0
    assert timeout.source.kind is SourceKind.DEFAULT
    (ignored,) = timeout.ignored
    assert ignored.raw == "0s"
    assert ignored.source.line == 31
    assert 'Contour reads "0s" as unset' in ignored.reason
    assert "15s" in ignored.reason
    assert '"infinity"' in ignored.reason
    (idle,) = settings.idle_timeout.ignored
    assert settings.idle_timeout.value == 300.0
    assert "300s" in idle.reason


def test_invalid_value_is_ignored() -> None:
    policy = "      timeoutPolicy:\n        response: 1d\n"
    timeout = route_of(with_policy(policy)).settings.route_timeout
    assert timeout.value == 15.0
    (ignored,) = timeout.ignored
    assert ignored.raw == "1d"
    assert "not a Go duration" in ignored.reason
    assert ignored.source.describe() == (
        "spec.routes[0].timeoutPolicy.response of HTTPProxy/ai/chat (p.yaml:31)"
    )


def test_child_proxy_without_virtualhost_and_several_services() -> None:
    text = """\
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: child, namespace: ai}
spec:
  routes:
    - services:
        - {name: other, port: 80}
        - {name: vllm, port: 8000}
"""
    route = route_of(text)
    assert (route.host, route.path, route.service) == ("", "/", "vllm")


def test_malformed_fields_are_input_errors() -> None:
    text = (
        PROXY.replace("port: 8000", "port: http").replace(
            "        - prefix: /v1\n", "        - prefix: [/v1]\n"
        )
        + "      timeoutPolicy: 15s\n      retryPolicy:\n        perTryTimeout: {s: 1}\n"
    )
    result = lint(text)
    assert sorted(str(e) for e in result.errors) == [
        "p.yaml:26: HTTPProxy/ai/chat: spec.routes[0].conditions[0].prefix must be a single value",
        "p.yaml:29: HTTPProxy/ai/chat: spec.routes[0].services[0].port must be an integer",
        "p.yaml:30: HTTPProxy/ai/chat: spec.routes[0].timeoutPolicy must be a mapping",
        "p.yaml:32: HTTPProxy/ai/chat: spec.routes[0].retryPolicy.perTryTimeout must be a "
        "single value",
    ]
    (route,) = [r for r in result.routes if r.obj.kind == "HTTPProxy"]
    assert route.path == "/"
    assert route.settings.route_timeout.value == 15.0
