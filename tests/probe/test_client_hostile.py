"""The probe client against small hostile servers on real loopback sockets.

Every test is bounded by short timeouts; ``pytest-timeout`` is a backstop only.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import hostile
import pytest
import trustme

from tokenpath.errors import ProbeConnectError, ProbeError
from tokenpath.probe.client import fetch
from tokenpath.probe.request import ProbeRequest
from tokenpath.probe.timeline import Timeline, TransportEnd
from tokenpath.stream.events import SSEMessage

pytestmark = pytest.mark.timeout(20)

CHAT = "/v1/chat/completions"


def probe(port: int, path: str = CHAT, *, scheme: str = "http", **kw: object) -> Timeline:
    options: dict[str, object] = {"timeout_s": 2.0, "max_time_s": 5.0, "connect_timeout_s": 1.0}
    options.update(kw)
    request = ProbeRequest(f"{scheme}://127.0.0.1:{port}{path}", body=b"{}", **options)  # type: ignore[arg-type]
    return fetch(request)


def messages(timeline: Timeline) -> list[str]:
    return [a.event.data for a in timeline.arrivals if isinstance(a.event, SSEMessage)]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with hostile.serve(hostile.echo_request, tls=context) as port:
        yield port


def test_endless_headers_raise_quickly() -> None:
    with hostile.serve(hostile.endless_headers) as port:
        started = time.monotonic()
        with pytest.raises(ProbeError, match="headers exceed"):
            probe(port)
    assert time.monotonic() - started < 2


def test_huge_sse_line_hits_the_cap_and_stops_reading() -> None:
    with hostile.serve(hostile.huge_sse_line) as port:
        timeline = probe(port, max_event_bytes=64 * 1024)
    assert timeline.status == 200
    assert timeline.transport_end is TransportEnd.PROTOCOL_ERROR
    assert timeline.error
    # the client stopped soon after the cap: it did not read the 10 MB
    assert sum(r.wire_bytes for r in timeline.reads) < 1024 * 1024


def test_invalid_utf8_is_delivered_with_replacement_characters() -> None:
    with hostile.serve(hostile.invalid_utf8) as port:
        timeline = probe(port)
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert messages(timeline) == ['{"bad": "\ufffd\ufffd"}', "caf\ufffd", "[DONE]"]


def test_gzip_bomb_stops_at_max_bytes() -> None:
    with hostile.serve(hostile.gzip_bomb) as port:
        started = time.monotonic()
        timeline = probe(port, "/bomb", max_bytes=8 * 1024 * 1024)
    assert time.monotonic() - started < 3
    assert timeline.transport_end is TransportEnd.TOO_LARGE
    assert timeline.content_encoding == "gzip"
    assert sum(r.body_bytes for r in timeline.reads) == 8 * 1024 * 1024
    assert sum(r.wire_bytes for r in timeline.reads) < 100 * 1024


def test_gzip_stream_is_decoded() -> None:
    with hostile.serve(hostile.gzip_stream) as port:
        timeline = probe(port)
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert timeline.content_encoding == "gzip"
    assert timeline.framing == "length"
    assert messages(timeline) == ["one", "two", "[DONE]"]


def test_refused_connection_raises_connect_error() -> None:
    port = hostile.closed_port()
    with pytest.raises(ProbeConnectError, match=rf"127\.0\.0\.1:{port}.*refused"):
        fetch(ProbeRequest(f"http://user:pw@127.0.0.1:{port}/x", connect_timeout_s=1.0))


def test_refused_connection_error_hides_credentials() -> None:
    port = hostile.closed_port()
    with pytest.raises(ProbeConnectError) as info:
        fetch(ProbeRequest(f"http://user:hunter2@127.0.0.1:{port}/x", connect_timeout_s=1.0))
    assert "hunter2" not in str(info.value)


def test_tls_to_a_plain_http_server_fails_with_a_hint() -> None:
    with (
        hostile.serve(hostile.not_http) as port,
        pytest.raises(ProbeConnectError, match=r"TLS handshake.*--insecure or --cacert"),
    ):
        probe(port, scheme="https")


def test_untrusted_certificate_fails_with_a_hint(tls_server: int) -> None:
    with pytest.raises(ProbeConnectError, match=r"not trusted.*--cacert.*--insecure"):
        probe(tls_server, scheme="https")


def test_tls_with_cacert(ca: trustme.CA, tls_server: int, tmp_path: Path) -> None:
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    timeline = probe(tls_server, scheme="https", cacert=str(cafile))
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert timeline.t_connected_ns is not None
    assert timeline.t_tls_ns is not None
    assert timeline.t_request_sent_ns is not None
    assert timeline.t_start_ns <= timeline.t_connected_ns <= timeline.t_tls_ns
    assert timeline.t_tls_ns <= timeline.t_request_sent_ns
    request_head = messages(timeline)[0]
    assert f"host: 127.0.0.1:{tls_server}" in request_head.lower()


def test_tls_insecure(tls_server: int) -> None:
    timeline = probe(tls_server, scheme="https", insecure=True)
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert timeline.t_tls_ns is not None
    assert messages(timeline)[-1] == "[DONE]"


def test_plain_http_request_headers() -> None:
    with hostile.serve(hostile.echo_request) as port:
        timeline = probe(port)
    head = messages(timeline)[0].lower()
    assert head.startswith("post /v1/chat/completions http/1.1|")
    assert "accept-encoding: gzip, deflate" in head
    assert "content-length: 2" in head
    assert timeline.t_tls_ns is None


def test_trickle_hits_max_time() -> None:
    with hostile.serve(hostile.trickle) as port:
        started = time.monotonic()
        timeline = probe(port, timeout_s=0.5, max_time_s=1.0)
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 1.5
    assert timeline.transport_end is TransportEnd.TIMEOUT
    assert "--max-time" in timeline.error
    assert len(timeline.reads) >= 3
    assert (timeline.t_end_ns - timeline.t_start_ns) / 1e9 == pytest.approx(1.0, abs=0.1)


def test_idle_timeout_after_an_event() -> None:
    with hostile.serve(hostile.silent_after_one_event) as port:
        started = time.monotonic()
        timeline = probe(port, timeout_s=0.3)
    assert time.monotonic() - started < 1.5
    assert timeline.transport_end is TransportEnd.TIMEOUT
    assert "--timeout" in timeline.error
    assert messages(timeline) == ["one"]


def test_no_headers_within_the_idle_timeout() -> None:
    with hostile.serve(hostile.no_response) as port:
        timeline = probe(port, timeout_s=0.3)
    assert timeline.status is None
    assert timeline.transport_end is TransportEnd.TIMEOUT
    assert "response headers" in timeline.error


def test_reset_mid_body() -> None:
    with hostile.serve(hostile.reset_mid_body) as port:
        timeline = probe(port)
    assert timeline.status == 200
    assert timeline.transport_end is TransportEnd.RESET
    assert messages(timeline) == ["one"]


def test_reset_before_headers() -> None:
    with hostile.serve(hostile.reset_before_headers) as port:
        timeline = probe(port)
    assert timeline.status is None
    assert timeline.transport_end is TransportEnd.RESET


def test_close_without_response() -> None:
    with hostile.serve(hostile.close_without_response) as port:
        timeline = probe(port)
    assert timeline.status is None
    assert timeline.transport_end is TransportEnd.TRUNCATED


def test_truncated_chunked_body() -> None:
    with hostile.serve(hostile.truncated_chunked) as port:
        timeline = probe(port)
    assert timeline.transport_end is TransportEnd.TRUNCATED
    assert timeline.framing == "chunked"
    assert messages(timeline) == ["one"]


def test_close_delimited_clean_eof_is_complete() -> None:
    with hostile.serve(hostile.close_delimited) as port:
        timeline = probe(port)
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert timeline.framing == "close"
    assert timeline.http_version == "1.0"
    assert messages(timeline) == ["one", "[DONE]"]


def test_short_content_length_is_truncated() -> None:
    with hostile.serve(hostile.short_content_length) as port:
        timeline = probe(port)
    assert timeline.transport_end is TransportEnd.TRUNCATED
    assert timeline.framing == "length"
    assert "of 100" in timeline.error


def test_gateway_timeout_html_is_kept_as_preview() -> None:
    with hostile.serve(hostile.gateway_timeout) as port:
        timeline = probe(port)
    assert timeline.status == 504
    assert timeline.transport_end is TransportEnd.COMPLETE
    assert "504 Gateway Time-out" in timeline.body_preview


def test_api_key_never_appears_in_a_connect_error() -> None:
    port = hostile.closed_port()
    request = ProbeRequest(
        f"http://127.0.0.1:{port}{CHAT}",
        headers=(("Authorization", "Bearer sk-leak-check-42"),),
        connect_timeout_s=1.0,
    )
    with pytest.raises(ProbeConnectError) as info:
        fetch(request)
    assert "sk-leak-check-42" not in str(info.value)
    assert "sk-leak-check-42" not in repr(request)
