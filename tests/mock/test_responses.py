"""Whole responses: heads and non-streamed bodies, exact bytes, pure."""

from __future__ import annotations

import dataclasses
import json

from tokenpath.mock.framing import BodyFraming, Endpoint, StreamContext
from tokenpath.mock.responses import SERVER, complete_body, render_head, stream_head
from tokenpath.mock.scenarios import Accel
from tokenpath.mock.text import generate_text

CHAT = StreamContext(Endpoint.CHAT, "chatcmpl-x", 1700000000, model="m", chunked=False)


def test_complete_bodies() -> None:
    body = json.loads(complete_body(CHAT, 3, 0).at(5))
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == generate_text(0, 3)
    assert body["usage"]["completion_tokens"] == 3
    assert body["tokenpath_send_ns"] == 5
    ollama = dataclasses.replace(CHAT, endpoint=Endpoint.OLLAMA_GENERATE)
    assert json.loads(complete_body(ollama, 2, 0).at(5))["response"] == generate_text(0, 2)


def test_heads() -> None:
    assert render_head(404, [("a", "b")]) == b"HTTP/1.1 404 Not Found\r\na: b\r\n\r\n"
    head = stream_head(
        content_type="text/event-stream",
        framing=BodyFraming.LENGTH,
        length=12,
        accel=Accel.NO,
        close=True,
        date="D",
        request_id="r",
    )
    assert head == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"x-accel-buffering: no\r\ncontent-length: 12\r\nconnection: close\r\ndate: D\r\n"
        b"server: %s\r\nx-request-id: r\r\n\r\n" % SERVER.encode()
    )
