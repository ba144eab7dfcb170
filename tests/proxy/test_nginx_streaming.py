"""What real nginx does to a token stream, asserted through probe verdicts.

Each test starts nginx on a loopback port in front of the mock and probes through it with
a scenario header. Timings are short (tens to hundreds of ms) with generous margins.
"""

from __future__ import annotations

import pytest

from tokenpath.probe.classify import CutKind, ProbeResult, VerdictKind, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.request import build_request
from tokenpath.simulate.renderers.nginx import STREAMING_SAFE, with_directives
from tokenpath.simulate.runtime import run_nginx
from tokenpath.stream.dialects import Dialect

pytestmark = pytest.mark.proxy


def probe_through(
    mock_server: object, directives: tuple[tuple[str, str], ...], scenario: str
) -> ProbeResult:
    host, port = mock_server.host, mock_server.port  # type: ignore[attr-defined]
    with run_nginx(host, port, directives) as nginx:
        request = build_request(
            f"{nginx.url}/v1/chat/completions",
            dialect=Dialect.OPENAI_CHAT,
            headers=(f"X-Tokenpath-Scenario: {scenario}",),
        )
        return analyse(fetch(request))


# Each mock event is ~300 B (JSON plus the send stamp): 10 of them fit one 4 KB buffer.
SMALL = "ttft=50ms;itl=25ms;tokens=10"
# nginx re-arms a timer only when the new deadline moves by >= 300 ms (NGX_TIMER_LAZY_DELAY,
# src/event/ngx_event_timer.h), so idle timeouts this short fire up to 300 ms early; the
# timings below leave room for that.
READ_TIMEOUT_800MS = with_directives(STREAMING_SAFE, (("proxy_read_timeout", "800ms"),))


def test_stock_defaults_hold_a_short_answer_until_the_end(nginx_binary, mock_server):
    # proxy_http_version 1.0 -> close-delimited upstream -> nginx releases only full 4 KB
    # buffers; 10 small events fit in one, so all arrive at the end (FACTS §1).
    result = probe_through(mock_server, (), SMALL)
    assert result.verdict.kind is VerdictKind.BUFFERED, result.verdict.evidence
    assert result.metrics.content_events == 10
    assert result.metrics.ttft_s is not None
    assert result.metrics.ttft_s >= 0.9 * result.metrics.e2e_last_token_s


def test_stock_defaults_release_a_long_answer_in_buffer_sized_bursts(nginx_binary, mock_server):
    # 512-byte events: each 4 KB buffer holds ~8 of them, released together.
    result = probe_through(mock_server, (), "ttft=20ms;itl=15ms;tokens=64;pad=512")
    assert result.verdict.kind is VerdictKind.BURSTY, result.verdict.evidence
    assert result.metrics.max_burst_events >= 4
    assert result.metrics.max_burst_bytes <= 8192


def test_buffering_off_streams(nginx_binary, mock_server):
    result = probe_through(mock_server, (("proxy_buffering", "off"),), SMALL)
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert result.metrics.max_burst_events == 1


def test_http11_upstream_alone_streams_despite_buffering_on(nginx_binary, mock_server):
    # A chunked upstream lets nginx pass each chunk on (FACTS §1, §17).
    result = probe_through(
        mock_server, (("proxy_http_version", "1.1"), ("proxy_set_header", 'Connection ""')), SMALL
    )
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence


def test_x_accel_buffering_no_from_the_upstream_streams(nginx_binary, mock_server):
    result = probe_through(mock_server, (), SMALL + ";accel=no")
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence


def test_short_read_timeout_cuts_a_paused_stream_after_the_200(nginx_binary, mock_server):
    result = probe_through(
        mock_server, READ_TIMEOUT_800MS, "ttft=20ms;itl=20ms;tokens=10;pause=4@1500ms"
    )
    assert result.timeline.status == 200
    assert result.verdict.kind is VerdictKind.CUT, result.verdict.evidence
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.IDLE
    assert result.metrics.content_events == 4
    assert result.end_state.value in ("truncated_chunked", "eof_no_terminator")


def test_header_delay_beyond_read_timeout_is_a_504_before_headers(nginx_binary, mock_server):
    result = probe_through(mock_server, READ_TIMEOUT_800MS, "headers=1500ms;tokens=5")
    assert result.timeline.status == 504
    assert result.verdict.kind is VerdictKind.CUT, result.verdict.evidence
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.BEFORE_HEADERS
    assert 0.45 <= result.verdict.cut.at_s <= 1.3


def test_heartbeats_shorter_than_the_read_timeout_keep_the_stream_alive(nginx_binary, mock_server):
    result = probe_through(
        mock_server,
        READ_TIMEOUT_800MS,
        "ttft=20ms;itl=20ms;tokens=10;pause=4@1500ms;heartbeat=150ms",
    )
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert result.end_state.value == "done"
    assert result.metrics.comment_events >= 5
