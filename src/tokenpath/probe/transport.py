"""Transports: the seam between the probe's read loop and the network.

``SocketTransport`` is the real one (plain or TLS socket). ``ScriptedTransport`` yields given
chunks at given ``FakeClock`` times, like ``httpx.MockTransport``, so the read loop can be
tested without a network and without patching.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tokenpath.clock import NS_PER_S, FakeClock
from tokenpath.errors import UsageError
from tokenpath.probe.messages import reason_of as reason_of  # re-exported: part of this API


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to connect and how: what a transport factory receives."""

    scheme: str  # "http" | "https"
    host: str
    port: int
    insecure: bool = False
    cacert: str | None = None

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


class Transport(Protocol):
    """A byte connection. Timeouts raise ``TimeoutError``; EOF is ``recv() == b""``."""

    def connect(self, timeout_s: float) -> None: ...
    def start_tls(self, timeout_s: float) -> None: ...
    def sendall(self, data: bytes, timeout_s: float) -> None: ...
    def recv(self, max_bytes: int, timeout_s: float) -> bytes: ...
    def close(self) -> None: ...


TransportFactory = Callable[[Endpoint], Transport]


class SocketTransport:
    """The real transport: a TCP socket, TLS-wrapped for https (SNI, verification by default)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._sock: socket.socket | None = None
        self._context = _ssl_context(endpoint) if endpoint.tls else None

    def connect(self, timeout_s: float) -> None:
        self._sock = socket.create_connection(
            (self._endpoint.host, self._endpoint.port), timeout=timeout_s
        )
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def start_tls(self, timeout_s: float) -> None:
        assert self._sock is not None
        assert self._context is not None
        self._sock.settimeout(timeout_s)
        tls = self._context.wrap_socket(
            self._sock, server_hostname=self._endpoint.host, do_handshake_on_connect=False
        )
        self._sock = tls
        tls.do_handshake()

    def sendall(self, data: bytes, timeout_s: float) -> None:
        assert self._sock is not None
        self._sock.settimeout(timeout_s)
        self._sock.sendall(data)

    def recv(self, max_bytes: int, timeout_s: float) -> bytes:
        assert self._sock is not None
        self._sock.settimeout(timeout_s)
        return self._sock.recv(max_bytes)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _ssl_context(endpoint: Endpoint) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=endpoint.cacert)
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"cannot load the CA file {endpoint.cacert!r} given with --cacert "
            f"({reason_of(exc)}): pass a PEM file"
        ) from exc
    context.set_alpn_protocols(["http/1.1"])
    if endpoint.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


ScriptStep = tuple[float, bytes | BaseException]


class ScriptedTransport:
    """A transport for tests, like ``httpx.MockTransport``: ``recv`` plays ``script`` on a
    ``FakeClock``. Each step is ``(at_s, item)``: ``at_s`` seconds after the transport was
    made, ``recv`` returns the bytes (``b""`` is EOF) or raises the exception. A step that
    is not due within the ``recv`` timeout advances the clock by the timeout and raises
    ``TimeoutError``. After the last step, ``recv`` returns EOF. The object is its own
    factory: pass it as ``transport_factory``; ``sent`` collects the request bytes."""

    def __init__(
        self,
        clock: FakeClock,
        script: Sequence[ScriptStep],
        *,
        connect_s: float = 0.0,
        tls_s: float = 0.0,
        send_s: float = 0.0,
    ) -> None:
        self._clock = clock
        self._t0 = clock.monotonic_ns()
        self._steps = list(script)
        self._connect_s, self._tls_s, self._send_s = connect_s, tls_s, send_s
        self.endpoint: Endpoint | None = None
        self.sent = bytearray()
        self.closed = False

    def __call__(self, endpoint: Endpoint) -> ScriptedTransport:
        self.endpoint = endpoint
        return self

    def connect(self, timeout_s: float) -> None:
        self._clock.advance(self._connect_s)

    def start_tls(self, timeout_s: float) -> None:
        self._clock.advance(self._tls_s)

    def sendall(self, data: bytes, timeout_s: float) -> None:
        self._clock.advance(self._send_s)
        self.sent += data

    def recv(self, max_bytes: int, timeout_s: float) -> bytes:
        if not self._steps:
            return b""
        at_s, item = self._steps[0]
        wait_ns = self._t0 + round(at_s * NS_PER_S) - self._clock.monotonic_ns()
        if wait_ns > round(timeout_s * NS_PER_S):
            self._clock.advance(timeout_s)
            raise TimeoutError("timed out")
        if wait_ns > 0:
            self._clock.advance(wait_ns / NS_PER_S)
        if isinstance(item, BaseException):
            self._steps.pop(0)
            raise item
        if len(item) > max_bytes:
            self._steps[0] = (at_s, item[max_bytes:])
            return item[:max_bytes]
        self._steps.pop(0)
        return item

    def close(self) -> None:
        self.closed = True
