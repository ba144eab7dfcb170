"""Tests of building the probe request from user options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokenpath.errors import UsageError
from tokenpath.probe.request import (
    DEFAULT_MODEL,
    DEFAULT_PROMPT,
    build_request,
    parse_header,
    redact,
)
from tokenpath.stream.dialects import Dialect

BASE = "http://127.0.0.1:8000"


def body_of(url: str, **kw: object) -> dict[str, object]:
    request = build_request(url, **kw)  # type: ignore[arg-type]
    payload = json.loads(request.body)
    assert isinstance(payload, dict)
    return payload


def test_openai_chat_default_body() -> None:
    request = build_request(f"{BASE}/v1/chat/completions")
    assert request.method == "POST"
    assert request.dialect is Dialect.AUTO
    assert ("Content-Type", "application/json") in request.headers
    assert json.loads(request.body) == {
        "model": DEFAULT_MODEL,
        "messages": [{"role": "user", "content": DEFAULT_PROMPT}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_openai_chat_with_options() -> None:
    payload = body_of(
        f"{BASE}/v1/chat/completions", model="llama", prompt="hi", max_tokens=5, stream=False
    )
    assert payload == {
        "model": "llama",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
        "max_tokens": 5,
    }


def test_openai_completions_default_body() -> None:
    payload = body_of(f"{BASE}/v1/completions", max_tokens=7)
    assert payload == {
        "model": DEFAULT_MODEL,
        "prompt": DEFAULT_PROMPT,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 7,
    }


def test_tgi_default_body() -> None:
    assert body_of(f"{BASE}/generate_stream", prompt="p", max_tokens=9) == {
        "inputs": "p",
        "parameters": {"max_new_tokens": 9},
    }
    assert body_of(f"{BASE}/generate_stream")["parameters"] == {"max_new_tokens": 64}


def test_ollama_chat_and_generate_bodies() -> None:
    assert body_of(f"{BASE}/api/chat", prompt="p") == {
        "model": DEFAULT_MODEL,
        "messages": [{"role": "user", "content": "p"}],
        "stream": True,
    }
    assert body_of(f"{BASE}/api/generate", prompt="p", max_tokens=3) == {
        "model": DEFAULT_MODEL,
        "prompt": "p",
        "stream": True,
        "options": {"num_predict": 3},
    }


def test_explicit_dialect_overrides_the_path_guess() -> None:
    request = build_request(f"{BASE}/proxy/llm", dialect=Dialect.OPENAI_CHAT)
    assert request.dialect is Dialect.OPENAI_CHAT
    assert "messages" in json.loads(request.body)


def test_raw_is_a_get_without_body() -> None:
    request = build_request(f"{BASE}/events")
    assert request.method == "GET"
    assert request.body == b""
    assert not any(name == "Content-Type" for name, _ in request.headers)


def test_raw_data_is_sent_as_is_with_post() -> None:
    request = build_request(f"{BASE}/events", dialect=Dialect.RAW, data="not json")
    assert request.method == "POST"
    assert request.body == b"not json"


def test_method_override() -> None:
    assert build_request(f"{BASE}/events", method="put", data="{}").method == "PUT"


def test_data_json_and_file(tmp_path: Path) -> None:
    request = build_request(f"{BASE}/v1/chat/completions", data='{"x": 1}')
    assert request.body == b'{"x": 1}'
    path = tmp_path / "body.json"
    path.write_text('{"y": 2}')
    assert build_request(f"{BASE}/v1/chat/completions", data=f"@{path}").body == b'{"y": 2}'


def test_bad_data_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not valid JSON"):
        build_request(f"{BASE}/v1/chat/completions", data="{nope")
    with pytest.raises(UsageError, match="cannot read --data file"):
        build_request(f"{BASE}/v1/chat/completions", data=f"@{tmp_path / 'missing.json'}")


def test_headers_are_parsed_and_user_content_type_wins() -> None:
    request = build_request(
        f"{BASE}/v1/chat/completions",
        headers=["X-Team: ml", "content-type: application/vnd.x+json", "X-Empty:"],
    )
    assert ("X-Team", "ml") in request.headers
    assert ("X-Empty", "") in request.headers
    assert ("Content-Type", "application/json") not in request.headers
    assert ("content-type", "application/vnd.x+json") in request.headers


@pytest.mark.parametrize("text", ["no colon", ": value", "Bad Name: v", "X-A: a\r\nX-B: b"])
def test_bad_headers_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_header(text)


def test_bad_header_value_error_does_not_quote_the_value() -> None:
    with pytest.raises(UsageError) as info:
        parse_header("Authorization: Bearer sk-secret\n")
    assert "sk-secret" not in str(info.value)
    assert "Authorization" in str(info.value)


def test_api_key_env_adds_a_bearer_header_and_never_leaks() -> None:
    env = {"MY_KEY": "sk-live-0123456789"}
    request = build_request(f"{BASE}/v1/chat/completions", api_key_env="MY_KEY", environ=env)
    assert ("Authorization", "Bearer sk-live-0123456789") in request.headers
    assert "sk-live-0123456789" not in repr(request)
    assert "sk-live-0123456789" not in str(request.display_headers())
    assert ("Authorization", "<redacted>") in request.display_headers()
    text = f"sent {request.headers} to {request.url}"
    assert "sk-live-0123456789" not in redact(text, request.secrets())


@pytest.mark.parametrize("env", [{}, {"MY_KEY": ""}, {"MY_KEY": "  "}])
def test_missing_or_empty_api_key_env_is_a_usage_error(env: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="MY_KEY"):
        build_request(f"{BASE}/v1/chat/completions", api_key_env="MY_KEY", environ=env)


def test_api_key_env_and_authorization_header_conflict() -> None:
    with pytest.raises(UsageError, match="use one"):
        build_request(
            f"{BASE}/v1/chat/completions",
            api_key_env="K",
            headers=["Authorization: Bearer x"],
            environ={"K": "v"},
        )


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "127.0.0.1:8000/v1", "http:///path", "http://127.0.0.1:99999/"]
)
def test_bad_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError, match="invalid URL"):
        build_request(url)


def test_bad_url_error_hides_credentials() -> None:
    with pytest.raises(UsageError) as info:
        build_request("ftp://user:hunter2@127.0.0.1/")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "option", ["timeout_s", "max_time_s", "connect_timeout_s", "max_bytes", "max_event_bytes"]
)
def test_non_positive_bounds_are_usage_errors(option: str) -> None:
    with pytest.raises(UsageError, match="greater than 0"):
        build_request(f"{BASE}/v1/completions", **{option: 0})  # type: ignore[arg-type]


def test_missing_cacert_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--cacert"):
        build_request(f"{BASE}/v1/completions", cacert=str(tmp_path / "nope.pem"))


def test_options_are_passed_through() -> None:
    request = build_request(
        f"{BASE}/v1/completions",
        timeout_s=1.5,
        max_time_s=9.0,
        connect_timeout_s=2.0,
        max_bytes=1000,
        max_event_bytes=100,
        insecure=True,
        accept_encoding="identity",
    )
    assert (request.timeout_s, request.max_time_s, request.connect_timeout_s) == (1.5, 9.0, 2.0)
    assert (request.max_bytes, request.max_event_bytes) == (1000, 100)
    assert request.insecure
    assert request.accept_encoding == "identity"


def test_redact_replaces_every_secret_longest_first() -> None:
    text = "key=abc123 again abc123 and abc"
    assert redact(text, ["abc", "abc123", ""]) == ("key=<redacted> again <redacted> and <redacted>")
