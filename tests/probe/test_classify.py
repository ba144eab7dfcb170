"""Verdicts, cut kinds, end states and metrics from synthetic timelines (no sockets, no sleeps).

``timeline()`` builds a Timeline from reads given as ``(t_ms, [payloads])``; ``chat()`` makes an
OpenAI chat chunk with an optional mock-style send stamp (``tokenpath_send_ns``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from tokenpath.probe.classify import (
    CutKind,
    EndState,
    ProbeResult,
    Thresholds,
    VerdictKind,
    analyse,
)
from tokenpath.probe.decision import UNCERTAIN
from tokenpath.probe.timeline import Arrival, Read, Timeline, TransportEnd
from tokenpath.stream.events import IncompleteEvent, SSEComment, SSEMessage, StreamEvent

MS = 1_000_000
T0 = 1_000 * MS  # a non-zero start, as a real monotonic clock has
Payload = str | StreamEvent


def chat(text: str, send_ms: float | None = None, **extra: object) -> str:
    chunk: dict[str, object] = {"choices": [{"index": 0, "delta": {"content": text}}], **extra}
    if send_ms is not None:
        chunk["tokenpath_send_ns"] = T0 + round(send_ms * MS)
    return json.dumps(chunk)


def usage(tokens: int) -> str:
    return json.dumps({"choices": [], "usage": {"completion_tokens": tokens}})


DONE = "[DONE]"


def timeline(
    reads: Sequence[tuple[float, Sequence[Payload]] | tuple[float, Sequence[Payload], int]],
    *,
    status: int | None = 200,
    headers_ms: float | None = 10.0,
    end_ms: float | None = None,
    end: TransportEnd = TransportEnd.COMPLETE,
    dialect: str = "openai-chat",
    headers: tuple[tuple[str, str], ...] = (),
    encoding: str = "",
    framing: str = "chunked",
    body_preview: str = "",
) -> Timeline:
    """``reads``: (t_ms, payloads[, body_bytes]). A str payload is an SSE ``data:`` event."""
    read_values: list[Read] = []
    arrivals: list[Arrival] = []
    for index, spec in enumerate(reads):
        t_ns = T0 + round(spec[0] * MS)
        events = [SSEMessage(p) if isinstance(p, str) else p for p in spec[1]]
        size = spec[2] if len(spec) == 3 else sum(_wire_size(e) for e in events)
        read_values.append(Read(index, t_ns, size + 8, size))
        arrivals.extend(Arrival(t_ns, index, e) for e in events)
    last = read_values[-1].t_ns if read_values else T0 + round((headers_ms or 0) * MS)
    return Timeline(
        url="http://127.0.0.1:8000/v1/chat/completions",
        method="POST",
        t_start_ns=T0,
        t_connected_ns=T0 + MS // 2,
        t_request_sent_ns=T0 + MS,
        t_headers_ns=None if headers_ms is None else T0 + round(headers_ms * MS),
        t_end_ns=last if end_ms is None else T0 + round(end_ms * MS),
        status=status,
        reason="OK" if status == 200 else "",
        http_version="1.1",
        headers=headers,
        framing=framing,
        content_encoding=encoding,
        reads=tuple(read_values),
        arrivals=tuple(arrivals),
        dialect=dialect,
        transport_end=end,
        body_preview=body_preview,
    )


def _wire_size(event: StreamEvent) -> int:
    if isinstance(event, SSEMessage):
        return len(event.data) + 8
    if isinstance(event, SSEComment):
        return len(event.text) + 3
    return 0


def steady(
    count: int = 40,
    *,
    start_ms: float = 150.0,
    every_ms: float = 20.0,
    delay_ms: float | None = 1.0,
) -> list[tuple[float, list[Payload]]]:
    """One content event per read; stamped (sent delay_ms before receipt) unless delay is None."""
    reads: list[tuple[float, list[Payload]]] = []
    for i in range(count):
        send = start_ms + i * every_ms
        stamp = None if delay_ms is None else send
        reads.append((send + (delay_ms or 0.0), [chat(f"tok{i} ", stamp)]))
    return reads


def with_done(reads: list[tuple[float, list[Payload]]]) -> list[tuple[float, list[Payload]]]:
    t, events = reads[-1]
    return [*reads[:-1], (t, [*events, DONE])]


def verdict_of(result: ProbeResult) -> VerdictKind:
    return result.verdict.kind


# --- STREAMING ------------------------------------------------------------------------------


def test_healthy_stamped_stream_is_streaming_and_certain() -> None:
    result = analyse(timeline(with_done(steady())))
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert result.verdict.certain
    assert result.end_state is EndState.DONE
    assert result.verdict.cut is None
    assert result.metrics.delay_p50_s == pytest.approx(0.001)
    assert result.metrics.stamped == 40


@pytest.mark.parametrize("every_ms", [0.2, 1.0, 20.0])
def test_fast_loopback_stream_with_one_event_per_read_is_streaming(every_ms: float) -> None:
    result = analyse(timeline(with_done(steady(every_ms=every_ms, delay_ms=None))))
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert not result.verdict.certain
    assert result.verdict.likely_causes == ()


def test_server_that_writes_everything_instantly_is_streaming_without_stamps() -> None:
    # Headers and 40 events in one read 2 ms after the request: nothing was held long.
    reads = [(3.0, [*(chat(f"t{i}") for i in range(40)), DONE])]
    result = analyse(timeline(reads, headers_ms=3.0))
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence


# --- BUFFERED -------------------------------------------------------------------------------


def test_everything_in_one_read_at_the_end_is_buffered_with_stamps() -> None:
    sends = [150 + i * 100 for i in range(40)]  # 0.15 s .. 4.05 s
    reads = [(4100.0, [*(chat(f"t{i}", s) for i, s in enumerate(sends)), DONE])]
    result = analyse(timeline(reads))
    assert result.verdict.kind is VerdictKind.BUFFERED
    assert result.verdict.pattern == "held_to_end"
    assert result.verdict.certain
    assert "all 40 content events arrived in 1 read at 4.10 s" in result.verdict.evidence[0]
    assert "the server sent the first at 150 ms" in result.verdict.evidence[0]
    assert "first delivery delay 3.95 s" in result.verdict.evidence[0]
    assert UNCERTAIN not in result.verdict.evidence


def test_everything_in_one_read_at_the_end_is_buffered_without_stamps() -> None:
    reads = [(4100.0, [*(chat(f"t{i}") for i in range(40)), DONE])]
    result = analyse(timeline(reads, headers_ms=12.0))
    assert result.verdict.kind is VerdictKind.BUFFERED, result.verdict.evidence
    assert not result.verdict.certain
    assert result.verdict.evidence[-1] == UNCERTAIN
    assert "after the headers" in result.verdict.evidence[0]


def test_headers_held_with_the_body_is_buffered_without_stamps() -> None:
    # nginx with a close-delimited upstream holds the headers until the first buffer leaves.
    reads = [(4100.0, [*(chat(f"t{i}") for i in range(20)), DONE])]
    result = analyse(timeline(reads, headers_ms=4100.0, headers=(("server", "nginx/1.22.1"),)))
    assert result.verdict.kind is VerdictKind.BUFFERED, result.verdict.evidence
    assert "the headers came with them" in result.verdict.evidence[0]
    assert result.verdict.likely_causes[0].startswith("nginx hop seen (server: nginx/1.22.1):")


def test_uniform_path_latency_is_not_buffering() -> None:
    # A slow path that keeps the spread (every event 80 ms late) is not holding anything.
    result = analyse(timeline(with_done(steady(count=5, every_ms=10, delay_ms=80))))
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence


def test_each_event_held_until_the_next_is_buffered_one_event() -> None:
    reads: list[tuple[float, list[Payload]]] = [
        (100 + (i + 1) * 500 + 2, [chat("x" * 6000, 100 + i * 500)]) for i in range(10)
    ]
    result = analyse(timeline(with_done(reads)))
    assert result.verdict.kind is VerdictKind.BUFFERED, result.verdict.evidence
    assert result.verdict.pattern == "held_one_event"
    assert any("events larger than one buffer" in c for c in result.verdict.likely_causes)


# --- BURSTY ---------------------------------------------------------------------------------


def _four_kib_bursts(stamped: bool) -> list[tuple[float, list[Payload], int]]:
    # 120 events sent every 20 ms; nginx releases one 4096-byte buffer per ~40 events.
    reads: list[tuple[float, list[Payload], int]] = []
    for burst in range(3):
        first = burst * 40
        events: list[Payload] = [
            chat(f"t{i}", 100 + i * 20 if stamped else None) for i in range(first, first + 40)
        ]
        reads.append((100 + (first + 40) * 20 + 3, events, 4096))
    reads.append((2600.0, [DONE], 14))
    return reads


@pytest.mark.parametrize("stamped", [True, False])
def test_four_kib_bursts_are_bursty_by_bytes(stamped: bool) -> None:
    headers = (("server", "nginx/1.22.1"),)
    result = analyse(timeline(_four_kib_bursts(stamped), headers=headers))
    assert result.verdict.kind is VerdictKind.BURSTY, result.verdict.evidence
    assert result.verdict.pattern == "bursts_by_bytes"
    assert result.verdict.burst is not None
    assert result.verdict.burst.size_bytes == 4096
    assert result.verdict.certain is stamped
    assert any("4096 B (4.0 KiB)" in e for e in result.verdict.evidence)
    assert "one 4 KB buffer per burst" in result.verdict.likely_causes[0]
    assert result.verdict.likely_causes[0].startswith("nginx hop seen")
    assert result.metrics.max_burst_events == 40
    assert (UNCERTAIN in result.verdict.evidence) is not stamped


def test_first_burst_short_by_the_upstream_headers_still_counts_as_a_buffer() -> None:
    # Real nginx 1.22.1: its first 4 KB buffer also held the upstream's response headers.
    sizes = (3869, 4096, 1500)
    reads: list[tuple[float, list[Payload], int]] = []
    for burst, size in enumerate(sizes):
        events: list[Payload] = [
            chat(f"t{i}", 200 + i * 40) for i in range(burst * 12, burst * 12 + 12)
        ]
        reads.append((200 + (burst + 1) * 12 * 40 + 5, events, size))
    reads.append((1700.0, [DONE], 14))
    result = analyse(timeline(reads, headers=(("server", "nginx/1.22.1"),)))
    assert result.verdict.pattern == "bursts_by_bytes", result.verdict.evidence
    assert result.verdict.burst is not None
    assert result.verdict.burst.size_bytes == 4096


def test_two_bursts_behind_nginx_name_nginx_without_a_size() -> None:
    reads: list[tuple[float, list[Payload], int]] = [
        (700.0, [chat(f"t{i}", 200 + i * 40) for i in range(12)], 3869),
        (1000.0, [*(chat(f"t{i}", 200 + i * 40) for i in range(12, 20)), DONE], 2600),
    ]
    result = analyse(timeline(reads, headers=(("server", "nginx/1.22.1"),)))
    assert result.verdict.kind is VerdictKind.BURSTY
    assert result.verdict.pattern == "bursts"
    assert result.verdict.likely_causes[0].startswith("nginx hop seen")
    assert "releases whole buffers" in result.verdict.likely_causes[0]


def _batches(stamped: bool) -> list[tuple[float, list[Payload]]]:
    # Sent every 20 ms, released every 200 ms in batches of 10.
    reads: list[tuple[float, list[Payload]]] = []
    for batch in range(6):
        events: list[Payload] = [
            chat(f"tok{i}", 100 + i * 20 if stamped else None)
            for i in range(batch * 10, batch * 10 + 10)
        ]
        reads.append((100 + (batch + 1) * 200, events))
    return with_done(reads)


@pytest.mark.parametrize("stamped", [True, False])
def test_200ms_batches_are_bursty_by_time(stamped: bool) -> None:
    result = analyse(timeline(_batches(stamped)))
    assert result.verdict.kind is VerdictKind.BURSTY, result.verdict.evidence
    assert result.verdict.pattern == "bursts_by_time"
    assert result.verdict.burst is not None
    assert result.verdict.burst.period_s == pytest.approx(0.2)
    assert any("a burst every 200 ms" in e for e in result.verdict.evidence)
    assert any("Nagle" in c for c in result.verdict.likely_causes)


def test_occasional_pairs_in_a_fast_stream_are_not_bursts() -> None:
    # Client read latency pairs up events now and then: not a proxy pattern.
    reads: list[tuple[float, list[Payload]]] = []
    for i in range(0, 40, 2):
        t = 150 + i * 5
        reads.append((t, [chat("a")]) if i % 4 else (t, [chat("a"), chat("b")]))
    result = analyse(timeline(with_done(reads)))
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence


# --- CUT ------------------------------------------------------------------------------------


def test_idle_cut_after_a_silence_is_cut_idle() -> None:
    reads = steady(count=20, every_ms=30)
    last = reads[-1][0]
    result = analyse(
        timeline(reads, end_ms=last + 5000, end=TransportEnd.COMPLETE, framing="close")
    )
    assert result.end_state is EndState.EOF_NO_TERMINATOR
    assert result.verdict.kind is VerdictKind.CUT
    cut = result.verdict.cut
    assert cut is not None
    assert cut.kind is CutKind.IDLE
    assert cut.status == 200
    assert cut.at_s == pytest.approx((last + 5000) / 1000)
    assert cut.silence_s == pytest.approx(5.0)
    assert "5.00 s of silence" in result.verdict.evidence[1]
    assert "without [DONE]" in result.verdict.evidence[0]
    assert any("idle (read) timer" in c for c in result.verdict.likely_causes)


def test_short_idle_timer_with_fast_tokens_is_idle() -> None:
    # nginx proxy_read_timeout 300ms after 20 ms tokens (the real-nginx test's shape).
    reads = steady(count=4, start_ms=20, every_ms=20, delay_ms=None)
    result = analyse(timeline(reads, end_ms=reads[-1][0] + 301, end=TransportEnd.TRUNCATED))
    assert result.end_state is EndState.TRUNCATED_CHUNKED
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.IDLE, result.verdict.evidence


def test_one_second_idle_timer_without_envoy_is_idle() -> None:
    reads = steady(count=20, every_ms=30)
    result = analyse(
        timeline(
            reads,
            end_ms=reads[-1][0] + 1001,
            end=TransportEnd.TRUNCATED,
            headers=(("server", "nginx"),),
        )
    )
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.IDLE


def test_total_cut_while_flowing_is_cut_total() -> None:
    reads = steady(count=300, start_ms=50, every_ms=50, delay_ms=None)  # last at 15.0 s
    result = analyse(timeline(reads, end_ms=15_020, end=TransportEnd.TRUNCATED))
    assert result.verdict.kind is VerdictKind.CUT
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.TOTAL, result.verdict.evidence
    assert result.verdict.cut.at_s == pytest.approx(15.02)
    assert "normal pace" in result.verdict.evidence[1]


@pytest.mark.parametrize("every_ms", [50.0, 500.0])
def test_envoy_delayed_close_after_a_total_cut_is_still_total(every_ms: float) -> None:
    count = int(15_000 / every_ms)
    reads = steady(count=count, start_ms=every_ms, every_ms=every_ms, delay_ms=None)
    headers = (("server", "envoy"), ("x-envoy-upstream-service-time", "3"))
    result = analyse(timeline(reads, end_ms=16_005, end=TransportEnd.TRUNCATED, headers=headers))
    cut = result.verdict.cut
    assert cut is not None
    assert cut.kind is CutKind.TOTAL, result.verdict.evidence
    assert any("delayed_close_timeout" in e for e in result.verdict.evidence)
    assert any("15 s" in c and "envoy hop seen" in c for c in result.verdict.likely_causes)


def test_504_before_headers_at_60s_names_nginx_read_timeout() -> None:
    tl = timeline(
        [(60_010.0, [], 160)],
        status=504,
        headers_ms=60_005,
        dialect="raw",
        headers=(("server", "nginx/1.22.1"),),
        body_preview="<html><head><title>504 Gateway Time-out</title>",
    )
    result = analyse(tl)
    assert result.end_state is EndState.HTTP_ERROR
    assert result.verdict.kind is VerdictKind.CUT
    cut = result.verdict.cut
    assert cut is not None
    assert (cut.kind, cut.status) == (CutKind.BEFORE_HEADERS, 504)
    assert cut.at_s == pytest.approx(60.005)
    assert result.verdict.likely_causes[0].startswith("nginx hop seen (server: nginx/1.22.1): ")
    assert "proxy_read_timeout" in result.verdict.likely_causes[0]


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "API key"), (404, "URL path"), (413, "too large"), (418, "client or configuration")],
)
def test_4xx_is_cut_before_headers_explained_as_a_client_error(status: int, words: str) -> None:
    result = analyse(timeline([(30.0, [], 20)], status=status, headers_ms=30.0, dialect="raw"))
    assert result.verdict.kind is VerdictKind.CUT
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.BEFORE_HEADERS
    assert words in result.verdict.evidence[0]


def test_524_names_cloudflare() -> None:
    tl = timeline([], status=524, headers_ms=100_050, dialect="raw", headers=(("cf-ray", "x"),))
    result = analyse(tl)
    assert "cloudflare hop seen (cf-ray present)" in result.verdict.likely_causes[0]


def test_reset_before_headers_is_cut_before_headers_without_status() -> None:
    tl = timeline([], status=None, headers_ms=None, end_ms=30_000, end=TransportEnd.RESET)
    result = analyse(tl)
    assert result.end_state is EndState.RESET
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.BEFORE_HEADERS
    assert result.verdict.cut.status is None


def test_cut_also_reports_what_happened_before_it() -> None:
    sends = [150 + i * 100 for i in range(10)]
    reads = [(1200.0, [chat(f"t{i}", s) for i, s in enumerate(sends)])]
    result = analyse(timeline(reads, end_ms=1205, end=TransportEnd.TRUNCATED))
    assert result.verdict.kind is VerdictKind.CUT
    assert any(n.startswith("also BUFFERED:") for n in result.verdict.notes)


def test_server_error_event_before_close_blames_the_server() -> None:
    error = json.dumps({"error": {"message": "CUDA out of memory"}})
    reads: list[tuple[float, list[Payload]]] = [*steady(count=5), (300.0, [error])]
    result = analyse(timeline(reads, end=TransportEnd.COMPLETE))
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.UNKNOWN
    assert any("CUDA out of memory" in e for e in result.verdict.evidence)


# --- COMPRESSED -----------------------------------------------------------------------------


def test_gzip_per_event_is_streaming_with_a_note() -> None:
    result = analyse(timeline(with_done(steady()), encoding="gzip"))
    assert result.verdict.kind is VerdictKind.STREAMING
    assert "compressed (gzip) per event: harmless here" in result.verdict.notes


def test_gzip_that_holds_the_stream_is_compressed() -> None:
    sends = [150 + i * 100 for i in range(40)]
    reads = [(4100.0, [*(chat(f"t{i}", s) for i, s in enumerate(sends)), DONE])]
    result = analyse(timeline(reads, encoding="gzip"))
    assert result.verdict.kind is VerdictKind.COMPRESSED
    assert result.verdict.pattern == "held_to_end"
    assert "compressed (gzip)" in result.verdict.evidence[0]
    assert any("gzip/brotli on text/event-stream" in c for c in result.verdict.likely_causes)


# --- INVALID --------------------------------------------------------------------------------


def test_incomplete_event_at_eof_is_invalid() -> None:
    reads: list[tuple[float, Sequence[Payload]]] = [
        *with_done(steady(count=5)),
        (300.0, [IncompleteEvent(pending_bytes=17)]),
    ]
    result = analyse(timeline(reads))
    assert result.verdict.kind is VerdictKind.INVALID
    assert result.verdict.pattern == "incomplete_event"
    assert "17 bytes" in result.verdict.evidence[0]
    assert result.metrics.total_events == 6  # the incomplete event is not an event


def test_invalid_json_event_is_invalid() -> None:
    reads: list[tuple[float, list[Payload]]] = [
        *steady(count=3),
        (300.0, ["{not json"]),
        (310.0, [DONE]),
    ]
    result = analyse(timeline(reads))
    assert result.verdict.kind is VerdictKind.INVALID
    assert "not valid JSON" in result.verdict.evidence[0]


@pytest.mark.parametrize(
    ("end", "pattern"),
    [(TransportEnd.PROTOCOL_ERROR, "protocol_error"), (TransportEnd.TOO_LARGE, "too_large")],
)
def test_protocol_error_and_too_large_are_invalid(end: TransportEnd, pattern: str) -> None:
    result = analyse(timeline(steady(count=3), end=end))
    assert result.verdict.kind is VerdictKind.INVALID
    assert result.verdict.pattern == pattern


# --- SLOW_START -----------------------------------------------------------------------------


def test_client_timeout_before_the_first_token_is_slow_start() -> None:
    comments: list[tuple[float, Sequence[Payload]]] = []
    result = analyse(timeline(comments, end_ms=30_010, end=TransportEnd.TIMEOUT, headers_ms=15.0))
    assert result.end_state is EndState.CLIENT_TIMEOUT
    assert result.verdict.kind is VerdictKind.SLOW_START
    assert result.verdict.pattern == "no_content"
    assert "no content arrived before the probe's own timeout" in result.verdict.evidence[0]


def test_client_timeout_before_headers_is_slow_start() -> None:
    result = analyse(
        timeline([], status=None, headers_ms=None, end_ms=30_000, end=TransportEnd.TIMEOUT)
    )
    assert result.verdict.kind is VerdictKind.SLOW_START
    assert "no response headers" in result.verdict.evidence[0]


def test_late_first_token_without_stamps_is_slow_start_and_says_it_cannot_tell() -> None:
    result = analyse(timeline(with_done(steady(start_ms=7000, delay_ms=None))))
    assert result.verdict.kind is VerdictKind.SLOW_START
    assert "cannot tell a slow model" in result.verdict.evidence[0]
    assert not result.verdict.certain


def test_path_holding_the_first_event_is_slow_start_with_stamps() -> None:
    # The path holds the headers and first bytes for 900 ms; what the server sent meanwhile
    # comes out with them (TCP is FIFO), then every event streams.
    sends = [150.0 + i * 100 for i in range(40)]
    held = [chat(f"t{i}", s) for i, s in enumerate(sends) if s < 1050]
    reads: list[tuple[float, list[Payload]]] = [(1050.0, list(held))]
    reads += [(s + 1, [chat(f"t{i}", s)]) for i, s in enumerate(sends) if s >= 1050]
    result = analyse(timeline(with_done(reads)))
    assert result.verdict.kind is VerdictKind.SLOW_START, result.verdict.evidence
    assert result.verdict.pattern == "first_event_held"
    assert result.verdict.certain


def test_slow_model_with_stamps_is_streaming_with_a_note() -> None:
    result = analyse(timeline(with_done(steady(start_ms=7000))))
    assert result.verdict.kind is VerdictKind.STREAMING
    assert any("not the path" in n for n in result.verdict.notes)


# --- end states, terminators, metrics -------------------------------------------------------


def test_tgi_final_event_is_done_and_counts_server_tokens() -> None:
    token = {"token": {"id": 1, "text": "a", "special": False}, "generated_text": None}
    final = {
        "token": {"id": 2, "text": "b", "special": False},
        "generated_text": "ab",
        "details": {"generated_tokens": 2},
    }
    reads = [(100.0, [json.dumps(token)]), (120.0, [json.dumps(final)])]
    result = analyse(timeline(reads, dialect="tgi"))
    assert result.end_state is EndState.DONE
    assert result.metrics.server_tokens == 2
    assert result.metrics.content_events == 2


def test_ollama_done_true_is_done() -> None:
    lines = [
        (100.0, [json.dumps({"message": {"content": "hi"}, "done": False})]),
        (130.0, [json.dumps({"message": {"content": ""}, "done": True, "eval_count": 1})]),
    ]
    result = analyse(timeline(lines, dialect="ollama"))
    assert result.end_state is EndState.DONE
    assert result.verdict.kind is VerdictKind.STREAMING


def test_ollama_without_done_is_cut() -> None:
    lines = [(100.0 + i * 30, [json.dumps({"response": "x", "done": False})]) for i in range(5)]
    result = analyse(timeline(lines, dialect="ollama", end_ms=5000))
    assert result.end_state is EndState.EOF_NO_TERMINATOR
    assert '"done": true' in result.verdict.evidence[0]


def test_raw_dialect_complete_counts_as_done() -> None:
    from tokenpath.stream.events import RawChunk

    result = analyse(timeline([(50.0, [RawChunk(100)]), (70.0, [RawChunk(100)])], dialect="raw"))
    assert result.end_state is EndState.DONE
    assert any("raw dialect" in n for n in result.verdict.notes)


def test_server_token_counts_drive_itl() -> None:
    reads = [(100.0 + i * 40, [chat("ab")]) for i in range(10)]
    reads.append((500.0, [usage(20), DONE]))
    result = analyse(timeline(reads))
    metrics = result.metrics
    assert metrics.itl_basis == "server_tokens"
    assert metrics.server_tokens == 20
    assert metrics.itl_p50_s == pytest.approx(0.020)  # 40 ms per event / 2 tokens per event


def test_event_counts_drive_itl_without_server_counts() -> None:
    result = analyse(timeline(with_done(steady(count=10, delay_ms=None))))
    assert result.metrics.itl_basis == "events"
    assert result.metrics.itl_p50_s == pytest.approx(0.020)
    assert result.metrics.itl_mean_s == pytest.approx(0.020)


def test_layered_metrics() -> None:
    role_only = json.dumps({"choices": [{"delta": {"role": "assistant"}}]})
    reads: list[tuple[float, Sequence[Payload]]] = [
        (20.0, [SSEComment("keepalive")]),
        (40.0, [role_only]),
        (100.0, [chat("Hel"), chat("lo")]),
        (130.0, [chat("!")]),
        (150.0, [DONE]),
    ]
    m = analyse(timeline(reads, end_ms=160)).metrics
    assert m.connect_s == pytest.approx(0.0005)
    assert m.ttfb_headers_s == pytest.approx(0.010)
    assert m.ttfb_body_s == pytest.approx(0.020)
    assert m.ttf_event_s == pytest.approx(0.020)
    assert m.ttf_data_s == pytest.approx(0.040)
    assert m.ttft_s == pytest.approx(0.100)  # the role-only chunk does not count
    assert m.e2e_last_token_s == pytest.approx(0.130)
    assert m.e2e_stream_s == pytest.approx(0.160)
    assert m.tail_s == pytest.approx(0.030)
    assert (m.content_events, m.total_events, m.comment_events, m.reads) == (3, 6, 1, 5)
    assert m.max_burst_events == 2
    assert m.events_per_read_max == 2
    assert m.events_per_read_mean == pytest.approx(6 / 5)
    assert m.gap_max_s == pytest.approx(0.030)
    assert m.delay_p50_s is None
    assert m.stamped == 0


def test_event_records_escape_control_characters() -> None:
    reads = [(100.0, [chat("\x1b[31mred\x1b[0m\r\n\u202eevil\x07")]), (120.0, [DONE])]
    result = analyse(timeline(reads))
    text = result.events[0].text
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\u202e" not in text
    assert text == "\\x1b[31mred\\x1b[0m\\r\\n\\u202eevil\\x07"
    assert len(analyse(timeline([(100.0, [chat("y" * 200)])])).events[0].text) == 61


def test_send_stamps_from_another_clock_are_made_relative() -> None:
    offset_ms = 5_000_000.0  # another host's monotonic clock
    reads: list[tuple[float, list[Payload]]] = [
        (150 + i * 20 + (3 if i == 0 else 1), [chat("t", 150 + i * 20 + offset_ms)])
        for i in range(10)
    ]
    result = analyse(timeline(with_done(reads)))
    assert any("another host's clock" in n for n in result.verdict.notes)
    assert result.metrics.delay_max_s == pytest.approx(0.002)  # relative to the fastest
    assert result.verdict.certain


def test_thresholds_are_configurable() -> None:
    reads = steady(count=20, every_ms=30)
    tl = timeline(reads, end_ms=reads[-1][0] + 2000, end=TransportEnd.TRUNCATED)
    assert analyse(tl).verdict.cut.kind is CutKind.IDLE  # type: ignore[union-attr]
    relaxed = analyse(tl, Thresholds(idle_gap_min_s=3.0, pace_factor=100.0))
    assert relaxed.verdict.cut.kind is CutKind.TOTAL  # type: ignore[union-attr]
