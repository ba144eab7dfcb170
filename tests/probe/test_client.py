"""Unit tests of the probe client's read loop with a scripted transport and a FakeClock."""

from __future__ import annotations

import gzip
import socket
import ssl
import zlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenpath.clock import FakeClock
from tokenpath.errors import ProbeConnectError, ProbeError, UsageError
from tokenpath.probe.client import fetch
from tokenpath.probe.request import ProbeRequest
from tokenpath.probe.timeline import Timeline, TransportEnd
from tokenpath.probe.transport import ScriptedTransport, ScriptStep
from tokenpath.stream.dialects import Dialect
from tokenpath.stream.events import IncompleteEvent, RawChunk, SSEComment, SSEMessage

MS = 1_000_000
URL = "http://127.0.0.1:8000/v1/chat/completions"
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def run(
    script: Sequence[ScriptStep], request: ProbeRequest | None = None, **kw: float
) -> tuple[Timeline, ScriptedTransport]:
    clock = FakeClock(start_ns=1_000 * MS)
    transport = ScriptedTransport(clock, script, **kw)
    timeline = fetch(request or ProbeRequest(URL, body=b"{}"), clock, transport)
    return timeline, transport


def messages(timeline: Timeline) -> list[str]:
    return [a.event.data for a in timeline.arrivals if isinstance(a.event, SSEMessage)]


def test_two_events_in_one_read_share_its_index_and_stamp() -> None:
    timeline, _ = run(
        [
            (0.100, SSE_HEAD),
            (0.250, chunk(b"data: a\n\ndata: b\n\n")),
            (0.300, chunk(b"data: c\n\n") + b"0\r\n\r\n"),
        ]
    )
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert messages(timeline) == ["a", "b", "c"]
    first, second, third = timeline.arrivals
    assert first.read_index == second.read_index == 0
    assert first.t_ns == second.t_ns == 1_250 * MS
    assert third.read_index == 1
    assert third.t_ns == 1_300 * MS
    assert [r.index for r in timeline.reads] == [0, 1]
    assert timeline.reads[0].t_ns == 1_250 * MS


def test_an_event_split_across_three_reads_is_stamped_with_the_third() -> None:
    timeline, _ = run(
        [
            (0.1, SSE_HEAD),
            (0.2, chunk(b"data: hel")),
            (0.3, chunk(b"lo wor")),
            (0.4, chunk(b"ld\n\n") + b"0\r\n\r\n"),
        ]
    )
    (arrival,) = timeline.arrivals
    assert arrival.event == SSEMessage(data="hello world", end_offset=19)
    assert arrival.read_index == 2
    assert arrival.t_ns == 1_400 * MS == timeline.reads[2].t_ns
    assert [r.body_bytes for r in timeline.reads] == [9, 6, 4]


def test_read_stamp_is_the_time_recv_returned() -> None:
    # The scripted recv moves the fake clock to each step's time before returning, so a
    # stamp taken before recv (or a stale one) would not match.
    timeline, _ = run([(0.5, SSE_HEAD + chunk(b": ping\n")), (1.75, b"0\r\n\r\n")])
    assert timeline.t_headers_ns == 1_500 * MS
    assert timeline.reads[0].t_ns == 1_500 * MS
    assert timeline.arrivals[0].event == SSEComment(text="ping", end_offset=7)
    assert timeline.arrivals[0].t_ns == 1_500 * MS
    assert timeline.t_end_ns == 2_750 * MS


def test_headers_stamp_is_the_read_that_completed_them() -> None:
    timeline, _ = run([(0.1, SSE_HEAD[:20]), (0.3, SSE_HEAD[20:]), (0.4, b"0\r\n\r\n")])
    assert timeline.t_headers_ns == 1_300 * MS
    assert timeline.status == 200
    assert timeline.reason == "OK"
    assert timeline.http_version == "1.1"
    assert timeline.header("Content-Type") == "text/event-stream"
    # header-only reads are not body reads; the terminator read carries framing bytes only
    assert [(r.wire_bytes, r.body_bytes) for r in timeline.reads] == [(5, 0)]


