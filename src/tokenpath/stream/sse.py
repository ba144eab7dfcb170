"""Server-sent events parser, sans-IO: bytes in, events out.

Follows the WHATWG "event stream interpretation" rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
lines end with LF, CR or CRLF, mixed freely; a blank line dispatches the pending event; a
block without ``data`` lines dispatches nothing; the last event id persists across events.
Two deliberate differences from a browser: comments are returned as ``SSEComment`` events
(heartbeats are a signal for tokenpath), and ``retry`` is attached to the event of its block
instead of being applied to a reconnect timer (there is none here).

Offsets. ``end_offset`` is the stream offset just past the byte that completed the event: the
LF of the blank line or comment line, or the CR for a CR or CRLF line end. A CR completes a
line the moment it arrives (waiting for a possible LF would delay an event until the next
read), so the LF of a CRLF is never the completing byte, whichever way the stream is chunked.

Speed. This runs once per token on the probe's path, so it works on bytes with C-level scans
(``find``, ``split``, ``join``) and never steps through a line byte by byte in Python. A read
holding one data-only event (a server flushing a token) and a read holding many (a proxy
that coalesces) take shortcuts that build the events without a Python loop per line; they
apply only when the bytes have exactly the shape they assume, and anything else goes line by
line. Text is decoded (UTF-8, errors replaced) per complete line or event, never per read, so
a character split across reads decodes correctly.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate, repeat
from operator import add
from typing import NoReturn

from tokenpath.errors import StreamProtocolError
from tokenpath.stream.events import IncompleteEvent, SSEComment, SSEMessage, StreamEvent

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "DEFAULT_MAX_LINE_BYTES", "SSEParser"]

DEFAULT_MAX_LINE_BYTES = 1 << 20
DEFAULT_MAX_EVENT_BYTES = 1 << 20

_BOM = b"\xef\xbb\xbf"
# A CR followed by LF in the same buffer is one line end; a lone CR at the end of a buffer is
# matched alone and the parser remembers to swallow a LF that starts the next buffer.
_LINE_END = re.compile(rb"\r\n?|\n")
_COLON = 0x3A
_LF = 0x0A
_CR = 0x0D


_FIELDS = ("data", "event", "id", "retry", "end_offset")


def _slot_setters() -> tuple[Callable[[object, object], None], ...] | None:
    """Setters for ``SSEMessage``'s slots, or None if it is not the plain slotted class it was.

    ``SSEMessage`` is a frozen dataclass, so its ``__init__`` goes through
    ``object.__setattr__`` once per field: about 0.55 µs on the benchmark machine, as much as
    all the rest of the parsing of a typical event. Writing the slots through their
    descriptors builds the same objects (equal, hashable, frozen afterwards) in about half.
    This is only valid while the class has exactly these fields, slots and no
    ``__post_init__``; if that ever changes, the parser falls back to the constructor instead
    of building wrong objects.
    """
    attrs = vars(SSEMessage)
    names = tuple(field.name for field in dataclasses.fields(SSEMessage))
    if names != _FIELDS or hasattr(SSEMessage, "__post_init__"):
        return None
    if not all(isinstance(attrs.get(name), types.MemberDescriptorType) for name in names):
        return None
    return tuple(attrs[name].__set__ for name in names)


_SETTERS = _slot_setters()
_new = object.__new__
if _SETTERS is not None:
    _set_data, _set_event, _set_id, _set_retry, _set_end = _SETTERS


def _message(data: str, event: str, id: str | None, retry: int | None, end: int) -> SSEMessage:
    if _SETTERS is None:
        return SSEMessage(data, event, id, retry, end)
    message = object.__new__(SSEMessage)
    _set_data(message, data)
    _set_event(message, event)
    _set_id(message, id)
    _set_retry(message, retry)
    _set_end(message, end)
    return message


def _messages(
    datas: Iterable[str], id: str | None, ends: Iterator[int], count: int
) -> list[SSEMessage]:
    """``count`` default-type messages in bulk: one C-level pass per field."""
    if _SETTERS is None:
        return list(map(SSEMessage, datas, repeat("message"), repeat(id), repeat(None), ends))
    messages = list(map(object.__new__, repeat(SSEMessage, count)))
    # The setters return None, so any() runs each map to the end without storing anything.
    any(map(_set_data, messages, datas))
    any(map(_set_event, messages, repeat("message")))
    any(map(_set_id, messages, repeat(id)))
    any(map(_set_retry, messages, repeat(None)))
    any(map(_set_end, messages, ends))
    return messages


class SSEParser:
    """Incremental SSE parser. ``feed`` bytes as they arrive, ``close`` at EOF.

    ``max_line_bytes`` bounds one line and ``max_event_bytes`` one event's field lines; both
    are enforced on the bytes held back, so an endless line cannot grow memory past the cap.
    """

    __slots__ = (
        "_at_start",
        "_block_start",
        "_bom",
        "_buf",
        "_cr_field",
        "_data",
        "_error",
        "_event",
        "_fast_limit",
        "_idle",
        "_last_id",
        "_max_event",
        "_max_line",
        "_offset",
        "_pending",
        "_retry",
        "_skip_lf",
    )

    def __init__(
        self,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        if max_line_bytes < 1 or max_event_bytes < 1:
            raise ValueError("max_line_bytes and max_event_bytes must be positive")
        self._max_line = max_line_bytes
        self._max_event = max_event_bytes
        self._offset = 0  # bytes fed so far
        self._buf = bytearray()  # the unfinished line, without terminator
        self._at_start = True  # a BOM may still be coming
        self._bom = b""  # stream-start bytes held while they may be a split BOM
        self._skip_lf = False  # the last byte fed was a CR ending a line
        self._cr_field = False  # ... and that line was a field line of the pending event
        self._data: list[bytes] = []
        self._event = b""
        self._retry: int | None = None
        self._last_id: str | None = None
        self._pending = 0  # bytes of the pending event's completed field lines
        self._block_start = 0  # stream offset of the pending event's first field line
        # At a line start with nothing held or pending: the state the one-event fast path needs.
        self._idle = False
        self._fast_limit = min(max_line_bytes, max_event_bytes)
        # Once a cap is broken the stream is not followable any more: every later call
        # raises too, as h11 does after a protocol error.
        self._error = ""

    def feed(self, data: bytes) -> list[StreamEvent]:
        """Parse the next bytes of the stream; return the events they completed."""
        # Hot path: a read holding exactly one data-only event, the way servers flush tokens
        # (LF or CRLF line ends, "data: " or axum's "data:"). Literals rather than module
        # constants, since this runs once per token.
        size = len(data)
        if self._idle and size <= self._fast_limit and data.startswith(b"data:"):
            end = data.find(b"\n")
            if end == size - 2 and data[-1] == 10 and 13 not in data:
                done = size
            elif end == size - 3 and data.endswith(b"\r\n\r\n") and data.find(b"\r") == end - 1:
                end -= 1
                done = size - 1  # a CRLF line completes at its CR
            else:
                done = 0
            if done:
                text = data[6 if data[5] == 32 else 5 : end].decode("utf-8", "replace")
                done += self._offset
                self._offset += size
                if _SETTERS is None:
                    return [SSEMessage(text, "message", self._last_id, None, done)]
                message = _new(SSEMessage)
                _set_data(message, text)
                _set_event(message, "message")
                _set_id(message, self._last_id)
                _set_retry(message, None)
                _set_end(message, done)
                return [message]
        out = self._feed(data)
        self._idle = not (self._buf or self._pending or self._skip_lf or self._at_start)
        return out

    def _feed(self, data: bytes) -> list[StreamEvent]:
        if self._error:
            raise StreamProtocolError(self._error)
        if not data:
            return []
        base = self._offset  # stream offset of data[0]
        self._offset = base + len(data)
        if self._at_start:
            data, base = self._strip_bom(data)
            if not data:
                return []
        out: list[StreamEvent] = []
        pos = 0
        if self._skip_lf:
            self._skip_lf = False
            if data[0] == _LF:
                pos = 1
                if self._cr_field:
                    self._pending += 1
        if (
            self._buf
            and not pos
            and not self._pending
            and _LF in data
            and self._buf.startswith(b"data: ")
        ):
            # The usual case with large reads: the held line starts the next event and ends
            # in this read. Parsing it together with the new bytes keeps the whole read on
            # the bulk path. (Only once the line ends: copying the held bytes on every read
            # would be quadratic for a long line arriving in small reads.)
            base -= len(self._buf)
            data = bytes(self._buf) + data
            self._buf.clear()
        elif self._buf:
            pos = self._finish_line(data, pos, base, out)
            # Reads rarely end at an event boundary; dispatching the blank line that usually
            # follows lets the rest of the read take the fast path with no pending state.
            if pos < len(data) and data[pos] == _LF:
                pos += 1
                self._dispatch(base + pos, out)
        size = len(data)
        if pos >= size:
            return out
        # The paths below need a region too small to break a cap; the general one checks
        # every line, so it takes anything else.
        if size - pos > self._max_line or self._pending + size > self._max_event:
            self._general(data[pos:], base + pos, out)
        elif not self._pending and data.startswith(b"data:", pos):
            self._data_events(data, pos, base, out, b"\r\n" if _CR in data else b"\n")
        elif _CR in data:
            self._general(data[pos:], base + pos, out)
        else:
            self._blocks(data[pos:], base + pos, out)
        return out

    def _data_events(
        self, data: bytes, pos: int, base: int, out: list[StreamEvent], nl: bytes
    ) -> None:
        """Fast path for the shape nearly every LLM stream has: only data-only events.

        ``data[pos:]`` starts a ``data:`` line and no field state is pending. ``nl`` is the
        line end this region is expected to use throughout; any deviation (another field, a
        comment, a multi-line event, a stray CR or LF) sends the region to the line-by-line
        paths, so this is only a shortcut, never a different reading of the bytes.
        """
        n = len(nl)
        fallback = self._general if n == 2 else self._blocks
        last = data.rfind(nl + nl, pos)
        if last < 0:
            fallback(data[pos:], base + pos, out)
            return
        skip = 6 if data[pos + 5] == 32 else 5  # "data: " or "data:"
        if data.find(b"\n", pos) == last + n - 1 and (n == 1 or data.find(b"\r", pos) == last):
            text = data[pos + skip : last].decode("utf-8", "replace")
            out.append(_message(text, "message", self._last_id, None, base + last + n + 1))
        elif not self._bulk(data[pos + skip : last], base + pos, out, nl, data[pos : pos + skip]):
            fallback(data[pos:], base + pos, out)
            return
        rest = last + 2 * n
        if rest == len(data):
            return
        # The usual tail is the start of the next event, a line with no end yet.
        if data.find(b"\n", rest) < 0 and (n == 1 or data.find(b"\r", rest) < 0):
            self._hold(data, rest, base)
        else:
            fallback(data[rest:], base + rest, out)

    def _bulk(
        self, body: bytes, base: int, out: list[StreamEvent], nl: bytes, prefix: bytes
    ) -> bool:
        """Events from ``body`` = d0 + nl nl prefix + d1 ...; False if that is not all it is."""
        sep = nl + nl + prefix
        # After a bare "data:" a value starting with a space would need that space stripped.
        bare = len(prefix) == 5
        lengths: Iterator[int]
        datas: Iterable[str]
        if body.isascii():
            # One decode and a str split beat a decode per event; str lengths are byte lengths.
            texts = body.decode("ascii").split(sep.decode("ascii"))
            joined = "".join(texts)
            if "\n" in joined or "\r" in joined:
                return False
            if bare and any(map(str.startswith, texts, repeat(" "))):
                return False
            count, lengths, datas = len(texts), map(len, texts), texts
        else:
            parts = body.split(sep)
            raw = b"".join(parts)
            if _LF in raw or _CR in raw:
                return False
            if bare and any(map(bytes.startswith, parts, repeat(b" "))):
                return False
            count, lengths = len(parts), map(len, parts)
            datas = map(bytes.decode, parts, repeat("utf-8"), repeat("replace"))
        # Event i's data starts len(sep) bytes after event i-1's ends, and the event completes
        # len(nl) + 1 bytes after its data (its line end, then the blank line's first byte).
        stride = len(sep)
        ends = accumulate(
            map(add, lengths, repeat(stride)), initial=base + len(prefix) + len(nl) + 1 - stride
        )
        next(ends)
        out.extend(_messages(datas, self._last_id, ends, count))
        return True

    def _blocks(self, data: bytes, base: int, out: list[StreamEvent]) -> None:
        """LF-only ``data`` starting at a line start, within the caps: split at blank lines."""
        parts = data.split(b"\n\n")
        tail = parts.pop()
        off = base
        # A part followed by "\n\n" ends with a blank line, so after the first part no field
        # state is pending and a lone "data: ..." line is a whole event.
        clean = not self._pending
        for part in parts:
            if clean and part[:6] == b"data: " and _LF not in part:
                off += len(part) + 2
                text = part[6:].decode("utf-8", "replace")
                out.append(_message(text, "message", self._last_id, None, off))
                continue
            for line in part.split(b"\n"):
                off += len(line) + 1
                self._line(line, off, 1, out)
            off += 1
            self._dispatch(off, out)
            clean = True
        if tail:
            lines = tail.split(b"\n")
            self._buf += lines.pop()
            for line in lines:
                off += len(line) + 1
                self._line(line, off, 1, out)

    def close(self) -> list[StreamEvent]:
        """Signal EOF. An unfinished event is reported as ``IncompleteEvent``, never delivered."""
        if self._error:
            raise StreamProtocolError(self._error)
        pending = self._pending + len(self._buf) + len(self._bom)
        self._buf.clear()
        self._bom = b""
        self._data = []
        self._event = b""
        self._retry = None
        self._pending = 0
        self._skip_lf = False
        self._idle = not self._at_start
        if not pending:
            return []
        return [IncompleteEvent(pending_bytes=pending, end_offset=self._offset)]

    def _strip_bom(self, data: bytes) -> tuple[bytes, int]:
        # Only the first bytes of the stream can be a BOM, so the base offset here is 0
        # (or 3 once a BOM is skipped); a BOM split across reads is held until decided.
        if self._bom:
            data = self._bom + data
            self._bom = b""
        if len(data) < len(_BOM) and _BOM.startswith(data):
            self._bom = data
            return b"", 0
        self._at_start = False
        if data.startswith(_BOM):
            return data[len(_BOM) :], len(_BOM)
        return data, 0

    def _finish_line(self, data: bytes, pos: int, base: int, out: list[StreamEvent]) -> int:
        """Complete the held line with ``data[pos:]``; return where the next line starts."""
        # Two memchr scans beat one regex search, which steps through the line per byte.
        end = data.find(b"\n", pos)
        cr = data.find(b"\r", pos, len(data) if end < 0 else end)
        if cr >= 0:
            end = cr
        elif end < 0:
            self._hold(data, pos, base)
            return len(data)
        self._check_line(len(self._buf) + end - pos, base + pos - len(self._buf))
        self._buf += data[pos:end]
        line = bytes(self._buf)
        self._buf.clear()
        next_line = end + 1
        if cr >= 0:
            if next_line == len(data):
                self._skip_lf = True
                self._cr_field = line[:1] not in (b"", b":")
            elif data[next_line] == _LF:
                next_line += 1
        self._line(line, base + end + 1, next_line - end, out)
        return next_line

    def _general(self, data: bytes, base: int, out: list[StreamEvent]) -> None:
        """Any line ends, with cap checks; ``data`` starts at a line start."""
        pos = 0
        line = b""
        for match in _LINE_END.finditer(data):
            end = match.start()
            line = data[pos:end]
            self._check_line(len(line), base + pos)
            self._line(line, base + end + 1, match.end() - end, out)
            pos = match.end()
        if pos == len(data) and data[-1] == _CR:
            self._skip_lf = True
            self._cr_field = line[:1] not in (b"", b":")
        self._hold(data, pos, base)

    def _hold(self, data: bytes, pos: int, base: int) -> None:
        """Keep ``data[pos:]`` as the unfinished line, after checking it fits the caps."""
        size = len(self._buf) + len(data) - pos
        if not size:
            return
        self._check_line(size, base + pos - len(self._buf))
        first = self._buf[0] if self._buf else data[pos]
        if first != _COLON:  # a held comment line is delivered on its own, not part of the event
            if not self._pending:
                self._block_start = base + pos - len(self._buf)
            self._check_event(self._pending + size, base + len(data))
        self._buf += data[pos:]

    def _check_line(self, size: int, start: int) -> None:
        if size > self._max_line:
            self._fail(
                f"SSE line longer than max_line_bytes={self._max_line}: the line starting at "
                f"byte {start} passed the cap at byte {start + self._max_line + 1} without a "
                "line end; the body is not SSE, or raise max_line_bytes"
            )

    def _check_event(self, size: int, at: int) -> None:
        if size > self._max_event:
            self._fail(
                f"SSE event larger than max_event_bytes={self._max_event}: the event starting "
                f"at byte {self._block_start} held {size} bytes by byte {at} without a blank "
                "line; the body is not SSE, or raise max_event_bytes"
            )

    def _fail(self, message: str) -> NoReturn:
        self._error = message
        self._idle = False
        self._buf.clear()  # nothing held is ever delivered now; free it
        raise StreamProtocolError(message)

    def _line(self, line: bytes, end: int, term: int, out: list[StreamEvent]) -> None:
        """Interpret one complete line; ``end`` is just past its first terminator byte."""
        if not line:
            self._dispatch(end, out)
            return
        if line[0] == _COLON:
            text = line[2:] if line[1:2] == b" " else line[1:]
            out.append(SSEComment(text.decode("utf-8", "replace"), end))
            return
        if not self._pending:
            self._block_start = end - 1 - len(line)
        self._pending += len(line) + term
        if self._pending > self._max_event:
            self._check_event(self._pending, end)
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value
        elif name == b"id":
            # The spec ignores an id with NUL: it could not be sent back in Last-Event-ID.
            if b"\x00" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            # bytes.isdigit is ASCII-only, matching the spec's "ASCII digits".
            self._retry = int(value)

    def _dispatch(self, end: int, out: list[StreamEvent]) -> None:
        if self._data:
            out.append(
                _message(
                    b"\n".join(self._data).decode("utf-8", "replace"),
                    self._event.decode("utf-8", "replace") if self._event else "message",
                    self._last_id,
                    self._retry,
                    end,
                )
            )
            self._data = []
        self._event = b""
        self._retry = None
        self._pending = 0
