"""What an event means in each streaming API dialect.

A dialect decides which events carry content (role-only, empty and usage-only chunks never
count), what ends the stream, and where the server's token counts are. Pure functions over
parsed events; no I/O.

The tokenpath mock adds its monotonic send time to every JSON payload as the top-level field
``tokenpath_send_ns`` (an integer, nanoseconds) and to heartbeat comments as
``tokenpath send_ns=<int>``; both are read here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tokenpath.stream.events import NDJSONLine, RawChunk, SSEComment, SSEMessage, StreamEvent

SEND_STAMP_FIELD = "tokenpath_send_ns"
_COMMENT_STAMP = re.compile(r"\btokenpath send_ns=\s*(\d+)")


class Dialect(StrEnum):
    AUTO = "auto"
    OPENAI_CHAT = "openai-chat"
    OPENAI_COMPLETIONS = "openai-completions"
    TGI = "tgi"
    OLLAMA = "ollama"
    RAW = "raw"


class Kind(StrEnum):
    CONTENT = "content"  # carries generated text, reasoning or tool-call arguments
    EMPTY = "empty"  # a well-formed chunk with nothing generated (role-only, empty delta)
    USAGE = "usage"  # usage-only chunk
    DONE = "done"  # terminator without content (``[DONE]``)
    ERROR = "error"  # an error object sent inside the stream
    COMMENT = "comment"  # SSE comment (heartbeat)
    INVALID = "invalid"  # not parseable as the dialect's payload
    RAW = "raw"  # raw dialect: every chunk counts as content


@dataclass(frozen=True, slots=True)
class Interpretation:
    kind: Kind
    text: str = ""
    # This event ends the stream (TGI and Ollama final events may also carry content).
    done: bool = False
    completion_tokens: int | None = None  # the server's own count, when the event has one
    send_ns: int | None = None  # tokenpath mock send stamp
    error: str = ""

    @property
    def is_content(self) -> bool:
        return self.kind in (Kind.CONTENT, Kind.RAW)


def detect_dialect(path: str, content_type: str) -> Dialect:
    """Guess the dialect from the request path and the response content type."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    if "ndjson" in ctype:
        return Dialect.OLLAMA
    # OpenAI-style paths win over the "/api/" prefix: OpenRouter (/api/v1/chat/completions)
    # and Open WebUI (/api/chat/completions) serve SSE under it, not Ollama's NDJSON.
    if path.endswith("/chat/completions"):
        return Dialect.OPENAI_CHAT
    if path.endswith("/completions"):
        return Dialect.OPENAI_COMPLETIONS
    if path.endswith("/generate_stream"):
        return Dialect.TGI
    if ctype == "text/event-stream":
        return Dialect.OPENAI_CHAT
    if path.startswith("/api/"):
        return Dialect.OLLAMA
    return Dialect.RAW


def interpret(dialect: Dialect, event: StreamEvent) -> Interpretation:
    """Interpret one parsed event under ``dialect``."""
    if isinstance(event, SSEComment):
        return Interpretation(Kind.COMMENT, send_ns=_comment_stamp(event.text))
    if isinstance(event, RawChunk):
        return Interpretation(Kind.RAW)
    if not isinstance(event, SSEMessage | NDJSONLine):
        return Interpretation(Kind.INVALID, error="incomplete event")
    text = event.data if isinstance(event, SSEMessage) else event.text
    if dialect is Dialect.RAW:
        return Interpretation(Kind.RAW)
    if text.strip() == "[DONE]":
        return Interpretation(Kind.DONE, done=True)
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):  # deeply nested arrays exhaust the C scanner's stack
        return Interpretation(Kind.INVALID, error="payload is not valid JSON")
    if not isinstance(payload, dict):
        return Interpretation(Kind.INVALID, error="payload is not a JSON object")
    send_ns = _int_or_none(payload.get(SEND_STAMP_FIELD))
    # "error": null carries no error; only a value does.
    if payload.get("error") is not None:
        return Interpretation(Kind.ERROR, send_ns=send_ns, error=_error_text(payload["error"]))
    match dialect:
        case Dialect.OPENAI_CHAT | Dialect.OPENAI_COMPLETIONS | Dialect.AUTO:
            return _openai(payload, send_ns)
        case Dialect.TGI:
            return _tgi(payload, send_ns)
        case Dialect.OLLAMA:
            return _ollama(payload, send_ns)


def _openai(payload: dict[str, Any], send_ns: int | None) -> Interpretation:
    parts: list[str] = []
    choices = payload.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        if not isinstance(choice, dict):
            continue
        parts.append(_str(choice.get("text")))
        delta = choice.get("delta")
        if isinstance(delta, dict):
            parts.append(_str(delta.get("content")))
            parts.append(_str(delta.get("reasoning_content")))
            parts.append(_str(delta.get("reasoning")))
            calls = delta.get("tool_calls")
            for call in calls if isinstance(calls, list) else ():
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    parts.append(_str(function.get("arguments")))
    text = "".join(parts)
    usage = payload.get("usage")
    tokens = _int_or_none(usage.get("completion_tokens")) if isinstance(usage, dict) else None
    if text:
        return Interpretation(Kind.CONTENT, text=text, completion_tokens=tokens, send_ns=send_ns)
    if tokens is not None and not choices:
        return Interpretation(Kind.USAGE, completion_tokens=tokens, send_ns=send_ns)
    return Interpretation(Kind.EMPTY, completion_tokens=tokens, send_ns=send_ns)


def _tgi(payload: dict[str, Any], send_ns: int | None) -> Interpretation:
    token = payload.get("token")
    text = ""
    if isinstance(token, dict) and not token.get("special", False):
        text = _str(token.get("text"))
    done = payload.get("generated_text") is not None
    details = payload.get("details")
    tokens = _int_or_none(details.get("generated_tokens")) if isinstance(details, dict) else None
    kind = Kind.CONTENT if text else (Kind.DONE if done else Kind.EMPTY)
    return Interpretation(kind, text=text, done=done, completion_tokens=tokens, send_ns=send_ns)


def _ollama(payload: dict[str, Any], send_ns: int | None) -> Interpretation:
    message = payload.get("message")
    text = _str(payload.get("response"))
    if isinstance(message, dict):
        text += _str(message.get("content")) + _str(message.get("thinking"))
    done = payload.get("done") is True
    tokens = _int_or_none(payload.get("eval_count")) if done else None
    kind = Kind.CONTENT if text else (Kind.DONE if done else Kind.EMPTY)
    return Interpretation(kind, text=text, done=done, completion_tokens=tokens, send_ns=send_ns)


def _comment_stamp(text: str) -> int | None:
    match = _COMMENT_STAMP.search(text)
    return int(match.group(1)) if match else None


def _error_text(error: object) -> str:
    if isinstance(error, dict):
        return _str(error.get("message")) or json.dumps(error)[:200]
    return str(error)[:200]


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
