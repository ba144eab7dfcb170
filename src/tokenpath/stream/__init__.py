"""Sans-IO stream model: bytes in, events out. No sockets, no clocks."""

from __future__ import annotations

from typing import Protocol, assert_never

from tokenpath.stream.dialects import (
    Dialect,
    Interpretation,
    Kind,
    detect_dialect,
    interpret,
)
from tokenpath.stream.events import (
    IncompleteEvent,
    NDJSONLine,
    RawChunk,
    SSEComment,
    SSEMessage,
    StreamEvent,
)
from tokenpath.stream.ndjson import NDJSONParser
from tokenpath.stream.raw import RawParser
from tokenpath.stream.sse import DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_LINE_BYTES, SSEParser

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "Dialect",
    "IncompleteEvent",
    "Interpretation",
    "Kind",
    "NDJSONLine",
    "NDJSONParser",
    "Parser",
    "RawChunk",
    "RawParser",
    "SSEComment",
    "SSEMessage",
    "SSEParser",
    "StreamEvent",
    "detect_dialect",
    "interpret",
    "parser_for",
]


class Parser(Protocol):
    """A stream parser: ``feed`` bytes as they arrive, ``close`` once at EOF.

    Both return the events completed so far; both raise ``StreamProtocolError`` when the
    stream breaks its format's rules or a size cap.
    """

    def feed(self, data: bytes) -> list[StreamEvent]: ...

    def close(self) -> list[StreamEvent]: ...


def parser_for(
    dialect: Dialect,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> Parser:
    """The parser for a dialect's framing: NDJSON for Ollama, none for raw, SSE otherwise."""
    match dialect:
        case Dialect.OLLAMA:
            # An NDJSON event is one line, so both caps bound it.
            return NDJSONParser(max_line_bytes=min(max_line_bytes, max_event_bytes))
        case Dialect.RAW:
            return RawParser()
        case Dialect.AUTO | Dialect.OPENAI_CHAT | Dialect.OPENAI_COMPLETIONS | Dialect.TGI:
            return SSEParser(max_line_bytes=max_line_bytes, max_event_bytes=max_event_bytes)
        case _:
            assert_never(dialect)
