"""Small hostile HTTP servers on 127.0.0.1 for the probe client's tests.

``serve(handler)`` runs ``handler(sock, stop)`` in a thread for each connection and yields
the port. Every handler is bounded: sockets have timeouts, waits use ``stop.wait`` (set when
the ``with`` block exits), and sending stops as soon as the client goes away.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Callable, Iterator

Handler = Callable[[socket.socket, threading.Event], None]

SSE_HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@contextlib.contextmanager
def serve(handler: Handler, *, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """Serve ``handler`` on a fresh loopback port (TLS-wrapped if ``tls``); yield the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def run(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.settimeout(5)
            if tls is not None:
                conn = tls.wrap_socket(conn, server_side=True)
            handler(conn, stop)

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=run, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        acceptor.join(2)
        listener.close()
        for thread in threads:
            thread.join(2)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def read_request(sock: socket.socket) -> bytes:
    """Read one request head (and a Content-Length body) from the client."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            while len(body) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
    return head + b"\r\n\r\n" + body


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def sse(data: bytes) -> bytes:
    return b"data: " + data + b"\n\n"


def send_quietly(sock: socket.socket, data: bytes) -> bool:
    """Send, and say whether the client is still there."""
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True


def reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# --- handlers -------------------------------------------------------------------------------


def endless_headers(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    sock.sendall(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Filler: " + b"a" * 100 + b"\r\n"
    sent = 0
    while not stop.is_set() and sent < 10 * 1024 * 1024 and send_quietly(sock, line * 100):
        sent += len(line) * 100


def huge_sse_line(sock: socket.socket, stop: threading.Event) -> None:
    """One 10 MB ``data:`` line in a chunked SSE body."""
    read_request(sock)
    sock.sendall(SSE_HEADERS + chunk(b"data: "))
    piece = chunk(b"x" * 65536)
    for _ in range(160):
        if stop.is_set() or not send_quietly(sock, piece):
            return


def invalid_utf8(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    body = sse(b'{"bad": "\xff\xfe"}') + sse(b"caf\xc3") + sse(b"[DONE]")
    sock.sendall(SSE_HEADERS + chunk(body) + b"0\r\n\r\n")


def gzip_bomb(sock: socket.socket, stop: threading.Event) -> None:
    """Up to 10 GB of zeros, gzip-compressed and streamed; stops when the client leaves."""
    read_request(sock)
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    for _ in range(10 * 1024):
        out = compressor.compress(zeros)
        if out and (stop.is_set() or not send_quietly(sock, chunk(out))):
            return


def gzip_stream(sock: socket.socket, stop: threading.Event) -> None:
    """A small gzip-compressed SSE stream (Content-Length framed)."""
    read_request(sock)
    body = gzip.compress(sse(b"one") + sse(b"two") + sse(b"[DONE]"))
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


def trickle(sock: socket.socket, stop: threading.Event) -> None:
    """One body byte every 0.2 s, for up to 10 s."""
    read_request(sock)
    sock.sendall(SSE_HEADERS)
    for _ in range(50):
        if stop.wait(0.2) or not send_quietly(sock, chunk(b":")):
            return


def silent_after_one_event(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    sock.sendall(SSE_HEADERS + chunk(sse(b"one")))
    stop.wait(10)


def no_response(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    stop.wait(10)


def reset_mid_body(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    sock.sendall(SSE_HEADERS + chunk(sse(b"one")))
    stop.wait(0.2)
    reset(sock)


def reset_before_headers(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    reset(sock)


def close_without_response(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)


def truncated_chunked(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    sock.sendall(SSE_HEADERS + chunk(sse(b"one")) + b"20\r\ndata: tw")


def close_delimited(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    sock.sendall(
        b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + sse(b"one") + sse(b"[DONE]")
    )


def short_content_length(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100\r\n\r\n"
        + sse(b"one")
    )


def gateway_timeout(sock: socket.socket, stop: threading.Event) -> None:
    read_request(sock)
    body = b"<html><body><h1>504 Gateway Time-out</h1></body></html>\n"
    sock.sendall(
        b"HTTP/1.1 504 Gateway Time-out\r\nContent-Type: text/html\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


def not_http(sock: socket.socket, stop: threading.Event) -> None:
    """Answers whatever comes with a plain-HTTP 400, like nginx does to a TLS ClientHello."""
    sock.recv(65536)
    sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def echo_request(sock: socket.socket, stop: threading.Event) -> None:
    """A complete SSE answer whose one event carries the request head, for header checks."""
    request = read_request(sock)
    head = request.partition(b"\r\n\r\n")[0].replace(b"\r\n", b"|")
    sock.sendall(SSE_HEADERS + chunk(sse(head) + sse(b"[DONE]")) + b"0\r\n\r\n")