def test_header_read_counts_only_its_body_bytes_as_wire_bytes() -> None:
    body = chunk(b"data: a\n\n")
    timeline, _ = run([(0.1, SSE_HEAD + body), (0.2, b"0\r\n\r\n")])
    assert timeline.reads[0].wire_bytes == len(body)
    assert timeline.reads[0].body_bytes == 9


def test_connection_phase_timings() -> None:
    request = ProbeRequest("https://127.0.0.1/v1/chat/completions", body=b"{}")
    timeline, transport = run(
        [(0.5, SSE_HEAD + b"0\r\n\r\n")], request, connect_s=0.01, tls_s=0.02, send_s=0.03
    )
    assert timeline.t_start_ns == 1_000 * MS
    assert timeline.t_connected_ns == 1_010 * MS
    assert timeline.t_tls_ns == 1_030 * MS
    assert timeline.t_request_sent_ns == 1_060 * MS
    assert timeline.t_headers_ns == 1_500 * MS
    assert transport.endpoint is not None
    assert transport.endpoint.tls
    assert transport.endpoint.port == 443
    assert transport.closed


def test_plain_http_has_no_tls_stamp() -> None:
    timeline, _ = run([(0.1, SSE_HEAD + b"0\r\n\r\n")])
    assert timeline.t_tls_ns is None
    assert timeline.t_connected_ns == timeline.t_start_ns


@pytest.mark.parametrize(
    ("head", "body", "framing"),
    [
        (b"Transfer-Encoding: chunked\r\n", chunk(b"data: a\n\n") + b"0\r\n\r\n", "chunked"),
        (b"Content-Length: 9\r\n", b"data: a\n\n", "length"),
        (b"", b"data: a\n\n", "close"),
    ],
)
def test_framing_is_recorded_and_each_ends_complete(head: bytes, body: bytes, framing: str) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" + head + b"\r\n"
    timeline, _ = run([(0.1, response), (0.2, body)])
    assert timeline.framing == framing
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert timeline.error == ""
    assert messages(timeline) == ["a"]


def test_both_transfer_encoding_and_content_length_is_chunked() -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunk(b"data: a\n\n") + b"0\r\n\r\n"
    )
    timeline, _ = run([(0.1, response)])
    assert timeline.framing == "chunked"
    assert timeline.header("content-length") == "3"
    assert messages(timeline) == ["a"]


def test_head_request_has_no_body_framing() -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    timeline, _ = run([(0.1, response)], ProbeRequest(URL, method="HEAD"))
    assert timeline.framing == ""
    assert timeline.transport_end is TransportEnd.COMPLETE


def test_informational_response_is_skipped() -> None:
    response = b"HTTP/1.1 100 Continue\r\n\r\n" + SSE_HEAD + b"0\r\n\r\n"
    timeline, _ = run([(0.1, response)])
    assert timeline.status == 200


def test_gzip_body_is_decoded_and_wire_bytes_differ_from_body_bytes() -> None:
    events = b"".join(b"data: token %d\n\n" % i for i in range(50))
    compressed = gzip.compress(events)
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(compressed)
    )
    timeline, _ = run([(0.1, head), (0.2, compressed[:10]), (0.3, compressed[10:])])
    assert timeline.content_encoding == "gzip"
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert len(messages(timeline)) == 50
    assert sum(r.wire_bytes for r in timeline.reads) == len(compressed)
    assert sum(r.body_bytes for r in timeline.reads) == len(events)
    # the first read delivered compressed bytes but (almost) nothing decoded: held output shows
    assert timeline.reads[0].wire_bytes == 10
    assert {a.read_index for a in timeline.arrivals} == {1}


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_body_with_and_without_zlib_header(wbits: int) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = compressor.compress(b"data: a\n\n") + compressor.flush()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: deflate\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    timeline, _ = run([(0.1, head + body)])
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert messages(timeline) == ["a"]


def test_bad_gzip_is_a_protocol_error() -> None:
    head = SSE_HEAD.replace(b"\r\n\r\n", b"\r\nContent-Encoding: gzip\r\n\r\n")
    timeline, _ = run([(0.1, head + chunk(b"not gzip at all"))])
    assert timeline.transport_end is TransportEnd.PROTOCOL_ERROR
    assert "cannot decode the gzip body" in timeline.error


