"""SSEParser: fixed byte cases, size caps, and "any chunking gives the same events" properties.

The properties compare the parser with ``reference``, a deliberately naive model of the
WHATWG rules that walks the whole stream byte by byte, so the parser's shortcuts (one event
per read, many events per read, CRLF, bare ``data:``) are all checked against one reading.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenpath.errors import StreamProtocolError
from tokenpath.stream import sse
from tokenpath.stream.events import IncompleteEvent, SSEComment, SSEMessage, StreamEvent
from tokenpath.stream.sse import SSEParser

BOM = b"\xef\xbb\xbf"


def parse(chunks: Sequence[bytes], **caps: int) -> list[StreamEvent]:
    parser = SSEParser(**caps)
    events: list[StreamEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events + parser.close()


def reference(stream: bytes) -> list[StreamEvent]:
    """The spec, read as plainly as possible: one byte at a time, no buffering tricks."""
    events: list[StreamEvent] = []
    i = len(BOM) if stream.startswith(BOM) else 0
    data: list[str] = []
    event, pending = "", 0
    retry: int | None = None
    last_id: str | None = None
    while True:
        j = i
        while j < len(stream) and stream[j] not in b"\r\n":
            j += 1
        if j == len(stream):
            break
        line = stream[i:j]
        crlf = stream[j : j + 2] == b"\r\n"
        end = j + 1  # a line is complete at its first terminator byte
        i = j + (2 if crlf else 1)
        if not line:
            if data:
                events.append(SSEMessage("\n".join(data), event or "message", last_id, retry, end))
            data, event, retry, pending = [], "", None, 0
            continue
        if line.startswith(b":"):
            comment = line[2:] if line.startswith(b": ") else line[1:]
            events.append(SSEComment(comment.decode("utf-8", "replace"), end))
            continue
        pending += len(line) + (2 if crlf else 1)
        name, _, value = line.partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        text = value.decode("utf-8", "replace")
        if name == b"data":
            data.append(text)
        elif name == b"event":
            event = text
        elif name == b"id" and "\0" not in text:
            last_id = text
        elif name == b"retry" and text and all(c in "0123456789" for c in text):
            retry = int(text)
    pending += len(stream) - i
    return events + ([IncompleteEvent(pending, len(stream))] if pending else [])


def feed_until_error(parser: SSEParser, pieces: Sequence[bytes]) -> tuple[int, str]:
    """Bytes fed up to and including the read that raised, and the error message."""
    fed = 0
    for piece in pieces:
        fed += len(piece)
        try:
            parser.feed(piece)
        except StreamProtocolError as exc:
            return fed, str(exc)
    raise AssertionError("no StreamProtocolError")


def msg(data: str, end: int, event: str = "message", id: str | None = None) -> SSEMessage:
    return SSEMessage(data=data, event=event, id=id, end_offset=end)


# -- fixed byte cases ------------------------------------------------------------------------

CASES: list[tuple[str, list[bytes], list[StreamEvent]]] = [
    ("lf", [b"data: a\n\n"], [msg("a", 9)]),
    ("crlf split between CR and LF", [b"data: a\r", b"\n\r", b"\n"], [msg("a", 10)]),
    ("crlf split inside the blank line", [b"data: a\r\n\r", b"\n"], [msg("a", 10)]),
    ("cr only", [b"data: a\r\r"], [msg("a", 9)]),
    (
        "LF after a CR at a read edge is not a blank line",
        [b"data: a\r", b"\ndata: b\n\n"],
        [msg("a\nb", 18)],
    ),
    ("mixed line ends", [b"data: a\rdata: b\r\ndata: c\n\r\n"], [msg("a\nb\nc", 26)]),
    ("utf-8 split across reads", [b"data: \xe2", b"\x82", b"\xac\n\n"], [msg("€", 11)]),
    ("invalid utf-8 is replaced", [b"data: \xff\xe2\x82\n\n"], [msg("\ufffd\ufffd", 11)]),
    ("bom", [BOM + b"data: x\n\n"], [msg("x", 12)]),
    ("bom split across reads", [b"\xef", b"\xbb", b"\xbfdata: x\n\n"], [msg("x", 12)]),
    ("only the first bom is skipped", [BOM + BOM + b"data: x\n\n"], []),
    ("a bom inside the stream is data", [b"data: " + BOM + b"x\n\n"], [msg("\ufeffx", 12)]),
    ("field without colon", [b"data\n\n"], [msg("", 6)]),
    ("event without colon means message", [b"event\ndata: x\n\n"], [msg("x", 15)]),
    ("no space after colon", [b"data:x\n\n"], [msg("x", 8)]),
    ("two spaces after colon keep one", [b"data:  x\n\n"], [msg(" x", 10)]),
    ("multi-line data", [b"data: a\ndata: b\ndata:\n\n"], [msg("a\nb\n", 23)]),
    ("event type", [b"event: delta\ndata: x\n\n"], [msg("x", 22, event="delta")]),
    ("unknown field is ignored", [b"foo: bar\ndata: x\n\n"], [msg("x", 18)]),
    ("block without data dispatches nothing", [b"event: x\nretry: 5\n\n"], []),
    ("comment", [b": ping\n"], [SSEComment("ping", 7)]),
    ("comment without space", [b":ping\n"], [SSEComment("ping", 6)]),
    ("comment keeps a second space", [b":  ping\n"], [SSEComment(" ping", 8)]),
    ("empty comment", [b":\n\n"], [SSEComment("", 2)]),
    (
        "comment inside an event",
        [b"data: a\n: hb\ndata: b\n\n"],
        [SSEComment("hb", 13), msg("a\nb", 22)],
    ),
    (
        "tokenpath heartbeat",
        [b": tokenpath send_ns=123\r\n"],
        [SSEComment("tokenpath send_ns=123", 24)],
    ),
    (
        "bare data prefix, as axum writes it",
        [b"data:{}\n\ndata:[DONE]\n\n"],
        [msg("{}", 9), msg("[DONE]", 22)],
    ),
    ("incomplete line at EOF", [b"data: a"], [IncompleteEvent(7, 7)]),
    ("incomplete event at EOF", [b"data: a\n"], [IncompleteEvent(8, 8)]),
    ("incomplete after a message", [b"data: a\n\ndata: b"], [msg("a", 9), IncompleteEvent(7, 16)]),
    ("crlf counts whole in pending bytes", [b"data: a\r", b"\n"], [IncompleteEvent(9, 9)]),
    (
        "a finished stream leaves nothing",
        [b"data: a\n\n: bye\n"],
        [msg("a", 9), SSEComment("bye", 15)],
    ),
    ("partial bom at EOF is pending", [b"\xef\xbb"], [IncompleteEvent(2, 2)]),
    ("an exact bom and nothing else", [BOM], []),
]


@pytest.mark.parametrize(("chunks", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fixed_bytes(chunks: list[bytes], expected: list[StreamEvent]) -> None:
    assert parse(chunks) == expected
    stream = b"".join(chunks)
    assert reference(stream) == expected
    assert parse([stream]) == expected
    assert parse([stream[i : i + 1] for i in range(len(stream))]) == expected


@pytest.mark.parametrize(
    ("line", "retry"),
    [
        (b"retry: 3000", 3000),
        (b"retry:0", 0),
        (b"retry: 30s", None),
        (b"retry: -1", None),
        (b"retry: 1.5", None),
        (b"retry:", None),
        (b"retry: \xef\xbc\x93", None),
    ],  # fullwidth 3
)
def test_retry_takes_ascii_digits_only(line: bytes, retry: int | None) -> None:
    (event,) = parse([line + b"\ndata: x\n\n"])
    assert isinstance(event, SSEMessage)
    assert event.retry == retry


def test_retry_belongs_to_its_event() -> None:
    first, second = parse([b"retry: 10\ndata: a\n\ndata: b\n\n"])
    assert isinstance(first, SSEMessage)
    assert isinstance(second, SSEMessage)
    assert (first.retry, second.retry) == (10, None)


def test_id_persists_and_an_id_with_nul_is_ignored() -> None:
    events = parse([b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid\ndata: c\n\n"])
    assert [e.id for e in events if isinstance(e, SSEMessage)] == ["1", "1", ""]


def test_id_in_a_block_without_data_still_counts() -> None:
    (event,) = parse([b"id: 7\n\ndata: x\n\n"])
    assert isinstance(event, SSEMessage)
    assert (event.id, event.event) == ("7", "message")


def test_comment_is_emitted_when_its_line_ends() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n: tokenpath send_ns=5") == []
    assert parser.feed(b"\r") == [SSEComment("tokenpath send_ns=5", 30)]
    assert parser.feed(b"\n") == []


def test_event_is_emitted_at_the_cr_without_waiting_for_a_lf() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r\n\r") == [msg("a", 10)]
    assert parser.feed(b"\n") == []  # the rest of the CRLF, not a second blank line
    assert parser.feed(b"data: b\r\n\r\n") == [msg("b", 21)]
    assert parser.close() == []


def test_one_event_per_read_offsets_add_up() -> None:
    parser = SSEParser()
    reads = [f'data: {{"n":{i}}}\n\n'.encode() for i in range(20)]
    events = [e for read in reads for e in parser.feed(read)]
    ends = [sum(map(len, reads[: i + 1])) for i in range(20)]
    assert events == [msg(f'{{"n":{i}}}', end) for i, end in enumerate(ends)]


def test_empty_feed_is_a_no_op() -> None:
    parser = SSEParser()
    assert parser.feed(b"") == []
    assert parser.feed(b"data: a\n\n") == [msg("a", 9)]
    assert parser.feed(b"") == []


def test_messages_are_ordinary_frozen_values() -> None:
    fast = parse([b"data: a\n\n" * 3])  # a read with several events takes the bulk path
    built = [msg("a", 9), msg("a", 18), msg("a", 27)]
    assert fast == built
    assert [hash(e) for e in fast] == [hash(e) for e in built]
    first = fast[0]
    assert isinstance(first, SSEMessage)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.data = "b"  # type: ignore[misc]


def test_constructor_fallback_gives_the_same_events(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = [b"data: a\n\n", b"data: b\n\ndata: c\n\ndata: d", b"\n\nevent: e\ndata: f\n\n"]
    expected = parse(stream)
    monkeypatch.setattr(sse, "_SETTERS", None)
    assert parse(stream) == expected


# -- size caps -------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [b"data: ", b": ", b"", b"event: "])
def test_endless_line_fails_before_buffering_past_the_cap(start: bytes) -> None:
    cap, chunk = 1024, 100
    fed, error = feed_until_error(SSEParser(max_line_bytes=cap), [start] + [b"x" * chunk] * 100)
    assert fed <= cap + chunk
    assert re.search(r"max_line_bytes=1024.*byte 0.*byte 1025", error)


def test_endless_line_after_events_reports_its_own_offset() -> None:
    parser = SSEParser(max_line_bytes=64)
    assert parser.feed(b"data: a\n\n") == [msg("a", 9)]
    _, error = feed_until_error(parser, [b"y" * 10] * 10)
    assert "line starting at byte 9 passed the cap at byte 74" in error


def test_long_line_in_one_read_fails() -> None:
    with pytest.raises(StreamProtocolError, match="max_line_bytes=16"):
        SSEParser(max_line_bytes=16).feed(b"data: " + b"x" * 20 + b"\n\n")


def test_line_at_the_cap_is_fine() -> None:
    line = b"data: " + b"x" * 10
    assert parse([line + b"\n\n"], max_line_bytes=len(line)) == [msg("x" * 10, 18)]
    assert parse([line[:5], line[5:], b"\n\n"], max_line_bytes=len(line)) == [msg("x" * 10, 18)]


def test_event_without_blank_line_fails_at_the_event_cap() -> None:
    fed, error = feed_until_error(SSEParser(max_event_bytes=100), [b"data: abcdefgh\n"] * 100)
    assert fed <= 100 + 15
    assert re.search(r"max_event_bytes=100.*starting at byte 0", error)


def test_comments_do_not_count_toward_the_event_cap() -> None:
    events = parse([b": heartbeat\n"] * 50 + [b"data: x\n\n"], max_event_bytes=64)
    assert events[-1] == msg("x", 609)


def test_a_failed_parser_keeps_failing() -> None:
    parser = SSEParser(max_line_bytes=8)
    with pytest.raises(StreamProtocolError):
        parser.feed(b"data: 0123456789")
    with pytest.raises(StreamProtocolError):
        parser.feed(b"\n\n")
    with pytest.raises(StreamProtocolError):
        parser.close()


def test_caps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SSEParser(max_line_bytes=0)


# -- properties: any chunking, same events ---------------------------------------------------

VALUES = st.sampled_from(
    [
        b"",
        b"x",
        b" x",
        b"  two",
        b'{"k":"v"}',
        b"[DONE]",
        b"\xc3\xa9t\xc3\xa9",
        b"\xe2\x82",
        b"\xac",
        b"\xff",
        b"a\x00b",
        b"12",
        b"-1",
        BOM,
    ]
)
FIELDS = st.sampled_from([b"data", b"event", b"id", b"retry", b"", b"foo", b"dat"])
SEPARATORS = st.sampled_from([b":", b": ", b""])
LINE_ENDS = st.sampled_from([b"\n", b"\r", b"\r\n"])


@st.composite
def sse_streams(draw: st.DrawFn) -> bytes:
    """Arbitrary field/comment/blank lines with any line ends, an optional BOM and tail."""
    out = [BOM] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            out.append(b"")  # blank line
        else:
            out.append(draw(FIELDS) + draw(SEPARATORS) + draw(VALUES))
        out.append(draw(LINE_ENDS))
    if draw(st.booleans()):
        out.append(draw(FIELDS) + draw(SEPARATORS) + draw(VALUES))  # unfinished last line
    return b"".join(out)


@st.composite
def llm_streams(draw: st.DrawFn) -> bytes:
    """The shapes servers really send: data-only events, one line ending and prefix throughout,
    now and then a heartbeat, a multi-line event or an event type."""
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    prefix = draw(st.sampled_from([b"data: ", b"data:"]))
    out = []
    for _ in range(draw(st.integers(1, 12))):
        value = draw(VALUES.filter(lambda v: v != BOM))
        extra = draw(st.integers(0, 9))
        if extra == 0:
            out.append(b": ping" + end)
        elif extra == 1:
            out.append(prefix + value + end)  # a second data line
        elif extra == 2:
            out.append(b"event: delta" + end)
        out.append(prefix + value + end + end)
    if draw(st.booleans()):
        out.append(prefix + b'{"partial')
    return b"".join(out)


STREAMS = st.one_of(sse_streams(), llm_streams())


@settings(max_examples=500)
@given(STREAMS)
def test_whole_stream_matches_the_reference(stream: bytes) -> None:
    assert parse([stream]) == reference(stream)


@settings(max_examples=100)
@given(STREAMS)
def test_every_split_into_two_reads_gives_the_same_events(stream: bytes) -> None:
    expected = reference(stream)
    for cut in range(len(stream) + 1):
        assert parse([stream[:cut], stream[cut:]]) == expected, cut


@settings(max_examples=200)
@given(STREAMS)
def test_one_byte_per_read_gives_the_same_events(stream: bytes) -> None:
    assert parse([stream[i : i + 1] for i in range(len(stream))]) == reference(stream)


@settings(max_examples=500)
@given(STREAMS, st.data())
def test_any_chunking_gives_the_same_events(stream: bytes, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert parse(chunks) == reference(stream)


@settings(max_examples=200)
@given(st.lists(llm_streams(), min_size=2, max_size=6), st.integers(1, 64))
def test_fixed_size_reads_over_many_events(streams: list[bytes], size: int) -> None:
    # Joined streams may leave a partial event mid-body; the reference reads that the same way.
    stream = b"".join(streams)
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    assert parse(chunks) == reference(stream)
