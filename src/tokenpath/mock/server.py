"""The mock's network edge: an asyncio server, h11 for requests, our own bytes for responses.

Responses are written by hand (``framing``) so faults are possible, one ``transport.write``
per event, on TCP_NODELAY sockets, each stamped with ``time.monotonic_ns()`` immediately
before its write. The write buffer limit is zero: the next event waits until the previous
one is in the kernel, so the mock never coalesces events itself. Deadlines are absolute
(headers-sent time + the step's offset), so jitter and timer slack never accumulate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import formatdate
from typing import cast

import h11

from tokenpath.errors import UsageError
from tokenpath.mock.endpoints import Generation, Reply, Request, route
from tokenpath.mock.framing import (
    BodyFraming,
    Endpoint,
    EventRenderer,
    StreamContext,
    Wire,
    complete_body,
    content_length,
    error_body,
    resolve_framing,
    response_head,
    stream_head,
)
from tokenpath.mock.scenarios import (
    DEFAULT_SCENARIO,
    TERMINAL_FAULTS,
    Scenario,
    Step,
    StepKind,
    iter_schedule,
    without_faults,
)

log = logging.getLogger("tokenpath.mock")

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024
EARLY_OK = 0.0005  # seconds a step may go out before its deadline (uvloop timers are in ms)
YIELD_EVERY = 16
LISTEN_BACKLOG = 2048
ACCEPT_BATCH = 256  # steps written back to back before giving other streams a turn
_LINGER_RESET = struct.pack("ii", 1, 0)
_ID_PREFIX = {Endpoint.CHAT: "chatcmpl-", Endpoint.COMPLETIONS: "cmpl-"}


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed (``tokenpath[fast]``), else the default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _http_date() -> str:
    return formatdate(usegmt=True)


async def _sleep_until(deadline: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``deadline`` (within ``EARLY_OK``)."""
    while True:
        delay = deadline - time.monotonic()
        if delay <= EARLY_OK:
            return
        await asyncio.sleep(delay)


