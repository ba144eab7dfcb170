"""The sans-IO side of one probe: h11 serialises the request and parses the response.

The caller sends ``request_bytes()``, then feeds each socket read with its receive stamp
(``b""`` is EOF). Each read becomes a ``Read``, and each stream event it completes an
``Arrival`` with the same stamp and index. The exchange ends by raising ``Stop`` with the
transport end state; before the response headers, a malformed answer raises ``ProbeError``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import urlsplit

import h11

from tokenpath.errors import ProbeError, StreamProtocolError, UsageError
from tokenpath.probe.decode import ENCODINGS, Decoder
from tokenpath.probe.headers import framing, header, request_headers
from tokenpath.probe.messages import h11_reason, reason_of
from tokenpath.probe.request import ProbeRequest
from tokenpath.probe.target import Target
from tokenpath.probe.timeline import Arrival, Read, TransportEnd
from tokenpath.stream import Parser, parser_for
from tokenpath.stream.dialects import Dialect, detect_dialect
from tokenpath.stream.events import IncompleteEvent, StreamEvent
from tokenpath.units import format_bytes

MAX_HEADER_BYTES = 64 * 1024  # h11 max_incomplete_event_size: endless headers fail fast
PREVIEW_BYTES = 2048

_STREAM_TYPES = ("event-stream", "ndjson", "jsonl", "json-seq")


class Stop(Exception):
    """Ends the exchange with a transport end state (internal to the probe)."""

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
class Exchange:
    """The HTTP state of one request/response exchange."""

    request: ProbeRequest
    target: Target
    conn: h11.Connection = field(init=False)
    t_headers_ns: int | None = None
    response: h11.Response | None = None
    head: bytes = b""  # first bytes of the answer, to name a non-HTTP peer
    framing: str = ""
    content_encoding: str = ""
    dialect: Dialect = Dialect.RAW
    parser: Parser | None = None
    decoder: Decoder | None = None
    wire_body_bytes: int = 0
    body_bytes: int = 0
    preview: bytearray = field(default_factory=bytearray)
    reads: list[Read] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    eof: bool = False

    def __post_init__(self) -> None:
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES)

    def request_bytes(self) -> bytes:
        """The whole request, serialised; ``UsageError`` if it is not valid HTTP/1.1."""
        request = self.request
        headers = request_headers(request, self.target)
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

    # -- one read

    def feed(self, data: bytes, t_ns: int) -> None:
        """Take one read, received at ``t_ns``; ``b""`` is EOF."""
        read = _ReadAcc(len(self.reads), t_ns, len(data) if self.response is not None else 0)
        try:
            self._check_head(data)
            self.eof = not data
            self.conn.receive_data(data)
            self._drain_h11(read)
        except Stop as stop:
            stop.t_ns = t_ns
            raise
        finally:
            if read.wire_bytes or read.body_bytes or read.events:
                self.reads.append(Read(read.index, t_ns, read.wire_bytes, read.body_bytes))
        # h11 pauses instead of ending at EOF once a CONNECT or an Upgrade switched protocols.
        if self.eof:  # pragma: no cover - no test switches protocols yet
            raise Stop(TransportEnd.TRUNCATED, "connection closed")

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
                raise Stop(TransportEnd.COMPLETE)
            # InformationalResponse (1xx): nothing to record. ConnectionClosed cannot come:
            # EOF before a response is handled in _check_head, after it h11 ends or raises.

    def _check_head(self, data: bytes) -> None:
        if self.response is not None or len(self.head) >= 5:
            return
        if not data and not self.head:
            # h11 calls this a protocol error; for the probe it is a cut before headers.
            raise Stop(
                TransportEnd.TRUNCATED, "the server closed the connection without a response"
            )
        self.head = (self.head + data)[:16]
        if self.head[:5] != b"HTTP/"[: len(self.head)]:
            hint = " (it looks like TLS: use https://)" if self.head[:1] == b"\x15" else ""
            raise ProbeError(
                f"{self.target.shown} did not answer with HTTP: first bytes {self.head!r}{hint}"
            )

    def _on_h11_error(self, exc: h11.RemoteProtocolError) -> NoReturn:
        reason = h11_reason(exc)
        response = self.response
        if response is None:
            if self.eof:
                reason = "the connection closed in the middle of the response headers"
            elif "buffer too long" in reason:
                reason = f"the response headers exceed {format_bytes(MAX_HEADER_BYTES)}"
            raise ProbeError(f"malformed response from {self.target.shown}: {reason}") from exc
        if self.eof:
            raise Stop(TransportEnd.TRUNCATED, self._truncation_error(response)) from exc
        raise Stop(TransportEnd.PROTOCOL_ERROR, f"malformed HTTP body: {reason}") from exc

    def _truncation_error(self, response: h11.Response) -> str:
        if self.framing == "chunked":
            return "the connection closed inside the chunked body (no final 0-size chunk)"
        length = header(response, b"content-length")
        return (
            f"the connection closed after {self.wire_body_bytes} of {length} body bytes "
            "(Content-Length)"
        )

    # -- response and body

    def _on_response(self, response: h11.Response, t_ns: int) -> None:
        self.response = response
        self.t_headers_ns = t_ns
        self.framing = framing(response, self.request.method)
        self.content_encoding = header(response, b"content-encoding").strip().lower()
        self.dialect = self._resolve_dialect(response)
        self.parser = parser_for(
            self.dialect,
            max_line_bytes=self.request.max_event_bytes,
            max_event_bytes=self.request.max_event_bytes,
        )
        if self.content_encoding in ("", "identity"):
            return
        if self.content_encoding not in ENCODINGS:
            raise Stop(
                TransportEnd.PROTOCOL_ERROR,
                f"unsupported Content-Encoding {self.content_encoding!r} "
                f"(the probe sent Accept-Encoding: {self.request.accept_encoding!r})",
            )
        self.decoder = Decoder(self.content_encoding)

    def _resolve_dialect(self, response: h11.Response) -> Dialect:
        if not 200 <= response.status_code < 300:
            return Dialect.RAW  # an error page is not a stream: count its bytes, keep a preview
        if self.request.dialect is not Dialect.AUTO:
            return self.request.dialect
        path = urlsplit(self.request.url).path
        return detect_dialect(path, header(response, b"content-type"))

    def _on_body(self, raw: bytes, read: _ReadAcc) -> None:
        self.wire_body_bytes += len(raw)
        if self.decoder is None:
            self._deliver(raw, read)
            return
        try:
            for piece in self.decoder.decode(raw):
                self._deliver(piece, read)
        except zlib.error as exc:
            raise Stop(
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
                raise Stop(TransportEnd.PROTOCOL_ERROR, reason_of(exc)) from exc
            self._arrive(events, read)
        if too_large:
            raise Stop(
                TransportEnd.TOO_LARGE,
                f"the body passed --max-bytes {format_bytes(self.request.max_bytes)}; "
                "stopped reading",
            )

    def _arrive(self, events: list[StreamEvent], read: _ReadAcc) -> None:
        read.events += len(events)
        self.arrivals.extend(Arrival(read.t_ns, read.index, event) for event in events)

    # -- end

    def close_parser(self, t_end_ns: int) -> None:
        """Record the stream's incomplete last event, if any, as arriving at ``t_end_ns``."""
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

    def body_preview(self) -> str:
        """The start of the body, unless it is a successful stream (its events say more)."""
        response = self.response
        if response is None or not self.preview:
            return ""
        content_type = header(response, b"content-type").lower()
        streaming = any(kind in content_type for kind in _STREAM_TYPES)
        if 200 <= response.status_code < 300 and streaming:
            return ""
        return self.preview.decode("utf-8", errors="replace")