def test_unsupported_content_encoding_is_a_protocol_error() -> None:
    head = SSE_HEAD.replace(b"\r\n\r\n", b"\r\nContent-Encoding: br\r\n\r\n")
    timeline, _ = run([(0.1, head + chunk(b"xxxx"))])
    assert timeline.transport_end is TransportEnd.PROTOCOL_ERROR
    assert "'br'" in timeline.error
    assert timeline.status == 200


def test_body_past_max_bytes_is_too_large() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n"
    request = ProbeRequest("http://127.0.0.1/blob", method="GET", max_bytes=100)
    timeline, _ = run([(0.1, head), (0.2, b"x" * 60), (0.3, b"x" * 60)], request)
    assert timeline.transport_end is TransportEnd.TOO_LARGE
    assert "--max-bytes" in timeline.error
    assert timeline.dialect == "raw"
    assert sum(r.body_bytes for r in timeline.reads) == 100
    assert timeline.t_end_ns == 1_300 * MS


def test_body_of_exactly_max_bytes_is_complete() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    request = ProbeRequest("http://127.0.0.1/blob", method="GET", max_bytes=100)
    timeline, _ = run([(0.1, head + b"x" * 100)], request)
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert [a.event for a in timeline.arrivals] == [RawChunk(size=100, end_offset=100)]


def test_event_past_the_size_cap_is_a_protocol_error() -> None:
    request = ProbeRequest(URL, body=b"{}", max_event_bytes=1024)
    timeline, _ = run([(0.1, SSE_HEAD), (0.2, chunk(b"data: " + b"x" * 4096))], request)
    assert timeline.transport_end is TransportEnd.PROTOCOL_ERROR
    assert timeline.error


def test_idle_timeout_after_headers() -> None:
    request = ProbeRequest(URL, body=b"{}", timeout_s=2.0)
    timeline, _ = run([(0.1, SSE_HEAD + chunk(b"data: a\n\n")), (10.0, b"0\r\n\r\n")], request)
    assert timeline.transport_end is TransportEnd.TIMEOUT
    assert "--timeout" in timeline.error
    assert timeline.t_end_ns == 3_100 * MS  # 2 s after the last bytes
    assert messages(timeline) == ["a"]


def test_total_timeout_while_bytes_keep_flowing() -> None:
    request = ProbeRequest(URL, body=b"{}", timeout_s=1.0, max_time_s=3.0)
    script: list[ScriptStep] = [(0.1, SSE_HEAD)]
    script += [(0.5 * i, chunk(b": ping\n")) for i in range(1, 20)]
    timeline, _ = run(script, request)
    assert timeline.transport_end is TransportEnd.TIMEOUT
    assert "--max-time" in timeline.error
    assert timeline.t_end_ns == 4_000 * MS


def test_no_headers_in_time_is_a_timeline_without_status() -> None:
    request = ProbeRequest(URL, body=b"{}", timeout_s=1.0)
    timeline, _ = run([(5.0, SSE_HEAD)], request)
    assert timeline.status is None
    assert timeline.transport_end is TransportEnd.TIMEOUT
    assert "response headers" in timeline.error
    assert timeline.t_headers_ns is None


def test_reset_after_headers() -> None:
    timeline, _ = run([(0.1, SSE_HEAD + chunk(b"data: a\n\n")), (0.2, ConnectionResetError())])
    assert timeline.transport_end is TransportEnd.RESET
    assert timeline.status == 200
    assert timeline.t_end_ns == 1_200 * MS


def test_reset_before_headers_is_a_timeline_without_status() -> None:
    timeline, _ = run([(0.1, ConnectionResetError(104, "Connection reset by peer"))])
    assert timeline.status is None
    assert timeline.transport_end is TransportEnd.RESET
    assert "reset" in timeline.error


