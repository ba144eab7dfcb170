"""What one probe request observed, as plain values. Produced by ``probe.client``,
consumed by the pure ``probe.classify``.

All ``*_ns`` times are ``Clock.monotonic_ns()`` readings; ``t_start_ns`` is taken just before
the connection attempt. Receive stamps are taken right after each socket read returns and
before any parsing, so bursts stay visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tokenpath.stream.events import StreamEvent


class TransportEnd(StrEnum):
    """How the transport ended. ``probe.classify`` turns it, plus the dialect's terminator,
    into the user-facing end state (done, eof_no_terminator, ...)."""

    # the HTTP message ended as its framing says (or clean EOF if close-delimited)
    COMPLETE = "complete"
    TRUNCATED = "truncated"  # EOF inside a chunked or Content-Length body
    RESET = "reset"  # connection reset by peer
    TIMEOUT = "timeout"  # the probe's own --timeout (idle) or --max-time ended it
    TOO_LARGE = "too_large"  # --max-bytes reached; the probe stopped reading
    PROTOCOL_ERROR = "protocol_error"  # malformed HTTP, bad gzip, or a stream size cap


@dataclass(frozen=True, slots=True)
class Read:
    """One socket read that delivered body bytes."""

    index: int
    t_ns: int
    wire_bytes: int  # bytes of HTTP body framing as read from the socket (after TLS)
    body_bytes: int  # decoded body bytes this read yielded (after de-chunking and decompression)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A parsed event and the read that completed it."""

    t_ns: int
    read_index: int
    event: StreamEvent


@dataclass(frozen=True, slots=True)
class Timeline:
    url: str  # credentials never appear here: userinfo is stripped by the client
    method: str
    t_start_ns: int
    t_connected_ns: int | None = None
    t_tls_ns: int | None = None
    t_request_sent_ns: int | None = None
    t_headers_ns: int | None = None
    t_end_ns: int = 0
    status: int | None = None
    reason: str = ""
    http_version: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # response headers, lower-cased names
    framing: str = ""  # "chunked" | "length" | "close" | "" (no body)
    content_encoding: str = ""  # "", "gzip", "deflate", ... as sent by the server
    reads: tuple[Read, ...] = ()
    arrivals: tuple[Arrival, ...] = ()
    dialect: str = "raw"  # the resolved Dialect value used to parse the body
    transport_end: TransportEnd = TransportEnd.COMPLETE
    error: str = ""  # one line, only for abnormal end states
    body_preview: str = field(default="")  # first bytes of an error body, for evidence

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key == lname:
                return value
        return None
