"""The probe's only network code: send one request, stamp every socket read, parse the body.

The read loop is our own (not httpx) so that each ``recv()`` gets exactly one monotonic stamp,
taken right after it returns and before any parsing; every event that read completes carries
that stamp and the read's index. h11 serialises the request and parses the response; the
stream parser from ``tokenpath.stream`` turns the decoded body into events.

Errors are translated here and nowhere else:

* before any response: DNS, refused, unreachable, TLS handshake, connect timeout raise
  ``ProbeConnectError``; a malformed answer raises ``ProbeError``; no headers in time or a
  reset give a ``Timeline`` with ``status=None``;
* after the response headers nothing is raised: the end (truncated, reset, timeout, too large,
  protocol error) is recorded in the ``Timeline``.

Header values never appear in an error message, and ``Timeline.url`` carries no credentials.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import quote, unquote, urlsplit

import h11

from tokenpath import __version__
from tokenpath.clock import NS_PER_S, Clock, MonotonicClock
from tokenpath.errors import (
    ProbeConnectError,
    ProbeError,
    StreamProtocolError,
    UsageError,
)
from tokenpath.probe.request import ProbeRequest, display_url
from tokenpath.probe.timeline import Arrival, Read, Timeline, TransportEnd
from tokenpath.probe.transport import (
    Endpoint,
    SocketTransport,
    Transport,
    TransportFactory,
    reason_of,
)
from tokenpath.stream import Parser, parser_for
from tokenpath.stream.dialects import Dialect, detect_dialect
from tokenpath.stream.events import IncompleteEvent, StreamEvent
from tokenpath.units import format_bytes, format_seconds

RECV_SIZE = 64 * 1024
MAX_HEADER_BYTES = 64 * 1024  # h11 max_incomplete_event_size: endless headers fail fast
PREVIEW_BYTES = 2048
DECODE_STEP = 256 * 1024  # decompressed bytes per step: a gzip bomb never sits in memory

_STREAM_TYPES = ("event-stream", "ndjson", "jsonl", "json-seq")
_SAFE = "/%?=&:@!$'()*+,;~[]"  # kept as is in the request target; the rest is %-encoded
_H11_DETAIL = re.compile(r":\s*(?:bytearray\(|b['\"]).*$", re.DOTALL)


_MONOTONIC = MonotonicClock()


def fetch(
    request: ProbeRequest,
    clock: Clock = _MONOTONIC,
    transport_factory: TransportFactory = SocketTransport,
) -> Timeline:
    """Send ``request`` once and record what came back, read by read.

    Raises ``ProbeConnectError`` when no connection could be made, ``ProbeError`` when the
    answer is not a readable HTTP response, ``UsageError`` for an unusable URL or CA file.
    """
    target = _Target.parse(request.url)
    transport = transport_factory(target.endpoint(request))
    try:
        return _Exchange(request, target, clock, transport).run()
    finally:
        transport.close()


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str
    port: int
    host_header: str
    path: str  # request target: path and query
    shown: str  # display_url
    basic_auth: str | None

    @classmethod
    def parse(cls, url: str) -> _Target:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise UsageError(f"invalid URL {display_url(url)!r}: {reason_of(exc)}") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"invalid URL {display_url(url)!r}: use http://HOST[:PORT]/PATH or https://..."
            )
        default_port = 443 if parts.scheme == "https" else 80
        host = parts.hostname
        shown_host = f"[{host}]" if ":" in host else host
        auth = None
        if parts.username is not None:
            creds = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = "Basic " + base64.b64encode(creds.encode()).decode()
        return cls(
            scheme=parts.scheme,
            host=host,
            port=port or default_port,
            host_header=shown_host if port in (None, default_port) else f"{shown_host}:{port}",
            path=quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), _SAFE),
            shown=display_url(url),
            basic_auth=auth,
        )

    def endpoint(self, request: ProbeRequest) -> Endpoint:
        return Endpoint(self.scheme, self.host, self.port, request.insecure, request.cacert)


class _Stop(Exception):
    """Ends the read loop with a transport end state (internal)."""

    def __init__(self, end: TransportEnd, error: str = "") -> None:
        super().__init__(error)
        self.end = end
        self.error = error
        self.t_ns: int | None = None  # the stamp of the read that ended it, if one did


@dataclass(slots=True)
class _ReadAcc:
    index: int
    t_ns: int
    wire_bytes: int = 0
    body_bytes: int = 0
    events: int = 0


@dataclass(slots=True)
class _Exchange:
    """The state of one request/response exchange; ``run`` drives it."""

    request: ProbeRequest
    target: _Target
    clock: Clock
    transport: Transport
    conn: h11.Connection = field(init=False)
    t_start_ns: int = 0
    t_connected_ns: int | None = None
    t_tls_ns: int | None = None
    t_request_sent_ns: int | None = None
    t_headers_ns: int | None = None
    deadline_ns: int = 0
    idle_deadline_ns: int = 0
    response: h11.Response | None = None
    head: bytes = b""  # first bytes of the answer, to name a non-HTTP peer
    framing: str = ""
    content_encoding: str = ""
    dialect: Dialect = Dialect.RAW
    parser: Parser | None = None
    decoder: _Decoder | None = None
    wire_body_bytes: int = 0
    body_bytes: int = 0
    preview: bytearray = field(default_factory=bytearray)
    reads: list[Read] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    eof: bool = False

    def __post_init__(self) -> None:
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES)

    # -- phases

    def run(self) -> Timeline:
        self.t_start_ns = self.clock.monotonic_ns()
        self.deadline_ns = self.t_start_ns + _ns(self.request.max_time_s)
        self._connect()
        try:
            self._send()
            self._read_loop()
        except _Stop as stop:
            return self._timeline(stop)

    def _connect(self) -> None:
        url, budget = self.target.shown, self._budget(self.request.connect_timeout_s)
        try:
            self.transport.connect(budget)
        except OSError as exc:
            raise ProbeConnectError(_connect_message(url, exc, budget)) from exc
        self.t_connected_ns = self.clock.monotonic_ns()
        if self.target.scheme != "https":
            return
        try:
            self.transport.start_tls(self._budget(self.request.connect_timeout_s))
        except OSError as exc:
            raise ProbeConnectError(_tls_message(url, exc)) from exc
        self.t_tls_ns = self.clock.monotonic_ns()

    def _send(self) -> None:
        data = self._request_bytes()
        self.idle_deadline_ns = self.clock.monotonic_ns() + _ns(self.request.timeout_s)
        try:
            self.transport.sendall(data, self._recv_timeout()[0] / NS_PER_S)
        except TimeoutError as exc:
            raise _Stop(TransportEnd.TIMEOUT, "could not send the request in time") from exc
        except OSError:
            pass  # the server may have answered and closed early: read what it sent
        self.t_request_sent_ns = self.clock.monotonic_ns()
        self.idle_deadline_ns = self.t_request_sent_ns + _ns(self.request.timeout_s)

    def _request_bytes(self) -> bytes:
        request = self.request
        headers = _request_headers(request, self.target)
        try:
            data = self.conn.send(
                h11.Request(
                    method=request.method.encode("ascii"),
                    target=self.target.path.encode("ascii"),
                    headers=[(n.encode("ascii"), v.encode()) for n, v in headers],
                )
            )
            if request.body:
                data += self.conn.send(h11.Data(data=request.body))
            data += self.conn.send(h11.EndOfMessage())
        except (h11.LocalProtocolError, UnicodeError) as exc:
            # h11's message can quote a header value: never show it.
            raise UsageError(
                f"cannot send the request to {self.target.shown}: the method, path or a "
                "header name or value is not valid HTTP/1.1"
            ) from exc
        return data

    def _read_loop(self) -> NoReturn:
        while True:
            timeout_ns, which = self._recv_timeout()
            if timeout_ns <= 0:
                raise _Stop(TransportEnd.TIMEOUT, self._timeout_error(which))
            try:
                data = self.transport.recv(RECV_SIZE, timeout_ns / NS_PER_S)
            except TimeoutError as exc:
                raise _Stop(TransportEnd.TIMEOUT, self._timeout_error(which)) from exc
            except ssl.SSLError as exc:
                self._before_headers_error(f"TLS error while reading: {reason_of(exc)}")
                raise _Stop(TransportEnd.PROTOCOL_ERROR, f"TLS error: {reason_of(exc)}") from exc
            except OSError as exc:
                raise _Stop(TransportEnd.RESET, f"connection reset ({reason_of(exc)})") from exc
            t_ns = self.clock.monotonic_ns()  # the receive stamp: before any parsing
            if data:
                self.idle_deadline_ns = t_ns + _ns(self.request.timeout_s)
            self._on_read(data, t_ns)

    # -- one read

    def _on_read(self, data: bytes, t_ns: int) -> None:
        read = _ReadAcc(len(self.reads), t_ns, len(data) if self.response is not None else 0)
        try:
            self._check_head(data)
            self.eof = not data
            self.conn.receive_data(data)
            self._drain_h11(read)
        except _Stop as stop:
            stop.t_ns = t_ns
            raise
        finally:
            if read.wire_bytes or read.body_bytes or read.events:
                self.reads.append(Read(read.index, t_ns, read.wire_bytes, read.body_bytes))
        if self.eof:  # pragma: no cover - h11 always ends or raises at EOF
            raise _Stop(TransportEnd.TRUNCATED, "connection closed")

    def _drain_h11(self, read: _ReadAcc) -> None:
        while True:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._on_h11_error(exc)
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self._on_response(event, read.t_ns)
                read.wire_bytes = len(self.conn.trailing_data[0])
            elif isinstance(event, h11.Data):
                self._on_body(bytes(event.data), read)
            elif isinstance(event, h11.EndOfMessage):
                if self.decoder is not None:
                    self._deliver(self.decoder.flush(), read)
                raise _Stop(TransportEnd.COMPLETE)
            # InformationalResponse (1xx): nothing to record. ConnectionClosed cannot come:
            # EOF before a response is handled in _check_head, after it h11 ends or raises.

    def _check_head(self, data: bytes) -> None:
        if self.response is not None or len(self.head) >= 5:
            return
        if not data and not self.head:
            # h11 calls this a protocol error; for the probe it is a cut before headers.
            raise _Stop(
                TransportEnd.TRUNCATED, "the server closed the connection without a response"
            )
        self.head = (self.head + data)[:16]
        if self.head[:5] != b"HTTP/"[: len(self.head)]:
            hint = " (it looks like TLS: use https://)" if self.head[:1] == b"\x15" else ""
            raise ProbeError(
                f"{self.target.shown} did not answer with HTTP: first bytes {self.head!r}{hint}"
            )

    def _on_h11_error(self, exc: h11.RemoteProtocolError) -> NoReturn:
        reason = _h11_reason(exc)
        if self.response is None:
            if self.eof:
                reason = "the connection closed in the middle of the response headers"
            elif "buffer too long" in reason:
                reason = f"the response headers exceed {format_bytes(MAX_HEADER_BYTES)}"
            raise ProbeError(f"malformed response from {self.target.shown}: {reason}") from exc
        if self.eof:
            raise _Stop(TransportEnd.TRUNCATED, self._truncation_error()) from exc
        raise _Stop(TransportEnd.PROTOCOL_ERROR, f"malformed HTTP body: {reason}") from exc

    def _truncation_error(self) -> str:
        if self.framing == "chunked":
            return "the connection closed inside the chunked body (no final 0-size chunk)"
        length = _header(self.response, b"content-length") if self.response else "?"
        return (
            f"the connection closed after {self.wire_body_bytes} of {length} body bytes "
            "(Content-Length)"
        )

    def _before_headers_error(self, reason: str) -> None:
        if self.response is None:
            raise ProbeError(f"{self.target.shown}: {reason}")

    # -- response and body

    def _on_response(self, response: h11.Response, t_ns: int) -> None:
        self.response = response
        self.t_headers_ns = t_ns
        self.framing = _framing(response, self.request.method)
        self.content_encoding = _header(response, b"content-encoding").strip().lower()
        self.dialect = self._resolve_dialect(response)
        self.parser = parser_for(
            self.dialect,
            max_line_bytes=self.request.max_event_bytes,
            max_event_bytes=self.request.max_event_bytes,
        )
        if self.content_encoding in ("", "identity"):
            return
        if self.content_encoding not in ("gzip", "x-gzip", "deflate"):
            raise _Stop(
                TransportEnd.PROTOCOL_ERROR,
                f"unsupported Content-Encoding {self.content_encoding!r} "
                f"(the probe sent Accept-Encoding: {self.request.accept_encoding!r})",
            )
        self.decoder = _Decoder(self.content_encoding)

    def _resolve_dialect(self, response: h11.Response) -> Dialect:
        if not 200 <= response.status_code < 300:
            return Dialect.RAW  # an error page is not a stream: count its bytes, keep a preview
        if self.request.dialect is not Dialect.AUTO:
            return self.request.dialect
        path = urlsplit(self.request.url).path
        return detect_dialect(path, _header(response, b"content-type"))

    def _on_body(self, raw: bytes, read: _ReadAcc) -> None:
        self.wire_body_bytes += len(raw)
        if self.decoder is None:
            self._deliver(raw, read)
            return
        try:
            for piece in self.decoder.decode(raw):
                self._deliver(piece, read)
        except zlib.error as exc:
            raise _Stop(
                TransportEnd.PROTOCOL_ERROR,
                f"cannot decode the {self.content_encoding} body: {reason_of(exc)}",
            ) from exc

    def _deliver(self, data: bytes, read: _ReadAcc) -> None:
        room = self.request.max_bytes - self.body_bytes
        too_large = len(data) > room
        if too_large:
            data = data[:room]
        self.body_bytes += len(data)
        read.body_bytes += len(data)
        if len(self.preview) < PREVIEW_BYTES:
            self.preview += data[: PREVIEW_BYTES - len(self.preview)]
        if data:
            assert self.parser is not None
            try:
                events = self.parser.feed(data)
            except StreamProtocolError as exc:
                raise _Stop(TransportEnd.PROTOCOL_ERROR, reason_of(exc)) from exc
            self._arrive(events, read)
        if too_large:
            raise _Stop(
                TransportEnd.TOO_LARGE,
                f"the body passed --max-bytes {format_bytes(self.request.max_bytes)}; "
                "stopped reading",
            )

    def _arrive(self, events: list[StreamEvent], read: _ReadAcc) -> None:
        read.events += len(events)
        self.arrivals.extend(Arrival(read.t_ns, read.index, event) for event in events)

    # -- bounds

    def _budget(self, seconds: float) -> float:
        remaining = self.deadline_ns - self.clock.monotonic_ns()
        return max(min(_ns(seconds), remaining), 1) / NS_PER_S

    def _recv_timeout(self) -> tuple[int, str]:
        now = self.clock.monotonic_ns()
        idle, total = self.idle_deadline_ns - now, self.deadline_ns - now
        return (idle, "idle") if idle < total else (total, "total")

    def _timeout_error(self, which: str) -> str:
        where = "response headers" if self.response is None else "end of the body"
        if which == "idle":
            quiet = format_seconds(self.request.timeout_s)
            return f"no bytes for {quiet} (--timeout) while waiting for the {where}"
        limit = format_seconds(self.request.max_time_s)
        return f"no {where} within {limit} (--max-time)"

    # -- result

    def _timeline(self, stop: _Stop) -> Timeline:
        t_end_ns = self.clock.monotonic_ns() if stop.t_ns is None else stop.t_ns
        self._close_parser(t_end_ns)
        response = self.response
        headers = tuple(
            (_text(name), _text(value)) for name, value in (response.headers if response else ())
        )
        return Timeline(
            url=self.target.shown,
            method=self.request.method,
            t_start_ns=self.t_start_ns,
            t_connected_ns=self.t_connected_ns,
            t_tls_ns=self.t_tls_ns,
            t_request_sent_ns=self.t_request_sent_ns,
            t_headers_ns=self.t_headers_ns,
            t_end_ns=t_end_ns,
            status=response.status_code if response else None,
            reason=_text(response.reason) if response else "",
            http_version=_text(response.http_version) if response else "",
            headers=headers,
            framing=self.framing,
            content_encoding=self.content_encoding,
            reads=tuple(self.reads),
            arrivals=tuple(self.arrivals),
            dialect=self.dialect.value,
            transport_end=stop.end,
            error=stop.error,
            body_preview=self._preview(response),
        )

    def _close_parser(self, t_end_ns: int) -> None:
        if self.parser is None:
            return
        try:
            events = self.parser.close()
        except StreamProtocolError:
            return  # the stream already failed; its error is recorded
        index = max(len(self.reads) - 1, 0)
        self.arrivals.extend(
            Arrival(t_end_ns, index, e) for e in events if isinstance(e, IncompleteEvent)
        )

    def _preview(self, response: h11.Response | None) -> str:
        if response is None or not self.preview:
            return ""
        content_type = _header(response, b"content-type").lower()
        streaming = any(kind in content_type for kind in _STREAM_TYPES)
        if 200 <= response.status_code < 300 and streaming:
            return ""
        return self.preview.decode("utf-8", errors="replace")


class _Decoder:
    """Incremental gzip/deflate decoding in bounded steps (``DECODE_STEP`` bytes at most)."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._z = zlib.decompressobj(31 if self._gzip else zlib.MAX_WBITS)
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        while True:
            out = self._decompress(data)
            data = self._z.unconsumed_tail
            if out:
                yield out
            if self._z.eof:
                if not (self._gzip and self._z.unused_data):
                    return
                data = self._z.unused_data  # a further gzip member
                self._z = zlib.decompressobj(31)
                continue
            if not data and len(out) < DECODE_STEP:
                return

    def _decompress(self, data: bytes) -> bytes:
        if self._started or self._gzip:
            return self._z.decompress(data, DECODE_STEP)
        self._started = bool(data)
        try:
            return self._z.decompress(data, DECODE_STEP)
        except zlib.error:
            # "deflate" is often sent as raw deflate, without the zlib header.
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._z.decompress(data, DECODE_STEP)

    def flush(self) -> bytes:
        return self._z.flush() if not self._z.eof else b""


