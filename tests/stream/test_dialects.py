"""Dialects: what each event means, dialect detection, and which parser a dialect gets."""

from __future__ import annotations

import json
from typing import Any

import pytest

import tokenpath.stream
from tokenpath.errors import StreamProtocolError
from tokenpath.stream import parser_for
from tokenpath.stream.dialects import (
    SEND_STAMP_FIELD,
    Dialect,
    Interpretation,
    Kind,
    detect_dialect,
    interpret,
)
from tokenpath.stream.events import (
    IncompleteEvent,
    NDJSONLine,
    RawChunk,
    SSEComment,
    SSEMessage,
)
from tokenpath.stream.ndjson import NDJSONParser
from tokenpath.stream.raw import RawParser
from tokenpath.stream.sse import SSEParser


def sse(payload: dict[str, Any] | str) -> SSEMessage:
    return SSEMessage(payload if isinstance(payload, str) else json.dumps(payload))


def chat(delta: dict[str, Any], **extra: Any) -> SSEMessage:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
    return sse(
        {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [choice], **extra}
    )


# -- OpenAI chat completions ----------------------------------------------------------------


def test_openai_content() -> None:
    got = interpret(Dialect.OPENAI_CHAT, chat({"content": " word"}))
    assert got == Interpretation(Kind.CONTENT, text=" word")
    assert got.is_content


@pytest.mark.parametrize(
    "event",
    [
        chat({"role": "assistant", "content": ""}),  # role-only first chunk
        chat({"role": "assistant"}),
        chat({}),  # the finish_reason chunk
        chat({"content": None}),
        chat(
            {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": ""}}]}
        ),
    ],
    ids=["role-only", "role-no-content", "empty-delta", "null-content", "tool-call-name-only"],
)
def test_openai_chunks_without_generated_text_are_empty(event: SSEMessage) -> None:
    got = interpret(Dialect.OPENAI_CHAT, event)
    assert got.kind is Kind.EMPTY
    assert not got.is_content


def test_openai_usage_only_chunk() -> None:
    event = sse({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 42}})
    assert interpret(Dialect.OPENAI_CHAT, event) == Interpretation(Kind.USAGE, completion_tokens=42)


def test_openai_content_with_running_usage_stays_content() -> None:
    event = chat({"content": "x"}, usage={"completion_tokens": 3})
    assert interpret(Dialect.OPENAI_CHAT, event) == Interpretation(
        Kind.CONTENT, text="x", completion_tokens=3
    )


@pytest.mark.parametrize("text", ["[DONE]", " [DONE] ", "[DONE]\n"])
def test_done_marker(text: str) -> None:
    assert interpret(Dialect.OPENAI_CHAT, SSEMessage(text)) == Interpretation(Kind.DONE, done=True)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ({"message": "overloaded", "type": "server_error"}, "overloaded"),
        ({"code": 500}, '{"code": 500}'),
        ("rate limited", "rate limited"),
    ],
)
def test_error_object_in_the_stream(error: object, message: str) -> None:
    got = interpret(Dialect.OPENAI_CHAT, sse({"error": error}))
    assert (got.kind, got.error) == (Kind.ERROR, message)
    assert not got.is_content


def test_null_error_field_is_not_an_error() -> None:
    got = interpret(Dialect.OPENAI_CHAT, chat({"content": "hi"}, error=None))
    assert (got.kind, got.text) == (Kind.CONTENT, "hi")


def test_openai_tool_call_arguments_are_content() -> None:
    calls = [{"index": 0, "function": {"arguments": '{"city": '}}]
    got = interpret(Dialect.OPENAI_CHAT, chat({"tool_calls": calls}))
    assert (got.kind, got.text) == (Kind.CONTENT, '{"city": ')


@pytest.mark.parametrize("calls", [5, "x", {"function": {}}, [None, 3]])
def test_malformed_tool_calls_do_not_crash(calls: object) -> None:
    assert interpret(Dialect.OPENAI_CHAT, chat({"tool_calls": calls})).kind is Kind.EMPTY


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_openai_reasoning_is_content(field: str) -> None:
    got = interpret(Dialect.OPENAI_CHAT, chat({field: "thinking"}))
    assert (got.kind, got.text) == (Kind.CONTENT, "thinking")


