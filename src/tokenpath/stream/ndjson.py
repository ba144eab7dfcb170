"""Newline-delimited JSON parser (Ollama's streaming format), sans-IO: bytes in, events out.

Lines end with LF; a CR before it is dropped, so CRLF bodies parse too. Empty and
whitespace-only lines are skipped. The JSON is not parsed here: each line becomes an
``NDJSONLine`` with the text, and the dialect layer interprets it.

Ollama ends every object with a LF, so bytes left without one at EOF are an unfinished event:
``close`` reports them as ``IncompleteEvent`` rather than guessing they were complete.
"""

from __future__ import annotations

from typing import NoReturn

from tokenpath.errors import StreamProtocolError
from tokenpath.stream.events import IncompleteEvent, NDJSONLine, StreamEvent
from tokenpath.stream.sse import DEFAULT_MAX_LINE_BYTES

__all__ = ["NDJSONParser"]


class NDJSONParser:
    """Incremental NDJSON parser. ``feed`` bytes as they arrive, ``close`` at EOF.

    ``max_line_bytes`` bounds one line; it is enforced on the bytes held back, so an endless
    line cannot grow memory past the cap.
    """

    __slots__ = ("_buf", "_error", "_max_line", "_offset")

    def __init__(self, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be positive")
        self._max_line = max_line_bytes
        self._offset = 0  # bytes fed so far
        self._buf = bytearray()  # the unfinished line
        self._error = ""  # set once a cap is broken; every later call raises

    def feed(self, data: bytes) -> list[StreamEvent]:
        """Parse the next bytes of the stream; return the lines they completed."""
        if self._error:
            raise StreamProtocolError(self._error)
        base = self._offset  # stream offset of data[0]
        self._offset = base + len(data)
        if b"\n" not in data:
            self._hold(data, base)
            return []
        pieces = data.split(b"\n")
        tail = pieces.pop()
        held = len(self._buf)
        if held + len(data) > self._max_line:  # only then can a complete line break the cap
            start = base - held
            for piece in pieces:
                self._check(len(piece) + held, start)
                start += len(piece) + held + 1
                held = 0
            held = len(self._buf)
        end = base
        if held:
            pieces[0] = bytes(self._buf) + pieces[0]
            self._buf.clear()
            end -= held
        out: list[StreamEvent] = []
        for line in pieces:
            end += len(line) + 1
            if line[-1:] == b"\r":
                line = line[:-1]
            if line and not line.isspace():
                out.append(NDJSONLine(line.decode("utf-8", "replace"), end))
        if tail:
            self._hold(tail, self._offset - len(tail))
        return out

    def close(self) -> list[StreamEvent]:
        """Signal EOF. A line without its LF is reported as ``IncompleteEvent``."""
        if self._error:
            raise StreamProtocolError(self._error)
        pending = len(self._buf)
        blank = not self._buf.strip()
        self._buf.clear()
        if blank:  # trailing whitespace would have been skipped as a line anyway
            return []
        return [IncompleteEvent(pending_bytes=pending, end_offset=self._offset)]

    def _hold(self, data: bytes, base: int) -> None:
        self._check(len(self._buf) + len(data), base - len(self._buf))
        self._buf += data

    def _check(self, size: int, start: int) -> None:
        if size > self._max_line:
            self._fail(
                f"NDJSON line longer than max_line_bytes={self._max_line}: the line starting "
                f"at byte {start} passed the cap at byte {start + self._max_line + 1} without "
                "a LF; the body is not NDJSON, or raise max_line_bytes"
            )

    def _fail(self, message: str) -> NoReturn:
        self._error = message
        self._buf.clear()
        raise StreamProtocolError(message)