# --- helpers --------------------------------------------------------------------------------


def _request_headers(request: ProbeRequest, target: _Target) -> list[tuple[str, str]]:
    given = {name.strip().lower() for name, _ in request.headers}
    headers: list[tuple[str, str]] = []
    if "host" not in given:
        headers.append(("Host", target.host_header))
    if "user-agent" not in given:
        headers.append(("User-Agent", f"tokenpath/{__version__}"))
    if "accept" not in given:
        headers.append(("Accept", "*/*"))
    if request.accept_encoding and "accept-encoding" not in given:
        headers.append(("Accept-Encoding", request.accept_encoding))
    if target.basic_auth and "authorization" not in given:
        headers.append(("Authorization", target.basic_auth))
    framing = ("content-length", "transfer-encoding")
    headers.extend((n, v) for n, v in request.headers if n.strip().lower() not in framing)
    if request.body or request.method.upper() in ("POST", "PUT", "PATCH"):
        headers.append(("Content-Length", str(len(request.body))))
    return headers


def _framing(response: h11.Response, method: str) -> str:
    if response.status_code in (204, 304) or method.upper() == "HEAD":
        return ""
    if _header(response, b"transfer-encoding"):
        return "chunked"  # h11 accepts only "chunked"; it beats Content-Length
    if _header(response, b"content-length"):
        return "length"
    return "close"