def test_openai_completions_text() -> None:
    event = sse({"object": "text_completion", "choices": [{"index": 0, "text": " once"}]})
    got = interpret(Dialect.OPENAI_COMPLETIONS, event)
    assert (got.kind, got.text) == (Kind.CONTENT, " once")


def test_auto_reads_openai_payloads() -> None:
    assert interpret(Dialect.AUTO, chat({"content": "x"})).kind is Kind.CONTENT


# -- TGI ------------------------------------------------------------------------------------


def tgi(text: str, *, special: bool = False, final: bool = False) -> SSEMessage:
    payload: dict[str, Any] = {
        "index": 1,
        "token": {"id": 7, "text": text, "logprob": -0.1, "special": special},
        "generated_text": "the whole text" if final else None,
        "details": {"finish_reason": "eos_token", "generated_tokens": 12} if final else None,
    }
    return sse(payload)


def test_tgi_token() -> None:
    assert interpret(Dialect.TGI, tgi(" the")) == Interpretation(Kind.CONTENT, text=" the")


def test_tgi_special_token_is_not_content() -> None:
    assert interpret(Dialect.TGI, tgi("<|eot_id|>", special=True)).kind is Kind.EMPTY


def test_tgi_final_event_with_special_token_ends_the_stream() -> None:
    got = interpret(Dialect.TGI, tgi("</s>", special=True, final=True))
    assert got == Interpretation(Kind.DONE, done=True, completion_tokens=12)


def test_tgi_final_event_can_carry_the_last_token() -> None:
    got = interpret(Dialect.TGI, tgi(".", final=True))
    assert got == Interpretation(Kind.CONTENT, text=".", done=True, completion_tokens=12)


def test_tgi_error() -> None:
    got = interpret(
        Dialect.TGI, sse({"error": "Input validation error", "error_type": "validation"})
    )
    assert (got.kind, got.error) == (Kind.ERROR, "Input validation error")


# -- Ollama ---------------------------------------------------------------------------------


def ollama(payload: dict[str, Any]) -> NDJSONLine:
    return NDJSONLine(
        json.dumps({"model": "llama3", "created_at": "2024-01-01T00:00:00Z", **payload})
    )


def test_ollama_chat_content() -> None:
    event = ollama({"message": {"role": "assistant", "content": "Hi"}, "done": False})
    assert interpret(Dialect.OLLAMA, event) == Interpretation(Kind.CONTENT, text="Hi")


def test_ollama_chat_thinking_is_content() -> None:
    event = ollama(
        {"message": {"role": "assistant", "content": "", "thinking": "hm"}, "done": False}
    )
    assert interpret(Dialect.OLLAMA, event).text == "hm"


def test_ollama_generate_content() -> None:
    got = interpret(Dialect.OLLAMA, ollama({"response": " sky", "done": False}))
    assert (got.kind, got.text) == (Kind.CONTENT, " sky")


def test_ollama_done_carries_eval_count() -> None:
    event = ollama(
        {
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "eval_count": 282,
            "eval_duration": 4_000_000_000,
        }
    )
    assert interpret(Dialect.OLLAMA, event) == Interpretation(
        Kind.DONE, done=True, completion_tokens=282
    )


def test_ollama_eval_count_counts_only_when_done() -> None:
    got = interpret(Dialect.OLLAMA, ollama({"response": "x", "done": False, "eval_count": 9}))
    assert got.completion_tokens is None


def test_ollama_empty_chunk() -> None:
    assert interpret(Dialect.OLLAMA, ollama({"response": "", "done": False})).kind is Kind.EMPTY


# -- tokenpath's own send stamps --------------------------------------------------------------


def test_send_stamp_in_a_space_padded_payload() -> None:
    # The mock pads the stamp so every payload of a run has the same size.
    text = '{"choices":[{"delta":{"content":"a"}}],"tokenpath_send_ns":        12345}'
    assert SEND_STAMP_FIELD in text
    assert interpret(Dialect.OPENAI_CHAT, SSEMessage(text)).send_ns == 12345


def test_send_stamp_on_an_ollama_line() -> None:
    line = NDJSONLine('{"response":"a","done":false,"tokenpath_send_ns":   77}')
    assert interpret(Dialect.OLLAMA, line).send_ns == 77


@pytest.mark.parametrize("value", ["true", '"12"', "1.5", "null"])
def test_send_stamp_must_be_an_integer(value: str) -> None:
    text = '{"choices":[],"tokenpath_send_ns":' + value + "}"
    assert interpret(Dialect.OPENAI_CHAT, SSEMessage(text)).send_ns is None


