"""A raw-socket HTTP client for the mock tests: every recv is kept with its arrival stamp, so
tests can see framing, faults and timing exactly as they are on the wire."""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass, field

STAMP = re.compile(rb'"tokenpath_send_ns":( *)(\d+)')
COMMENT_STAMP = re.compile(rb": tokenpath send_ns=( *)(\d+)")


def build_request(
    path: str,
    body: object = None,
    *,
    scenario: str | None = None,
    method: str = "POST",
    version: str = "1.1",
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/{version}", "Host: 127.0.0.1"]
    if scenario is not None:
        lines.append(f"X-Tokenpath-Scenario: {scenario}")
    lines += [f"{name}: {value}" for name, value in headers]
    if method == "POST" and not any(name.lower() == "transfer-encoding" for name, _ in headers):
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


@dataclass
class RawResponse:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    head_ns: int = 0  # arrival of the read that completed the headers
    reads: list[tuple[int, bytes]] = field(default_factory=list)  # body bytes per recv
    end: str = ""  # "eof", "reset" or "timeout"
    sent_ns: int = 0

    @property
    def body(self) -> bytes:
        return b"".join(data for _, data in self.reads)

    @property
    def complete(self) -> bool:
        """The body ended as its framing says (close-delimited bodies end at EOF)."""
        if self.headers.get("transfer-encoding") == "chunked":
            return dechunk(self.body)[1]
        if "content-length" in self.headers:
            return len(self.body) >= int(self.headers["content-length"])
        return self.end == "eof"

    @property
    def decoded(self) -> bytes:
        if self.headers.get("transfer-encoding") == "chunked":
            return dechunk(self.body)[0]
        return self.body


def exchange(
    port: int, request: bytes, *, timeout: float = 5.0, stop_after_body: int | None = None
) -> RawResponse:
    """Send ``request`` and read until EOF, reset or ``timeout`` (or ``stop_after_body`` bytes)."""
    response = RawResponse()
    buffer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        response.sent_ns = time.monotonic_ns()
        sock.sendall(request)
        while True:
            try:
                data = sock.recv(1 << 20)
            except ConnectionResetError:
                response.end = "reset"
                break
            except TimeoutError:
                response.end = "timeout"
                break
            now = time.monotonic_ns()
            if not data:
                response.end = "eof"
                break
            if not response.status:
                buffer += data
                if b"\r\n\r\n" not in buffer:
                    continue
                head, _, rest = buffer.partition(b"\r\n\r\n")
                _parse_head(response, head)
                response.head_ns = now
                if rest:
                    response.reads.append((now, rest))
            else:
                response.reads.append((now, data))
            if stop_after_body is not None and len(response.body) >= stop_after_body:
                response.end = "stopped"
                break
            if response.status and response.complete:
                response.end = "complete"  # keep-alive: the server leaves the socket open
                break
    return response


def _parse_head(response: RawResponse, head: bytes) -> None:
    lines = head.decode("latin-1").split("\r\n")
    response.status = int(lines[0].split()[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        response.headers[name.strip().lower()] = value.strip()


def dechunk(body: bytes) -> tuple[bytes, bool]:
    """(decoded body, whether the terminating zero-size chunk was seen)."""
    out = b""
    rest = body
    while rest:
        line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            return out, False
        size = int(line, 16)
        if size == 0:
            return out, True
        if len(rest) < size + 2:
            return out + rest[:size], False
        out += rest[:size]
        rest = rest[size + 2 :]
    return out, False


def events(body: bytes, separator: bytes = b"\n\n") -> list[bytes]:
    """SSE events (or NDJSON lines with separator ``\\n``) of a decoded body."""
    return [part for part in body.split(separator) if part]


def payload(event: bytes) -> dict[str, object]:
    text = event.removeprefix(b"data:").strip()
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def stamp(event: bytes) -> int | None:
    match = STAMP.search(event) or COMMENT_STAMP.search(event)
    return int(match.group(2)) if match else None