def _header(response: h11.Response, name: bytes) -> str:
    for key, value in response.headers:
        if key == name:
            return _text(value)
    return ""


def _text(value: bytes) -> str:
    return value.decode("latin-1")


def _ns(seconds: float) -> int:
    return round(seconds * NS_PER_S)


def _h11_reason(exc: h11.RemoteProtocolError) -> str:
    # h11 quotes the offending bytes (maybe a header value): keep only the words before them.
    return _H11_DETAIL.sub("", str(exc)).strip() or "protocol error"


def _connect_message(url: str, exc: OSError, budget_s: float) -> str:
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host of {url} ({reason_of(exc)}): check the host name"
    if isinstance(exc, TimeoutError):
        return (
            f"connecting to {url} timed out after {format_seconds(budget_s)}: check the host "
            "and port, a firewall, or raise --connect-timeout"
        )
    if isinstance(exc, ConnectionRefusedError):
        return f"connection to {url} refused: is the server running and listening on that port?"
    return f"cannot connect to {url} ({reason_of(exc)}): check the host, port and network"


def _tls_message(url: str, exc: OSError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate of {url} not trusted ({reason_of(exc)}): pass the CA with "
            "--cacert FILE, or skip verification with --insecure"
        )
    if isinstance(exc, TimeoutError):
        return (
            f"TLS handshake with {url} timed out: check that the port speaks TLS "
            "(use http:// if not), or try --insecure or --cacert FILE"
        )
    return (
        f"TLS handshake with {url} failed ({reason_of(exc)}): check that the port speaks TLS "
        "(use http:// if not), or try --insecure or --cacert FILE"
    )