def test_eof_inside_chunked_body_is_truncated() -> None:
    timeline, _ = run([(0.1, SSE_HEAD + chunk(b"data: a\n\n") + b"20\r\ndata: b")])
    assert timeline.transport_end is TransportEnd.TRUNCATED
    assert "chunked" in timeline.error
    assert messages(timeline) == ["a"]
    # the unfinished event is reported at the end
    incomplete = [a for a in timeline.arrivals if isinstance(a.event, IncompleteEvent)]
    assert len(incomplete) == 1
    assert isinstance(incomplete[0].event, IncompleteEvent)
    assert incomplete[0].event.pending_bytes == 7
    assert incomplete[0].t_ns == timeline.t_end_ns


def test_eof_inside_content_length_body_is_truncated() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 50\r\n\r\n"
    timeline, _ = run([(0.1, head + b"data: a\n\n")])
    assert timeline.transport_end is TransportEnd.TRUNCATED
    assert "9 of 50" in timeline.error


def test_close_without_any_response_is_truncated_without_status() -> None:
    timeline, _ = run([(0.1, b"")])
    assert timeline.status is None
    assert timeline.transport_end is TransportEnd.TRUNCATED
    assert "without a response" in timeline.error


def test_eof_inside_headers_raises() -> None:
    with pytest.raises(ProbeError, match="middle of the response headers"):
        run([(0.1, b"HTTP/1.1 200 OK\r\nContent-")])


def test_non_http_answer_raises_naming_it() -> None:
    with pytest.raises(ProbeError, match=r"did not answer with HTTP.*https://"):
        run([(0.1, b"\x15\x03\x01\x00\x02\x02\x46")])


def test_endless_headers_raise_a_probe_error() -> None:
    line = b"X-Filler: " + b"a" * 100 + b"\r\n"
    script: list[ScriptStep] = [(0.0, b"HTTP/1.1 200 OK\r\n")]
    script += [(0.001 * i, line * 100) for i in range(1, 100)]
    with pytest.raises(ProbeError, match=r"headers exceed 64\.0 KiB"):
        run(script)


def test_malformed_body_after_headers_is_recorded_not_raised() -> None:
    timeline, _ = run([(0.1, SSE_HEAD + b"zz\r\nxx")])
    assert timeline.transport_end is TransportEnd.PROTOCOL_ERROR
    assert timeline.error.startswith("malformed HTTP body: illegal chunk header")
    assert "zz" not in timeline.error


def test_connect_failure_raises_probe_connect_error() -> None:
    class Refused(ScriptedTransport):
        def connect(self, timeout_s: float) -> None:
            raise ConnectionRefusedError(111, "Connection refused")

    clock = FakeClock()
    with pytest.raises(ProbeConnectError, match=r"refused"):
        fetch(ProbeRequest("http://u:pw@127.0.0.1:9/x"), clock, Refused(clock, []))


def test_dialect_resolution() -> None:
    sse_done = [(0.1, SSE_HEAD + b"0\r\n\r\n")]
    assert run(sse_done)[0].dialect == "openai-chat"
    request = ProbeRequest("http://127.0.0.1/generate_stream", body=b"{}")
    assert run(sse_done, request)[0].dialect == "tgi"
    request = ProbeRequest("http://127.0.0.1/anything", body=b"{}")
    assert run(sse_done, request)[0].dialect == "openai-chat"  # by content type
    request = ProbeRequest("http://127.0.0.1/anything", body=b"{}", dialect=Dialect.OLLAMA)
    assert run(sse_done, request)[0].dialect == "ollama"


def test_error_status_keeps_a_preview_and_is_parsed_raw() -> None:
    html = b"<html><body>504 Gateway Time-out</body></html>" * 100
    head = b"HTTP/1.1 504 Gateway Time-out\r\nContent-Type: text/html\r\n"
    head += b"Content-Length: %d\r\n\r\n" % len(html)
    timeline, _ = run([(0.1, head + html)])
    assert timeline.status == 504
    assert timeline.reason == "Gateway Time-out"
    assert timeline.dialect == "raw"
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert timeline.body_preview == html[:2048].decode()


def test_streaming_success_has_no_preview() -> None:
    timeline, _ = run([(0.1, SSE_HEAD + chunk(b"data: a\n\n") + b"0\r\n\r\n")])
    assert timeline.body_preview == ""


