"""Parser for the ``raw`` dialect: no framing is assumed, so every read is one event.

Used for bodies that are not a known stream format (an error page, an unknown API): the
probe still sees when bytes arrived and how many, which is all a buffering diagnosis needs.
"""

from __future__ import annotations

from tokenpath.stream.events import RawChunk, StreamEvent

__all__ = ["RawParser"]


class RawParser:
    """Each non-empty ``feed`` yields one ``RawChunk``; nothing is ever left over at EOF."""

    __slots__ = ("_offset",)

    def __init__(self) -> None:
        self._offset = 0

    def feed(self, data: bytes) -> list[StreamEvent]:
        if not data:
            return []
        self._offset += len(data)
        return [RawChunk(size=len(data), end_offset=self._offset)]

    def close(self) -> list[StreamEvent]:
        return []
