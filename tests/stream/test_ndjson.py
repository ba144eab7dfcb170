"""NDJSONParser: fixed byte cases, the line cap, and "any chunking gives the same events"."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenpath.errors import StreamProtocolError
from tokenpath.stream.events import IncompleteEvent, NDJSONLine, StreamEvent
from tokenpath.stream.ndjson import NDJSONParser


def parse(chunks: Sequence[bytes], **caps: int) -> list[StreamEvent]:
    parser = NDJSONParser(**caps)
    events: list[StreamEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events + parser.close()


def reference(stream: bytes) -> list[StreamEvent]:
    """Split at every LF, drop one trailing CR, skip blank lines; a tail without LF is pending."""
    events: list[StreamEvent] = []
    offset = 0
    *lines, tail = stream.split(b"\n")
    for line in lines:
        offset += len(line) + 1
        text = line.removesuffix(b"\r")
        if text.strip():
            events.append(NDJSONLine(text.decode("utf-8", "replace"), offset))
    if tail.strip():
        events.append(IncompleteEvent(len(tail), len(stream)))
    return events


CASES: list[tuple[str, list[bytes], list[StreamEvent]]] = [
    ("lines", [b'{"a":1}\n{"b":2}\n'], [NDJSONLine('{"a":1}', 8), NDJSONLine('{"b":2}', 16)]),
    ("crlf", [b'{"a":1}\r\n'], [NDJSONLine('{"a":1}', 9)]),
    ("crlf split", [b'{"a":1}\r', b"\n"], [NDJSONLine('{"a":1}', 9)]),
    ("blank and whitespace lines are skipped", [b"\n \t\n\r\n{}\n"], [NDJSONLine("{}", 9)]),
    (
        "line split across reads",
        [b'{"resp', b'onse":"hi"}', b"\n"],
        [NDJSONLine('{"response":"hi"}', 18)],
    ),
    ("utf-8 split across reads", [b'{"r":"\xe2\x82', b'\xac"}\n'], [NDJSONLine('{"r":"€"}', 12)]),
    ("a line is not parsed here", [b"not json\n"], [NDJSONLine("not json", 9)]),
    (
        "final line without LF is incomplete",
        [b'{"a":1}\n{"done":tr'],
        [NDJSONLine('{"a":1}', 8), IncompleteEvent(10, 18)],
    ),
    ("trailing whitespace is not an event", [b"{}\n  "], [NDJSONLine("{}", 3)]),
    ("empty stream", [], []),
    ("empty reads", [b"", b"{}\n", b""], [NDJSONLine("{}", 3)]),
]


@pytest.mark.parametrize(("chunks", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fixed_bytes(chunks: list[bytes], expected: list[StreamEvent]) -> None:
    assert parse(chunks) == expected
    stream = b"".join(chunks)
    assert reference(stream) == expected
    assert parse([stream[i : i + 1] for i in range(len(stream))]) == expected


def test_a_line_is_emitted_when_its_lf_arrives() -> None:
    parser = NDJSONParser()
    assert parser.feed(b'{"response":"a"}') == []
    assert parser.feed(b'\n{"respo') == [NDJSONLine('{"response":"a"}', 17)]


def test_endless_line_fails_before_buffering_past_the_cap() -> None:
    cap, chunk = 1024, 100
    parser = NDJSONParser(max_line_bytes=cap)
    assert parser.feed(b"{}\n") == [NDJSONLine("{}", 3)]
    fed = 0
    error = ""
    for _ in range(100):
        fed += chunk
        try:
            parser.feed(b"x" * chunk)
        except StreamProtocolError as exc:
            error = str(exc)
            break
    assert fed <= cap + chunk
    assert re.search(r"max_line_bytes=1024.*byte 3.*byte 1028", error)


def test_long_complete_line_in_one_read_fails() -> None:
    with pytest.raises(StreamProtocolError, match=r"line starting at byte 3"):
        NDJSONParser(max_line_bytes=16).feed(b"{}\n" + b"x" * 20 + b"\n{}\n")


def test_long_line_completed_from_held_bytes_fails() -> None:
    parser = NDJSONParser(max_line_bytes=16)
    parser.feed(b"x" * 10)
    with pytest.raises(StreamProtocolError, match=r"line starting at byte 0"):
        parser.feed(b"y" * 10 + b"\n")


def test_line_at_the_cap_is_fine() -> None:
    assert parse([b"x" * 8, b"x" * 8 + b"\n"], max_line_bytes=16) == [NDJSONLine("x" * 16, 17)]


def test_a_failed_parser_keeps_failing() -> None:
    parser = NDJSONParser(max_line_bytes=4)
    with pytest.raises(StreamProtocolError):
        parser.feed(b"123456")
    with pytest.raises(StreamProtocolError):
        parser.feed(b"\n")
    with pytest.raises(StreamProtocolError):
        parser.close()


def test_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        NDJSONParser(max_line_bytes=0)


LINES = st.sampled_from(
    [
        b'{"message":{"content":"hi"},"done":false}',
        b'{"done":true,"eval_count":3}',
        b"",
        b" ",
        b"\r",
        b"\t{}",
        b'{"r":"\xc3\xa9"}',
        b"\xe2\x82",
        b"\xac",
        b"x\ry",
    ]
)


@st.composite
def ndjson_streams(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(LINES, max_size=10))
    tail = draw(LINES) if draw(st.booleans()) else b""
    return b"".join(line + b"\n" for line in lines) + tail


@settings(max_examples=300)
@given(ndjson_streams(), st.data())
def test_any_chunking_gives_the_same_events(stream: bytes, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert parse(chunks) == reference(stream)
    assert parse([stream[i : i + 1] for i in range(len(stream))]) == reference(stream)
