"""Pure rendering of whole HTTP responses: status lines and headers, error and model-list
bodies, and the body of a non-streamed generation.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

from tokenpath import __version__
from tokenpath.mock.framing import (
    FINGERPRINT,
    BodyFraming,
    Endpoint,
    StreamContext,
    compact_json,
    created_at,
)
from tokenpath.mock.scenarios import Accel
from tokenpath.mock.text import generate_text
from tokenpath.mock.wire import STAMP_KEY, Wire

SERVER = f"tokenpath-mock/{__version__}"


def render_head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    """A status line and header block. Names and values must already be valid."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def stream_head(
    *,
    content_type: str,
    framing: BodyFraming,
    length: int | None,
    accel: Accel,
    close: bool,
    date: str,
    request_id: str,
) -> bytes:
    """The headers of a streamed 200 response."""
    headers = [("content-type", content_type), ("cache-control", "no-cache")]
    if accel is not Accel.NONE:
        headers.append(("x-accel-buffering", accel.value))
    if framing is BodyFraming.CHUNKED:
        headers.append(("transfer-encoding", "chunked"))
    elif framing is BodyFraming.LENGTH:
        headers.append(("content-length", str(length or 0)))
    if close:
        headers.append(("connection", "close"))
    headers += [("date", date), ("server", SERVER), ("x-request-id", request_id)]
    return render_head(200, headers)


def response_head(
    status: int,
    *,
    length: int,
    content_type: str = "application/json",
    close: bool = False,
    date: str,
) -> bytes:
    """The headers of a complete response of ``length`` body bytes."""
    headers = [
        ("content-type", content_type),
        ("content-length", str(length)),
        ("date", date),
        ("server", SERVER),
    ]
    if close:
        headers.append(("connection", "close"))
    return render_head(status, headers)


def error_body(status: int, message: str) -> bytes:
    """An OpenAI-style JSON error object."""
    kind = {
        400: "invalid_request_error",
        404: "not_found_error",
        405: "invalid_request_error",
        413: "invalid_request_error",
        429: "rate_limit_error",
    }.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return compact_json({"error": {"message": message, "type": kind, "code": status}})


def models_body(model: str, created: int) -> bytes:
    entry = {"id": model, "object": "model", "created": created, "owned_by": "tokenpath"}
    return compact_json({"object": "list", "data": [entry]})


def stampedcompact_json(payload: dict[str, object]) -> Wire:
    """``payload`` as JSON with the stamp field last (bodies of non-streamed responses)."""
    text = compact_json(payload)
    return Wire(text[:-1] + STAMP_KEY, b"}", stamped=True)


def complete_body(ctx: StreamContext, count: int, duration_ns: int) -> Wire:
    """The body of a non-streamed generation of ``count`` tokens."""
    text = generate_text(ctx.seed, count)
    usage = {
        "prompt_tokens": ctx.prompt_tokens,
        "completion_tokens": count,
        "total_tokens": ctx.prompt_tokens + count,
    }
    ep = ctx.endpoint
    payload: dict[str, object]
    if ep.openai:
        choice: dict[str, object] = {"index": 0}
        if ep is Endpoint.CHAT:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        choice.update(logprobs=None, finish_reason=ctx.finish_reason)
        payload = {
            "id": ctx.request_id,
            "object": "chat.completion" if ep is Endpoint.CHAT else "text_completion",
            "created": ctx.created,
            "model": ctx.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [choice],
            "usage": usage,
        }
    else:
        payload = {"model": ctx.model, "created_at": created_at(ctx.wall_ns + duration_ns)}
        if ep is Endpoint.OLLAMA_CHAT:
            payload["message"] = {"role": "assistant", "content": text}
        else:
            payload["response"] = text
        payload.update(
            done=True,
            done_reason=ctx.finish_reason,
            total_duration=duration_ns,
            load_duration=0,
            prompt_eval_count=ctx.prompt_tokens,
            prompt_eval_duration=0,
            eval_count=count,
            eval_duration=duration_ns,
        )
    return stampedcompact_json(payload)