def test_request_bytes_and_url_without_credentials() -> None:
    request = ProbeRequest(
        "http://user:s3cret@127.0.0.1:8000/v1/chat/completions?x=1&api_key=k3y",
        headers=(("Content-Type", "application/json"), ("Content-Length", "999")),
        body=b'{"a": 1}',
    )
    timeline, transport = run([(0.1, SSE_HEAD + b"0\r\n\r\n")], request)
    sent = bytes(transport.sent)
    head, _, body = sent.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/chat/completions?x=1&api_key=k3y HTTP/1.1"
    assert b"Host: 127.0.0.1:8000" in lines
    assert b"Accept-Encoding: gzip, deflate" in lines
    assert b"Content-Length: 8" in lines
    assert b"Content-Length: 999" not in lines
    assert any(line.startswith(b"User-Agent: tokenpath/") for line in lines)
    assert b"Authorization: Basic dXNlcjpzM2NyZXQ=" in lines
    assert body == b'{"a": 1}'
    assert timeline.url == ("http://127.0.0.1:8000/v1/chat/completions?x=1&api_key=<redacted>")
    assert "s3cret" not in repr(timeline)
    assert "k3y" not in repr(timeline)


def test_user_host_header_wins_and_accept_encoding_can_be_off() -> None:
    request = ProbeRequest(
        "http://127.0.0.1/v1/completions",
        headers=(("Host", "api.example.com"),),
        method="GET",
        accept_encoding="",
    )
    _, transport = run([(0.1, SSE_HEAD + b"0\r\n\r\n")], request)
    lines = bytes(transport.sent).split(b"\r\n")
    assert lines[0] == b"GET /v1/completions HTTP/1.1"
    assert b"Host: api.example.com" in lines
    assert not any(line.lower().startswith(b"accept-encoding") for line in lines)
    assert not any(line.lower().startswith(b"content-length") for line in lines)


def test_invalid_header_value_error_does_not_quote_it() -> None:
    request = ProbeRequest(URL, headers=(("Authorization", "Bearer sk-abc\r\nX-Evil: 1"),))
    with pytest.raises(UsageError, match="not valid HTTP") as info:
        run([], request)
    assert "sk-abc" not in str(info.value)


def test_repr_and_display_headers_redact_secrets() -> None:
    request = ProbeRequest(
        "https://me:pa55@127.0.0.1/v1/chat/completions",
        headers=(
            ("Authorization", "Bearer sk-live-123"),
            ("x-api-key", "k-456"),
            ("api-key", "k-789"),
            ("Cookie", "session=abc"),
            ("X-Team", "ml"),
        ),
    )
    text = repr(request)
    for secret in ("sk-live-123", "k-456", "k-789", "session=abc", "pa55"):
        assert secret not in text
    assert "X-Team" in text
    assert "'ml'" in text
    assert request.display_headers()[0] == ("Authorization", "<redacted>")
    assert request.display_headers()[4] == ("X-Team", "ml")
    assert set(request.secrets()) == {"Bearer sk-live-123", "k-456", "k-789", "session=abc", "pa55"}


def test_non_ascii_path_and_header_value_are_encoded() -> None:
    request = ProbeRequest(
        "http://127.0.0.1/v1/chat/completions?q=a b&n=é", headers=(("X-Name", "café"),)
    )
    _, transport = run([(0.1, SSE_HEAD + b"0\r\n\r\n")], request)
    lines = bytes(transport.sent).split(b"\r\n")
    assert lines[0] == b"POST /v1/chat/completions?q=a%20b&n=%C3%A9 HTTP/1.1"
    assert "X-Name: café".encode() in lines


class TickingClock(FakeClock):
    """Moves 1 ns on every reading, so any extra reading between two points shows."""

    def monotonic_ns(self) -> int:
        self.advance(1e-9)
        return super().monotonic_ns()


class RecordingTransport(ScriptedTransport):
    def __init__(self, clock: FakeClock, script: list[ScriptStep]) -> None:
        super().__init__(clock, script)
        self.clock = clock
        self.returned_at: list[int] = []

    def recv(self, max_bytes: int, timeout_s: float) -> bytes:
        data = super().recv(max_bytes, timeout_s)
        self.returned_at.append(self.clock.monotonic_ns())
        return data