class _Connection(asyncio.Protocol):
    """One client connection: parses requests with h11, answers one at a time (keep-alive)."""

    __slots__ = (
        "_body",
        "_drain_waiter",
        "_h11",
        "_lost",
        "_paused",
        "_pending",
        "_request",
        "_server",
        "_task",
        "_transport",
    )

    def __init__(self, server: MockServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._task: asyncio.Task[None] | None = None
        self._paused = False
        self._lost = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._pending = 0  # bytes received while a response is in progress

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its interface.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=0)
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._server.connections.discard(self)
        self._wake()
        if self._task is not None:
            self._task.cancel()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def data_received(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
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
        while not self._lost:
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
            self._write(self._h11.send(continue_) or b"")
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
        head = response_head(status, length=len(body), close=True, date=_http_date())
        self._write(head + body)
        self.close()

    # -- responses -----------------------------------------------------------------------

    async def _serve(self, request: Request, received: float) -> None:
        close = True
        try:
            close = await self._respond(request, received)
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
        if self._lost:
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

    async def _respond(self, request: Request, received: float) -> bool:
        """Answer one request. Returns True when the connection must close afterwards."""
        client_close = request.http_version == "1.0" or "close" in (
            (request.header("connection") or "").lower()
        )
        plan = route(request, self._server.defaults, created=int(time.time()))
        if isinstance(plan, Generation):
            if plan.stream:
                return await self._stream(plan, request, received, client_close)
            return await self._complete(plan, received, client_close)
        await _sleep_until(received + plan.delay)
        self._send_reply(plan, client_close, head_only=request.method == "HEAD")
        return client_close

    def _send_reply(self, reply: Reply, close: bool, *, head_only: bool = False) -> None:
        head = response_head(
            reply.status,
            length=len(reply.body),
            content_type=reply.content_type,
            close=close,
            date=_http_date(),
        )
        self._write(head if head_only else head + reply.body)

    def _context(self, plan: Generation, *, chunked: bool) -> StreamContext:
        scenario = plan.scenario
        wall_ns = time.time_ns()
        limited = plan.max_tokens is not None and plan.max_tokens <= scenario.tokens
        return StreamContext(
            endpoint=plan.endpoint,
            request_id=_ID_PREFIX.get(plan.endpoint, "req-") + os.urandom(12).hex(),
            created=wall_ns // 1_000_000_000,
            model=plan.model,
            seed=scenario.seed,
            prompt_tokens=plan.prompt_tokens,
            eol=scenario.eol,
            chunked=chunked,
            pad=scenario.pad,
            finish_reason="length" if limited else "stop",
            wall_ns=wall_ns + round(scenario.headers * 1e9),
        )

    def _schedule(self, plan: Generation, scenario: Scenario) -> Iterator[Step]:
        return iter_schedule(
            scenario,
            max_tokens=plan.max_tokens,
            role=plan.endpoint is Endpoint.CHAT,
            usage=plan.usage,
            terminator=plan.endpoint is not Endpoint.TGI,
            heartbeats=plan.endpoint.sse,
        )

    async def _stream(
        self, plan: Generation, request: Request, received: float, client_close: bool
    ) -> bool:
        scenario = plan.scenario
        framing = resolve_framing(scenario.framing, request.http_version)
        ctx = self._context(plan, chunked=framing is BodyFraming.CHUNKED)
        renderer = EventRenderer(ctx)
        length = None
        if framing is BodyFraming.LENGTH:
            length = content_length(renderer, self._schedule(plan, without_faults(scenario)))
        close = client_close or framing is BodyFraming.CLOSE or scenario.has_fault
        head = stream_head(
            content_type=scenario.ctype or plan.endpoint.content_type,
            framing=framing,
            length=length,
            accel=scenario.accel,
            close=close,
            date=_http_date(),
            request_id=ctx.request_id,
        )
        await _sleep_until(received + scenario.headers)
        self._write(head)
        base = time.monotonic()
        body_end = renderer.body_end()
        burst = 0
        for step in self._schedule(plan, scenario):
            wire = renderer.render(step)
            if step.end:
                wire = Wire(wire.head, wire.tail + body_end, wire.stamped)
            deadline = base + step.at_ns * 1e-9
            if deadline - time.monotonic() > EARLY_OK:
                burst = 0
                await _sleep_until(deadline)
            else:
                burst += 1
                if burst % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            if self._paused:
                await self._drain()
            transport = self._transport
            assert transport is not None
            if self._lost or transport.is_closing():
                return True
            if step.kind in TERMINAL_FAULTS:
                self._fault(step.kind, wire.head)
                return True
            if wire.stamped:
                transport.write(wire.head + b"%20d" % time.monotonic_ns() + wire.tail)
            elif wire.head or wire.tail:
                transport.write(wire.head + wire.tail)
        return close

    async def _complete(self, plan: Generation, received: float, client_close: bool) -> bool:
        """A non-streamed generation: one response when the stream would have ended."""
        last: Step | None = None
        for last in self._schedule(plan, plan.scenario):  # noqa: B007  # only the last matters
            pass
        end_ns = last.at_ns if last is not None else 0
        ctx = self._context(plan, chunked=False)
        await _sleep_until(received + plan.scenario.headers + end_ns * 1e-9)
        if last is not None and last.kind in TERMINAL_FAULTS:
            self._fault(last.kind, b"")
            return True
        if last is not None and last.kind is StepKind.ERROR:
            message = f"tokenpath mock: injected error after {last.count} tokens"
            self._send_reply(Reply(500, error_body(500, message)), client_close)
            return client_close
        wire = complete_body(ctx, last.count if last is not None else 0, end_ns)
        head = response_head(200, length=wire.size, close=client_close, date=_http_date())
        self._write(head + wire.at(time.monotonic_ns()))
        return client_close

    def _fault(self, kind: StepKind, partial: bytes) -> None:
        if partial:
            self._write(partial)
        if kind is StepKind.RST:
            self.reset()
        else:
            self.close()

    async def _drain(self) -> None:
        while self._paused and not self._lost:
            waiter = asyncio.get_running_loop().create_future()
            self._drain_waiter = waiter
            await waiter

    def _wake(self) -> None:
        waiter = self._drain_waiter
        self._drain_waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- transport helpers ---------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        transport = self._transport
        if transport is not None and data and not self._lost and not transport.is_closing():
            transport.write(data)

    def close(self) -> None:
        """Close after flushing: a FIN."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def reset(self) -> None:
        """Close with SO_LINGER (1, 0): the kernel sends RST instead of FIN."""
        if self._transport is None:
            return
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self._transport.abort()


class MockServer:
    """The mock LLM server on a running event loop: ``await start()``, ``await close()``.

    It accepts connections itself, many per readiness event: uvloop's ``create_server``
    accepts one per loop iteration, which under full load delays new streams by seconds.
    """

    def __init__(self, defaults: Scenario = DEFAULT_SCENARIO) -> None:
        self.defaults = defaults
        self.connections: set[_Connection] = set()
        self.host = ""
        self.port = 0
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._accepting: set[asyncio.Task[object]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
            family, _, _, _, address = infos[0]
            sock = socket.create_server(address, family=family, backlog=LISTEN_BACKLOG)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; try another --port"
            ) from None
        sock.setblocking(False)
        self._socket, self._loop = sock, loop
        self.host, self.port = host, int(sock.getsockname()[1])
        loop.add_reader(sock.fileno(), self._accept)

    def _accept(self) -> None:
        sock, loop = self._socket, self._loop
        assert sock is not None
        assert loop is not None
        for _ in range(ACCEPT_BATCH):
            try:
                client, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and friends: back off instead of spinning
                log.warning("mock: accept failed: %s", exc)
                loop.remove_reader(sock.fileno())
                loop.call_later(0.1, loop.add_reader, sock.fileno(), self._accept)
                return
            client.setblocking(False)
            task: asyncio.Task[object] = loop.create_task(
                loop.connect_accepted_socket(lambda: _Connection(self), client)
            )
            self._accepting.add(task)
            task.add_done_callback(self._accepting.discard)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._socket is not None and self._loop is not None:
            self._loop.remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
        for task in list(self._accepting):
            task.cancel()
        for connection in list(self.connections):
            connection.abort()
        await asyncio.sleep(0)  # let connection_lost callbacks cancel their tasks


@dataclass(frozen=True, slots=True)
class MockHandle:
    """A mock running in a background thread (from ``run_in_thread``)."""

    host: str
    port: int
    defaults: Scenario = DEFAULT_SCENARIO

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@contextlib.contextmanager
def run_in_thread(
    host: str = "127.0.0.1", port: int = 0, defaults: Scenario = DEFAULT_SCENARIO
) -> Iterator[MockHandle]:
    """Run the mock on its own event loop in a daemon thread for the ``with`` block.

    ``port=0`` picks a free port; read it from the handle (``.port``, ``.url``).
    """
    loop = new_event_loop()
    server = MockServer(defaults)
    ready = threading.Event()
    failure: list[BaseException] = []

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start(host, port))
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(server.close())
            _cancel_all(loop)
            loop.close()

    thread = threading.Thread(target=main, name=f"tokenpath-mock-{host}:{port}", daemon=True)
    thread.start()
    ready.wait(timeout=30)
    if failure:
        thread.join(timeout=5)
        raise failure[0]
    try:
        yield MockHandle(server.host, server.port, defaults)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    defaults: Scenario = DEFAULT_SCENARIO,
    *,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run the mock until SIGTERM (returns) or Ctrl-C (raises ``KeyboardInterrupt``).

    ``ready`` is called with the URL once the socket listens.
    """

    async def main() -> None:
        server = MockServer(defaults)
        await server.start(host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        if ready is not None:
            ready(server.url)
        try:
            await stop.wait()
        finally:
            await server.close()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())
