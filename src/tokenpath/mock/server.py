"""The mock's network edge: the listening socket, its event loop, and ways to run it.

``MockServer`` accepts connections on a running loop (``connection`` serves each one);
``run_in_thread`` runs it in a background thread for tests and the demo; ``serve`` runs it in
the foreground for ``tokenpath mock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tokenpath.errors import UsageError
from tokenpath.mock.connection import Connection
from tokenpath.mock.scenarios import DEFAULT_SCENARIO, Scenario

log = logging.getLogger("tokenpath.mock")

LISTEN_BACKLOG = 2048
ACCEPT_BATCH = 256  # connections accepted per readiness event before other callbacks run


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed (``tokenpath[fast]``), else the default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class MockServer:
    """The mock LLM server on a running event loop: ``await start()``, ``await close()``.

    It accepts connections itself, many per readiness event: uvloop's ``create_server``
    accepts one per loop iteration, which under full load delays new streams by seconds.
    """

    def __init__(self, defaults: Scenario = DEFAULT_SCENARIO) -> None:
        self.defaults = defaults
        self.connections: set[Connection] = set()
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
                loop.connect_accepted_socket(lambda: Connection(self), client)
            )
            self._accepting.add(task)
            task.add_done_callback(self._accepting.discard)

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

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
        return _url(self.host, self.port)


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
