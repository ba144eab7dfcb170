"""Rendering of schedule steps to bytes: exact wire bytes, pure."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tokenpath.mock.framing import (
    CHUNKED_END,
    BodyFraming,
    Endpoint,
    EventRenderer,
    StreamContext,
    content_length,
    created_at,
    resolve_framing,
)
from tokenpath.mock.scenarios import Eol, Framing, Scenario
from tokenpath.mock.schedule import Step, StepKind, build_schedule
from tokenpath.mock.text import generate_text
from tokenpath.mock.wire import STAMP_WIDTH, Wire, format_stamp
from tokenpath.stream.dialects import Dialect, Kind, interpret
from tokenpath.stream.events import NDJSONLine, SSEComment, SSEMessage

CHAT = StreamContext(Endpoint.CHAT, "chatcmpl-x", 1700000000, model="m", chunked=False)
HEAD = (
    b'{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1700000000,"model":"m",'
    b'"system_fingerprint":"fp_tokenpath",'
)
STAMP_42 = b'"tokenpath_send_ns":                  42}'


def content(*tokens: str, count: int | None = None, **flags: bool) -> Step:
    total = len(tokens) if count is None else count
    return Step(0, StepKind.CONTENT, tokens=tokens, count=total, event=1, **flags)


def test_stamp_is_fixed_width() -> None:
    assert format_stamp(42) == b" " * 18 + b"42"
    assert len(format_stamp(1_700_000_000_123_456_789)) == STAMP_WIDTH
    assert Wire(b"a", b"b", stamped=True).at(7) == b"a" + b" " * 19 + b"7b"
    assert Wire(b"a", b"b", stamped=True).size == 2 + STAMP_WIDTH


def test_chat_content_event_exact_bytes() -> None:
    wire = EventRenderer(CHAT).render(content("the"))
    assert wire.at(42) == (
        b"data: " + HEAD + b'"choices":[{"index":0,"delta":{"content":"the"},'
        b'"logprobs":null,"finish_reason":null}],' + STAMP_42 + b"\n\n"
    )


def test_chat_role_last_usage_done_error() -> None:
    renderer = EventRenderer(dataclasses.replace(CHAT, prompt_tokens=3, finish_reason="length"))
    assert renderer.render(Step(0, StepKind.ROLE)).at(42) == (
        b"data: " + HEAD + b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},'
        b'"logprobs":null,"finish_reason":null}],' + STAMP_42 + b"\n\n"
    )
    last = renderer.render(content(" a", " b", last=True)).at(42)
    assert b'"delta":{"content":" a b"},"logprobs":null,"finish_reason":"length"}]' in last
    assert renderer.render(Step(0, StepKind.USAGE, count=5)).at(42) == (
        b"data: " + HEAD + b'"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,'
        b'"total_tokens":8},' + STAMP_42 + b"\n\n"
    )
    assert renderer.render(Step(0, StepKind.DONE)).at(42) == b"data: [DONE]\n\n"
    assert renderer.render(Step(0, StepKind.ERROR, count=4)).at(42) == (
        b'data: {"error":{"message":"tokenpath mock: injected error after 4 tokens",'
        b'"type":"server_error"},' + STAMP_42 + b"\n\n"
    )


def test_completions_event() -> None:
    ctx = StreamContext(Endpoint.COMPLETIONS, "cmpl-x", 1, model="m", chunked=False)
    assert EventRenderer(ctx).render(content("hi")).at(42) == (
        b'data: {"id":"cmpl-x","object":"text_completion","created":1,"model":"m",'
        b'"system_fingerprint":"fp_tokenpath","choices":[{"index":0,"text":"hi",'
        b'"logprobs":null,"finish_reason":null}],' + STAMP_42 + b"\n\n"
    )


@pytest.mark.parametrize(
    ("eol", "ending"), [("lf", b"\n\n"), ("crlf", b"\r\n\r\n"), ("cr", b"\r\r")]
)
def test_sse_line_endings(eol: str, ending: bytes) -> None:
    renderer = EventRenderer(dataclasses.replace(CHAT, eol=Eol(eol)))
    assert renderer.render(content("x")).at(1).endswith(b"}" + ending)
    assert renderer.render(Step(0, StepKind.DONE)).at(1) == b"data: [DONE]" + ending
    assert renderer.render(Step(0, StepKind.HEARTBEAT)).at(1) == (
        b": tokenpath send_ns=" + format_stamp(1) + ending
    )


def test_chunk_framing_wraps_each_event() -> None:
    chunked = EventRenderer(dataclasses.replace(CHAT, chunked=True))
    plain = EventRenderer(CHAT).render(content("the")).at(42)
    assert chunked.render(content("the")).at(42) == b"%x\r\n" % len(plain) + plain + b"\r\n"
    assert chunked.body_end() == CHUNKED_END == b"0\r\n\r\n"
    assert EventRenderer(CHAT).body_end() == b""


def test_tgi_events() -> None:
    ctx = StreamContext(Endpoint.TGI, "req-x", 1, seed=0, chunked=False)
    renderer = EventRenderer(ctx)
    first = renderer.render(content(generate_text(0, 1), count=1)).at(42)
    assert first.startswith(b'data:{"token":{"id":')
    event = json.loads(first[5:])
    assert event["token"]["text"] == generate_text(0, 1)
    assert event["token"]["special"] is False
    assert event["generated_text"] is None
    assert event["details"] is None
    final = json.loads(renderer.render(content(" two", count=2, last=True)).at(42)[5:])
    assert final["token"]["text"] == " two"
    assert final["generated_text"] == generate_text(0, 2)
    assert final["details"] == {"finish_reason": "length", "generated_tokens": 2, "seed": None}
    empty = json.loads(renderer.render(Step(0, StepKind.DONE, count=0)).at(42)[5:])
    assert empty["token"]["special"] is True
    assert empty["generated_text"] == ""


def test_ollama_lines() -> None:
    ctx = StreamContext(Endpoint.OLLAMA_CHAT, "req", 1, model="m", chunked=False, wall_ns=5)
    renderer = EventRenderer(ctx)
    assert renderer.render(content("hi")).at(42) == (
        b'{"model":"m","created_at":"1970-01-01T00:00:00.000000005Z",'
        b'"message":{"role":"assistant","content":"hi"},"done":false,' + STAMP_42 + b"\n"
    )
    done = json.loads(renderer.render(Step(7, StepKind.DONE, count=3)).at(42))
    assert done["done"] is True
    assert done["eval_count"] == 3
    assert done["created_at"] == "1970-01-01T00:00:00.000000012Z"
    generate = EventRenderer(dataclasses.replace(ctx, endpoint=Endpoint.OLLAMA_GENERATE))
    assert json.loads(generate.render(content("hi")).at(1))["response"] == "hi"
    assert renderer.render(Step(0, StepKind.HEARTBEAT)) == Wire(b"")  # no comments in NDJSON


def test_created_at_is_fixed_width_rfc3339() -> None:
    assert created_at(1_700_000_000_000_000_001) == "2023-11-14T22:13:20.000000001Z"


@pytest.mark.parametrize("size", [0, 100, 400, 1000, 4096])
def test_pad_makes_content_events_at_least_that_big(size: int) -> None:
    renderer = EventRenderer(dataclasses.replace(CHAT, pad=size))
    data = renderer.render(content("the")).at(42)
    assert len(data) >= size
    assert len(data) <= max(size + 20, len(EventRenderer(CHAT).render(content("the")).at(42)))
    assert json.loads(data[6:])["choices"][0]["delta"]["content"] == "the"


def test_bad_utf8_and_bad_json() -> None:
    renderer = EventRenderer(CHAT)
    bad_utf8 = renderer.render(content("the", bad_utf8=True)).at(42)
    assert b'"content":"the\xff"' in bad_utf8
    with pytest.raises(UnicodeDecodeError):
        bad_utf8.decode()
    bad_json = renderer.render(content("the", bad_json=True)).at(42)
    assert bad_json.endswith(b'"tokenpath_send_ns":                  42\n\n')
    with pytest.raises(ValueError, match="Expecting"):
        json.loads(bad_json[6:])


def test_truncate_promises_a_whole_event_and_sends_half() -> None:
    renderer = EventRenderer(dataclasses.replace(CHAT, chunked=True))
    wire = renderer.render(Step(0, StepKind.TRUNCATE, tokens=("the",), count=0, event=1))
    whole = EventRenderer(CHAT).render(content("the")).at(0)
    assert not wire.stamped
    assert wire.head == b"%x\r\n" % len(whole) + whole[: len(whole) // 2]
    assert EventRenderer(CHAT).render(Step(0, StepKind.TRUNCATE, tokens=("a",))) == Wire(b"")


def test_fin_and_rst_render_nothing() -> None:
    renderer = EventRenderer(CHAT)
    assert renderer.render(Step(0, StepKind.FIN)) == Wire(b"")
    assert renderer.render(Step(0, StepKind.RST)) == Wire(b"")


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_content_length_is_the_rendered_size(endpoint: Endpoint) -> None:
    scenario = Scenario(tokens=7, per_event=2, pad=300, heartbeat=0.01, usage=True)
    ctx = StreamContext(endpoint, "id", 1, chunked=False, wall_ns=10**18)
    renderer = EventRenderer(ctx)
    options = {
        "role": endpoint is Endpoint.CHAT,
        "usage": endpoint.openai,
        "terminator": endpoint is not Endpoint.TGI,
        "heartbeats": endpoint.sse,
    }
    steps = build_schedule(scenario, **options)
    body = b"".join(renderer.render(step).at(123456789) for step in steps)
    assert content_length(renderer, steps) == len(body)


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_stamps_are_read_back_by_the_dialects(endpoint: Endpoint) -> None:
    """The contract with stream/dialects.py: every stamped payload yields its send_ns."""
    ctx = StreamContext(endpoint, "id", 1, chunked=False)
    renderer = EventRenderer(ctx)
    dialect = {
        Endpoint.CHAT: Dialect.OPENAI_CHAT,
        Endpoint.COMPLETIONS: Dialect.OPENAI_COMPLETIONS,
        Endpoint.TGI: Dialect.TGI,
    }.get(endpoint, Dialect.OLLAMA)
    data = renderer.render(content("hi")).at(1_234_567_890_123).decode()
    if endpoint.sse:
        event: SSEMessage | NDJSONLine = SSEMessage(data.split(":", 1)[1].strip())
    else:
        event = NDJSONLine(data.strip())
    meaning = interpret(dialect, event)
    assert meaning.kind is Kind.CONTENT
    assert meaning.text == "hi"
    assert meaning.send_ns == 1_234_567_890_123
    if endpoint.sse:
        comment = renderer.render(Step(0, StepKind.HEARTBEAT)).at(99).decode()
        assert interpret(dialect, SSEComment(comment[1:].strip())).send_ns == 99


def test_usage_chunk_and_done_are_understood_by_the_dialects() -> None:
    renderer = EventRenderer(CHAT)
    usage = renderer.render(Step(0, StepKind.USAGE, count=5)).at(1).decode()
    assert interpret(Dialect.OPENAI_CHAT, SSEMessage(usage[6:].strip())).kind is Kind.USAGE
    role = renderer.render(Step(0, StepKind.ROLE)).at(1).decode()
    assert interpret(Dialect.OPENAI_CHAT, SSEMessage(role[6:].strip())).kind is Kind.EMPTY
    error = renderer.render(Step(0, StepKind.ERROR, count=1)).at(1).decode()
    assert interpret(Dialect.OPENAI_CHAT, SSEMessage(error[6:].strip())).kind is Kind.ERROR


def test_resolve_framing() -> None:
    assert resolve_framing(Framing.AUTO, "1.1") is BodyFraming.CHUNKED
    assert resolve_framing(Framing.AUTO, "1.0") is BodyFraming.CLOSE
    assert resolve_framing(Framing.LENGTH, "1.0") is BodyFraming.LENGTH
