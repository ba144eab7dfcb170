"""The probe's only network code: send one request, stamp every socket read, parse the body.

The read loop is our own (not httpx) so that each ``recv()`` gets exactly one monotonic stamp,
taken right after it returns and before any parsing; every event that read completes carries
that stamp and the read's index. The sans-IO ``Exchange`` does the HTTP (h11) and the stream
parsing (``tokenpath.stream``); this module does the I/O, its deadlines and the result.

Errors are translated here and nowhere else (messages in ``probe.messages``):

* before any response: DNS, refused, unreachable, TLS handshake, connect timeout raise
  ``ProbeConnectError``; a malformed answer raises ``ProbeError``; no headers in time or a
  reset give a ``Timeline`` with ``status=None``;
* after the response headers nothing is raised: the end (truncated, reset, timeout, too large,
  protocol error) is recorded in the ``Timeline``.

Header values never appear in an error message, and ``Timeline.url`` carries no credentials.
"""

from __future__ import annotations

import ssl
from typing import NoReturn

from tokenpath.clock import NS_PER_S, Clock, MonotonicClock
from tokenpath.errors import ProbeConnectError, ProbeError
from tokenpath.probe.exchange import Exchange, Stop
from tokenpath.probe.headers import text
from tokenpath.probe.messages import connect_message, reason_of, tls_message
from tokenpath.probe.request import ProbeRequest
from tokenpath.probe.target import Target
from tokenpath.probe.timeline import Timeline, TransportEnd
from tokenpath.probe.transport import Endpoint, SocketTransport, Transport, TransportFactory
from tokenpath.units import format_seconds

RECV_SIZE = 64 * 1024

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
    target = Target.parse(request.url)
    endpoint = Endpoint(target.scheme, target.host, target.port, request.insecure, request.cacert)
    transport = transport_factory(endpoint)
    try:
        return _Session(request, target, clock, transport).run()
    finally:
        transport.close()


class _Session:
    """The I/O of one exchange: connect, send, the read loop and its deadlines."""

    def __init__(
        self, request: ProbeRequest, target: Target, clock: Clock, transport: Transport
    ) -> None:
        self.request = request
        self.target = target
        self.clock = clock
        self.transport = transport
        self.exchange = Exchange(request, target)
        self.t_start_ns = 0
        self.t_connected_ns: int | None = None
        self.t_tls_ns: int | None = None
        self.t_request_sent_ns: int | None = None
        self.deadline_ns = 0
        self.idle_deadline_ns = 0

    def run(self) -> Timeline:
        self.t_start_ns = self.clock.monotonic_ns()
        self.deadline_ns = self.t_start_ns + _ns(self.request.max_time_s)
        self._connect()
        try:
            self._send()
            self._read_loop()
        except Stop as stop:
            return self._timeline(stop)

    def _connect(self) -> None:
        url, budget = self.target.shown, self._budget(self.request.connect_timeout_s)
        try:
            self.transport.connect(budget)
        except OSError as exc:
            raise ProbeConnectError(connect_message(url, exc, budget)) from exc
        self.t_connected_ns = self.clock.monotonic_ns()
        if self.target.scheme != "https":
            return
        try:
            self.transport.start_tls(self._budget(self.request.connect_timeout_s))
        except OSError as exc:
            raise ProbeConnectError(tls_message(url, exc)) from exc
        self.t_tls_ns = self.clock.monotonic_ns()

    def _send(self) -> None:
        data = self.exchange.request_bytes()
        self.idle_deadline_ns = self.clock.monotonic_ns() + _ns(self.request.timeout_s)
        try:
            self.transport.sendall(data, self._recv_timeout()[0] / NS_PER_S)
        except TimeoutError as exc:
            raise Stop(TransportEnd.TIMEOUT, "could not send the request in time") from exc
        except OSError:
            pass  # the server may have answered and closed early: read what it sent
        self.t_request_sent_ns = self.clock.monotonic_ns()
        self.idle_deadline_ns = self.t_request_sent_ns + _ns(self.request.timeout_s)

    def _read_loop(self) -> NoReturn:
        while True:
            timeout_ns, which = self._recv_timeout()
            if timeout_ns <= 0:
                raise Stop(TransportEnd.TIMEOUT, self._timeout_error(which))
            try:
                data = self.transport.recv(RECV_SIZE, timeout_ns / NS_PER_S)
            except TimeoutError as exc:
                raise Stop(TransportEnd.TIMEOUT, self._timeout_error(which)) from exc
            except ssl.SSLError as exc:
                if self.exchange.response is None:
                    raise ProbeError(
                        f"{self.target.shown}: TLS error while reading: {reason_of(exc)}"
                    ) from exc
                raise Stop(TransportEnd.PROTOCOL_ERROR, f"TLS error: {reason_of(exc)}") from exc
            except OSError as exc:
                raise Stop(TransportEnd.RESET, f"connection reset ({reason_of(exc)})") from exc
            t_ns = self.clock.monotonic_ns()  # the receive stamp: before any parsing
            if data:
                self.idle_deadline_ns = t_ns + _ns(self.request.timeout_s)
            self.exchange.feed(data, t_ns)

    # -- bounds

    def _budget(self, seconds: float) -> float:
        remaining = self.deadline_ns - self.clock.monotonic_ns()
        return max(min(_ns(seconds), remaining), 1) / NS_PER_S

    def _recv_timeout(self) -> tuple[int, str]:
        now = self.clock.monotonic_ns()
        idle, total = self.idle_deadline_ns - now, self.deadline_ns - now
        return (idle, "idle") if idle < total else (total, "total")

    def _timeout_error(self, which: str) -> str:
        where = "response headers" if self.exchange.response is None else "end of the body"
        if which == "idle":
            quiet = format_seconds(self.request.timeout_s)
            return f"no bytes for {quiet} (--timeout) while waiting for the {where}"
        limit = format_seconds(self.request.max_time_s)
        return f"no {where} within {limit} (--max-time)"

    # -- result

    def _timeline(self, stop: Stop) -> Timeline:
        t_end_ns = self.clock.monotonic_ns() if stop.t_ns is None else stop.t_ns
        exchange = self.exchange
        exchange.close_parser(t_end_ns)
        response = exchange.response
        headers = tuple(
            (text(name), text(value)) for name, value in (response.headers if response else ())
        )
        return Timeline(
            url=self.target.shown,
            method=self.request.method,
            t_start_ns=self.t_start_ns,
            t_connected_ns=self.t_connected_ns,
            t_tls_ns=self.t_tls_ns,
            t_request_sent_ns=self.t_request_sent_ns,
            t_headers_ns=exchange.t_headers_ns,
            t_end_ns=t_end_ns,
            status=response.status_code if response else None,
            reason=text(response.reason) if response else "",
            http_version=text(response.http_version) if response else "",
            headers=headers,
            framing=exchange.framing,
            content_encoding=exchange.content_encoding,
            reads=tuple(exchange.reads),
            arrivals=tuple(exchange.arrivals),
            dialect=exchange.dialect.value,
            transport_end=stop.end,
            error=stop.error,
            body_preview=exchange.body_preview(),
        )


def _ns(seconds: float) -> int:
    return round(seconds * NS_PER_S)
