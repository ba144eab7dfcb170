"""The fixed-width send stamp, and ``Wire``: the bytes of one write with a hole for the stamp.

Every JSON payload the mock streams ends with ``"tokenpath_send_ns":`` and the sender's
``time.monotonic_ns()`` right-aligned in 20 characters (JSON allows the spaces), so an event's
size never depends on its stamp: a Content-Length or a chunk size is known before the stamp is.
A rendered event is a ``Wire``: ``head + stamp + tail``, the stamp filled in by the server
immediately before the one write of that event.

Heartbeats are SSE comments ``: tokenpath send_ns=<20 chars>``; ``data: [DONE]`` has no stamp.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.stream.dialects import SEND_STAMP_FIELD

STAMP_WIDTH = 20
STAMP_KEY = b',"' + SEND_STAMP_FIELD.encode() + b'":'


def format_stamp(send_ns: int) -> bytes:
    """The fixed-width stamp: ``send_ns`` right-aligned in ``STAMP_WIDTH`` characters."""
    return b"%20d" % send_ns


@dataclass(frozen=True, slots=True)
class Wire:
    """The bytes of one write: ``head``, then the stamp when ``stamped``, then ``tail``."""

    head: bytes
    tail: bytes = b""
    stamped: bool = False

    def at(self, send_ns: int) -> bytes:
        if self.stamped:
            return self.head + format_stamp(send_ns) + self.tail
        return self.head + self.tail

    @property
    def size(self) -> int:
        return len(self.head) + len(self.tail) + (STAMP_WIDTH if self.stamped else 0)


EMPTY = Wire(b"")