@pytest.mark.parametrize(
    ("text", "send_ns"),
    [
        ("tokenpath send_ns=123", 123),
        ("tokenpath send_ns=  9", 9),
        ("ping", None),
        ("", None),
        ("notokenpath send_ns=5", None),
    ],
)
def test_heartbeat_comment(text: str, send_ns: int | None) -> None:
    got = interpret(Dialect.OPENAI_CHAT, SSEComment(text))
    assert got == Interpretation(Kind.COMMENT, send_ns=send_ns)
    assert not got.is_content


# -- everything else --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{", "payload is not valid JSON"),
        ("[" * 100_000, "payload is not valid JSON"),
        ("[1, 2]", "payload is not a JSON object"),
        ('"text"', "payload is not a JSON object"),
    ],
    ids=["truncated", "deeply-nested", "array", "string"],
)
def test_invalid_payloads(text: str, error: str) -> None:
    assert interpret(Dialect.OPENAI_CHAT, SSEMessage(text)) == Interpretation(
        Kind.INVALID, error=error
    )


def test_incomplete_event_is_invalid() -> None:
    assert interpret(Dialect.OPENAI_CHAT, IncompleteEvent(5)).kind is Kind.INVALID


def test_raw_dialect_counts_everything_as_content() -> None:
    assert interpret(Dialect.RAW, SSEMessage("anything")).is_content
    assert interpret(Dialect.OPENAI_CHAT, RawChunk(10)).kind is Kind.RAW


@pytest.mark.parametrize(
    ("path", "content_type", "dialect"),
    [
        ("/v1/chat/completions", "text/event-stream; charset=utf-8", Dialect.OPENAI_CHAT),
        ("/v1/completions", "text/event-stream", Dialect.OPENAI_COMPLETIONS),
        ("/generate_stream", "text/event-stream", Dialect.TGI),
        ("/api/chat", "application/x-ndjson", Dialect.OLLAMA),
        ("/api/generate", "", Dialect.OLLAMA),
        ("/ollama/api/chat", "application/x-ndjson", Dialect.OLLAMA),
        ("/stream", "TEXT/EVENT-STREAM", Dialect.OPENAI_CHAT),
        ("/download", "application/octet-stream", Dialect.RAW),
        # OpenRouter and Open WebUI serve OpenAI SSE under /api/: not Ollama.
        ("/api/v1/chat/completions", "text/event-stream", Dialect.OPENAI_CHAT),
        ("/api/chat/completions", "text/event-stream", Dialect.OPENAI_CHAT),
        ("/api/v1/completions", "", Dialect.OPENAI_COMPLETIONS),
        ("/api/events", "text/event-stream", Dialect.OPENAI_CHAT),
    ],
)
def test_detect_dialect(path: str, content_type: str, dialect: Dialect) -> None:
    assert detect_dialect(path, content_type) is dialect


# -- parsers per dialect --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "parser_type"),
    [
        (Dialect.OLLAMA, NDJSONParser),
        (Dialect.RAW, RawParser),
        (Dialect.AUTO, SSEParser),
        (Dialect.OPENAI_CHAT, SSEParser),
        (Dialect.OPENAI_COMPLETIONS, SSEParser),
        (Dialect.TGI, SSEParser),
    ],
)
def test_parser_for(dialect: Dialect, parser_type: type) -> None:
    assert isinstance(parser_for(dialect), parser_type)


@pytest.mark.parametrize("dialect", [Dialect.OLLAMA, Dialect.OPENAI_CHAT])
@pytest.mark.parametrize("caps", [{"max_line_bytes": 8}, {"max_event_bytes": 8}])
def test_parser_for_passes_the_caps(dialect: Dialect, caps: dict[str, int]) -> None:
    with pytest.raises(StreamProtocolError):
        parser_for(dialect, **caps).feed(b"data: 0123456789")


def test_raw_parser_yields_one_chunk_per_read() -> None:
    parser = RawParser()
    assert parser.feed(b"abc") == [RawChunk(3, 3)]
    assert parser.feed(b"") == []
    assert parser.feed(b"de") == [RawChunk(2, 5)]
    assert parser.close() == []


def test_stream_all_is_sorted_and_complete() -> None:
    names = tokenpath.stream.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in names:
        assert hasattr(tokenpath.stream, name)
