"""Events produced by the stream parsers.

Every event records ``end_offset``: the byte offset (in the decoded body, counted from 0) just
past the last byte that completed it, so a caller that knows when each byte arrived can stamp
the event with the arrival time of the read that completed it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SSEMessage:
    """A dispatched SSE event (a block ended by a blank line with at least one data line)."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None
    end_offset: int = 0


@dataclass(frozen=True, slots=True)
class SSEComment:
    """An SSE comment line (``: text``). Kept as an event: heartbeats are a signal."""

    text: str
    end_offset: int = 0


@dataclass(frozen=True, slots=True)
class NDJSONLine:
    """One non-empty line of an NDJSON body (Ollama). The text is not parsed here."""

    text: str
    end_offset: int = 0


@dataclass(frozen=True, slots=True)
class RawChunk:
    """Body bytes as they came, for the ``raw`` dialect (no framing assumed)."""

    size: int
    end_offset: int = 0


@dataclass(frozen=True, slots=True)
class IncompleteEvent:
    """Bytes of an unfinished event left at EOF. Reported, never delivered as an event."""

    pending_bytes: int
    end_offset: int = 0


StreamEvent = SSEMessage | SSEComment | NDJSONLine | RawChunk | IncompleteEvent
