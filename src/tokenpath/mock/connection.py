"""One client connection of the mock: h11 for requests, keep-alive, and the transport.

``responder`` writes each response; this module owns the socket: reading and bounding requests,
refusing bad ones, answering one at a time, back-pressure, and the ways to end (FIN, abort,
RST). Sockets are TCP_NODELAY with a zero write buffer limit: the next event waits until the
previous one is in the kernel, so the mock never coalesces events itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from typing import TYPE_CHECKING, cast

import h11

from tokenpath.mock.endpoints import Request
from tokenpath.mock.responder import http_date, respond
from tokenpath.mock.responses import error_body, response_head
from tokenpath.mock.schedule import StepKind

if TYPE_CHECKING:
    from tokenpath.mock.server import MockServer

log = logging.getLogger("tokenpath.mock")

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024
_LINGER_RESET = struct.pack("ii", 1, 0)


class Connection(asyncio.Protocol):
    """One client connection: parses requests with h11, answers one at a time (keep-alive).

    ``transport``, ``paused`` and ``lost`` are read by ``responder`` on every event.
    """

    __slots__ = (
        "_body",
        "_drain_waiter",
        "_h11",
        "_pending",
        "_request",
        "_server",
        "_task",
        "lost",
        "paused",
        "transport",
    )

    def __init__(self, server: MockServer) -> None:
        self._server = server
        self.transport: asyncio.Transport | None = None
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._task: asyncio.Task[None] | None = None
        self.paused = False
        self.lost = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._pending = 0  # bytes received while a response is in progress

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its interface.
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=0)
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._server.connections.discard(self)
        self._wake()
        if self._task is not None:
            self._task.cancel()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._wake()

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return  # refused or faulted: whatever the client still sends is moot
        if self._task is not None:
            # A pipelined request: h11 keeps it until this response is done; bound it.
            self._pending += len(data)
            if self._pending > MAX_HEADER_BYTES + MAX_BODY_BYTES:
                self.abort()
                return
        try:
            self._h11.receive_data(data)
        except RuntimeError:  # data after the client's EOF: nothing more to do
            return
        if self._task is None:
            self._next_event()

    def eof_received(self) -> bool:
        with contextlib.suppress(RuntimeError):
            self._h11.receive_data(b"")
        if self._task is None:
            self._next_event()
        return True  # keep writing: a half-closed client still reads the response

    # -- requests ------------------------------------------------------------------------

    def _next_event(self) -> None:
        while not self.lost:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._refuse(exc.error_status_hint, f"bad request: {exc}")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request = event
                self._body = bytearray()
                if not self._start_body(event):
                    return
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > MAX_BODY_BYTES:
                    self._refuse(413, f"request body larger than {MAX_BODY_BYTES} bytes")
                    return
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch()
                return
            else:  # ConnectionClosed
                self.close()
                return

    def _start_body(self, request: h11.Request) -> bool:
        # h11 bounds a head that arrives in pieces; one that arrives whole is checked here.
        if sum(len(name) + len(value) + 4 for name, value in request.headers) > MAX_HEADER_BYTES:
            self._refuse(431, f"request headers larger than {MAX_HEADER_BYTES} bytes")
            return False
        for name, value in request.headers:
            if name == b"content-length" and int(value) > MAX_BODY_BYTES:
                self._refuse(413, f"request body larger than {MAX_BODY_BYTES} bytes")
                return False
        if self._h11.client_is_waiting_for_100_continue:
            continue_ = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
            self.write(self._h11.send(continue_) or b"")
        return True

    def _dispatch(self) -> None:
        assert self._request is not None
        request = Request(
            method=self._request.method.decode("ascii", "replace"),
            target=self._request.target.decode("ascii", "replace"),
            http_version=self._request.http_version.decode("ascii", "replace"),
            headers=tuple(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in self._request.headers
            ),
            body=bytes(self._body),
        )
        self._body = bytearray()
        self._pending = 0
        received = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._serve(request, received))

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request we will not serve, then close."""
        body = error_body(status, message)
        head = response_head(status, length=len(body), close=True, date=http_date())
        self.write(head + body)
        self.close()

    # -- one response, then the next request ---------------------------------------------

    async def _serve(self, request: Request, received: float) -> None:
        close = True
        try:
            close = await respond(self, request, self._server.defaults, received)
        except asyncio.CancelledError:
            return  # the client went away
        except (ConnectionError, OSError):
            close = True
        except Exception:  # a bug: log it, drop this connection, keep serving others
            log.exception("mock: error while answering %s %s", request.method, request.target)
            self.abort()
            return
        finally:
            self._task = None
        if self.lost:
            return
        if close:
            self.close()
            return
        self._next_cycle()

    def _next_cycle(self) -> None:
        """Keep-alive: let h11 know the response is done, then read the next request."""
        try:
            self._h11.send(h11.Response(status_code=200, headers=[("content-length", "0")]))
            self._h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            self.close()
            return
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            self._next_event()
        else:
            self.close()

    # -- writing and closing -------------------------------------------------------------

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and data and not self.lost and not transport.is_closing():
            transport.write(data)

    async def drain(self) -> None:
        """Wait until the transport takes writes again (or the connection is lost)."""
        while self.paused and not self.lost:
            waiter = asyncio.get_running_loop().create_future()
            self._drain_waiter = waiter
            await waiter

    def _wake(self) -> None:
        waiter = self._drain_waiter
        self._drain_waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fault(self, kind: StepKind, partial: bytes) -> None:
        """End the connection as fault step ``kind`` says, after writing ``partial``."""
        if partial:
            self.write(partial)
        if kind is StepKind.RST:
            self.reset()
        else:
            self.close()

    def close(self) -> None:
        """Close after flushing: a FIN."""
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def reset(self) -> None:
        """Close with SO_LINGER (1, 0): the kernel sends RST instead of FIN."""
        if self.transport is None:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.transport.abort()
