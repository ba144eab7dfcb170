"""What the mock answers to each request: routing, bodies and scenario overrides (pure)."""

from __future__ import annotations

import json

import pytest

from tokenpath.mock.endpoints import Generation, Reply, Request, route
from tokenpath.mock.framing import Endpoint
from tokenpath.mock.scenarios import Scenario

DEFAULTS = Scenario()


def request(
    path: str,
    body: object = None,
    *,
    method: str = "POST",
    headers: tuple[tuple[str, str], ...] = (),
) -> Request:
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request(method, path, "1.1", headers, data)


def generation(req: Request, defaults: Scenario = DEFAULTS) -> Generation:
    plan = route(req, defaults)
    assert isinstance(plan, Generation), plan
    return plan


def reply(req: Request) -> Reply:
    plan = route(req, DEFAULTS)
    assert isinstance(plan, Reply), plan
    return plan


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/v1/chat/completions", Endpoint.CHAT),
        ("/v1/completions", Endpoint.COMPLETIONS),
        ("/generate_stream", Endpoint.TGI),
        ("/api/chat", Endpoint.OLLAMA_CHAT),
        ("/api/generate", Endpoint.OLLAMA_GENERATE),
    ],
)
def test_generation_paths(path: str, endpoint: Endpoint) -> None:
    assert generation(request(path, {})).endpoint is endpoint


def test_stream_defaults_per_dialect() -> None:
    assert not generation(request("/v1/chat/completions", {})).stream
    assert generation(request("/v1/chat/completions", {"stream": True})).stream
    assert generation(request("/generate_stream", {"inputs": "x"})).stream
    assert generation(request("/api/chat", {})).stream
    assert not generation(request("/api/generate", {"stream": False})).stream


def test_max_tokens_sources() -> None:
    assert generation(request("/v1/chat/completions", {"max_tokens": 3})).max_tokens == 3
    body = {"max_completion_tokens": 4, "max_tokens": 9}
    assert generation(request("/v1/chat/completions", body)).max_tokens == 4
    body_tgi = {"parameters": {"max_new_tokens": 5}}
    assert generation(request("/generate_stream", body_tgi)).max_tokens == 5
    assert generation(request("/api/chat", {"options": {"num_predict": 6}})).max_tokens == 6
    assert generation(request("/api/chat", {"options": {"num_predict": -1}})).max_tokens is None


def test_usage_from_stream_options_or_scenario() -> None:
    body = {"stream": True, "stream_options": {"include_usage": True}}
    assert generation(request("/v1/chat/completions", body)).usage
    assert not generation(request("/v1/chat/completions", {"stream": True})).usage
    assert generation(request("/v1/completions", {}), Scenario(usage=True)).usage
    assert not generation(request("/api/chat", {}), Scenario(usage=True)).usage


def test_model_is_echoed_and_prompt_is_counted() -> None:
    body = {"model": "llama", "messages": [{"role": "user", "content": "one two three"}]}
    plan = generation(request("/v1/chat/completions", body))
    assert plan.model == "llama"
    assert plan.prompt_tokens == 3
    assert generation(request("/v1/completions", {})).model == "tokenpath-mock"


def test_header_overrides_query_key_by_key() -> None:
    req = request(
        "/v1/completions?tokenpath-scenario=ttft%3D1s%3Btokens%3D3",
        {},
        headers=(("x-tokenpath-scenario", "ttft=2s"),),
    )
    scenario = generation(req).scenario
    assert scenario.ttft == 2.0
    assert scenario.tokens == 3


def test_scenario_defaults_come_from_the_server() -> None:
    assert generation(request("/v1/completions", {}), Scenario(tokens=4)).scenario.tokens == 4


def test_bad_scenario_is_a_400_naming_the_key() -> None:
    answer = reply(request("/v1/completions", {}, headers=(("x-tokenpath-scenario", "itl=x"),)))
    assert answer.status == 400
    assert "'itl'" in json.loads(answer.body)["error"]["message"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff"])
def test_bad_body_is_a_400(body: bytes) -> None:
    answer = reply(request("/v1/chat/completions", body))
    assert answer.status == 400
    assert json.loads(answer.body)["error"]["type"] == "invalid_request_error"


def test_empty_body_is_an_empty_object() -> None:
    assert not generation(request("/v1/chat/completions")).stream


def test_status_fault_replaces_the_generation_after_the_header_delay() -> None:
    req = request("/api/chat", {}, headers=(("x-tokenpath-scenario", "status=503;headers=1s"),))
    answer = reply(req)
    assert (answer.status, answer.delay) == (503, 1.0)
    assert json.loads(answer.body)["error"]["type"] == "server_error"


def test_other_paths() -> None:
    assert reply(request("/healthz", method="GET")) == Reply(
        200, b"ok", "text/plain; charset=utf-8"
    )
    models = json.loads(reply(request("/v1/models", method="GET")).body)
    assert models["object"] == "list"
    assert models["data"][0]["id"] == "tokenpath-mock"
    assert reply(request("/nope", {})).status == 404
    assert reply(request("/healthz", {})).status == 405
    assert reply(request("/v1/chat/completions", method="GET")).status == 405