def test_stamp_is_the_first_clock_reading_after_recv_returns() -> None:
    clock = TickingClock()
    body = b"".join(chunk(b"data: %d\n\n" % i) for i in range(3)) + b"0\r\n\r\n"
    transport = RecordingTransport(clock, [(0.1, SSE_HEAD), (0.2, body[:20]), (0.3, body[20:])])
    timeline = fetch(ProbeRequest(URL, body=b"{}"), clock, transport)
    assert timeline.t_headers_ns == transport.returned_at[0] + 1
    assert [r.t_ns for r in timeline.reads] == [t + 1 for t in transport.returned_at[1:3]]


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12), gz=st.booleans())
def test_any_split_of_the_response_gives_the_same_events(cuts: list[int], gz: bool) -> None:
    events = b"".join(b"data: token %d\n\n" % i for i in range(12)) + b": ping\n"
    body = gzip.compress(events) if gz else events
    encoding = b"Content-Encoding: gzip\r\n" if gz else b""
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n%sTransfer-Encoding: chunked"
        b"\r\n\r\n%s%s0\r\n\r\n" % (encoding, chunk(body[:50]), chunk(body[50:]))
    )
    points = sorted({c for c in cuts if c < len(response)})
    pieces = [response[a:b] for a, b in zip([0, *points], [*points, len(response)], strict=True)]
    timeline, _ = run([(0.01 * (i + 1), piece) for i, piece in enumerate(pieces)])
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert messages(timeline) == [f"token {i}" for i in range(12)]
    assert sum(r.body_bytes for r in timeline.reads) == len(events)
    assert [r.index for r in timeline.reads] == list(range(len(timeline.reads)))
    for arrival in timeline.arrivals:
        assert arrival.t_ns == timeline.reads[arrival.read_index].t_ns


def test_ollama_ndjson_stream() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
    head += b"Transfer-Encoding: chunked\r\n\r\n"
    lines = b'{"response": "a", "done": false}\n{"response": "", "done": true}\n'
    request = ProbeRequest("http://127.0.0.1:11434/api/generate", body=b"{}")
    timeline, _ = run([(0.1, head + chunk(lines) + b"0\r\n\r\n")], request)
    assert timeline.dialect == "ollama"
    assert [type(a.event).__name__ for a in timeline.arrivals] == ["NDJSONLine", "NDJSONLine"]


class FailingTransport(ScriptedTransport):
    def __init__(self, clock: FakeClock, connect: OSError | None, tls: OSError | None) -> None:
        super().__init__(clock, [])
        self._connect_error, self._tls_error = connect, tls

    def connect(self, timeout_s: float) -> None:
        if self._connect_error is not None:
            raise self._connect_error

    def start_tls(self, timeout_s: float) -> None:
        if self._tls_error is not None:
            raise self._tls_error


@pytest.mark.parametrize(
    ("connect", "tls", "pattern"),
    [
        (socket.gaierror(-2, "Name or service not known"), None, "cannot resolve"),
        (TimeoutError(), None, r"timed out after 10\.00 s.*--connect-timeout"),
        (OSError(113, "No route to host"), None, "No route to host"),
        (None, ssl.SSLCertVerificationError(1, "cert"), "not trusted.*--cacert.*--insecure"),
        (None, ssl.SSLError(1, "wrong version"), "TLS handshake.*--insecure or --cacert"),
        (None, ConnectionResetError(104, "reset"), "TLS handshake.*failed"),
        (None, TimeoutError(), "TLS handshake.*timed out"),
    ],
)
def test_connection_failures_are_connect_errors_naming_the_url(
    connect: OSError | None, tls: OSError | None, pattern: str
) -> None:
    clock = FakeClock()
    transport = FailingTransport(clock, connect, tls)
    url = "https://user:pw@127.0.0.1:8443/v1/chat/completions"
    with pytest.raises(ProbeConnectError, match=pattern) as info:
        fetch(ProbeRequest(url), clock, transport)
    assert "https://127.0.0.1:8443/v1/chat/completions" in str(info.value)
    assert "pw" not in str(info.value)
    assert transport.closed
