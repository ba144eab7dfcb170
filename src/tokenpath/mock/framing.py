"""Pure rendering of streamed mock events to bytes: payloads per dialect, SSE line endings,
HTTP chunk framing and Content-Length.

Each event renders to a ``Wire`` (see ``wire``): its bytes with a hole for the send stamp,
which the server fills in right before the write.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tokenpath.mock.scenarios import Eol, Framing
from tokenpath.mock.schedule import Step, StepKind
from tokenpath.mock.text import WORDS, generate_text, token_index
from tokenpath.mock.wire import EMPTY, STAMP_KEY, STAMP_WIDTH, Wire

PAD_FIELD = b',"tokenpath_pad":"'
BAD_UTF8 = b"\xff"  # never valid anywhere in UTF-8
CHUNKED_END = b"0\r\n\r\n"
DEFAULT_MODEL = "tokenpath-mock"
FINGERPRINT = "fp_tokenpath"


class Endpoint(StrEnum):
    CHAT = "chat"  # POST /v1/chat/completions
    COMPLETIONS = "completions"  # POST /v1/completions
    TGI = "tgi"  # POST /generate_stream
    OLLAMA_CHAT = "ollama-chat"  # POST /api/chat
    OLLAMA_GENERATE = "ollama-generate"  # POST /api/generate

    @property
    def sse(self) -> bool:
        return self not in (Endpoint.OLLAMA_CHAT, Endpoint.OLLAMA_GENERATE)

    @property
    def openai(self) -> bool:
        return self in (Endpoint.CHAT, Endpoint.COMPLETIONS)

    @property
    def content_type(self) -> str:
        if not self.sse:
            return "application/x-ndjson"
        return "text/event-stream; charset=utf-8" if self.openai else "text/event-stream"


class BodyFraming(StrEnum):
    """The framing actually used, once ``auto`` is resolved."""

    CHUNKED = "chunked"
    LENGTH = "length"
    CLOSE = "close"


def resolve_framing(framing: Framing, http_version: str) -> BodyFraming:
    """``auto`` is chunked for HTTP/1.1 requests and close-delimited for HTTP/1.0 ones, as
    uvicorn does; nginx talks HTTP/1.0 to upstreams unless ``proxy_http_version 1.1``."""
    if framing is Framing.AUTO:
        return BodyFraming.CHUNKED if http_version != "1.0" else BodyFraming.CLOSE
    return BodyFraming(framing.value)


@dataclass(frozen=True, slots=True)
class StreamContext:
    """What a rendered event depends on besides its step."""

    endpoint: Endpoint
    request_id: str
    created: int  # unix seconds, for ``created``
    model: str = DEFAULT_MODEL
    seed: int = 0
    prompt_tokens: int = 1
    eol: Eol = Eol.LF
    chunked: bool = True
    pad: int = 0
    finish_reason: str = "stop"
    wall_ns: int = 0  # wall clock when the headers were sent; Ollama's created_at adds at_ns


def compact_json(value: object) -> bytes:
    """``value`` as compact UTF-8 JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _inner(text: str) -> bytes:
    """``text`` as the inside of a JSON string."""
    return compact_json(text)[1:-1]


_WORD_INNER = {
    text: _inner(text) for word in WORDS for text in (word, " " + word)
}  # the texts a token can have, JSON-escaped once


def _tokens_inner(tokens: Sequence[str]) -> bytes:
    get = _WORD_INNER.get
    return b"".join(get(text) or _inner(text) for text in tokens)


def created_at(wall_ns: int) -> str:
    """Ollama's RFC 3339 timestamp with nanoseconds, fixed width."""
    seconds, nanos = divmod(wall_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"


class EventRenderer:
    """Renders schedule steps to ``Wire`` for one response. Pure: the same context and step
    always give the same bytes. JSON templates are rendered once per response, so an event
    costs a few byte concatenations rather than a ``json.dumps``."""

    __slots__ = ("_after", "_after_last", "_before", "_chat_head", "_eol2", "_prefix", "ctx")

    def __init__(self, ctx: StreamContext) -> None:
        self.ctx = ctx
        ep = ctx.endpoint
        self._prefix = b"data:" if ep is Endpoint.TGI else b"data: " if ep.sse else b""
        self._eol2 = ctx.eol.bytes * 2 if ep.sse else b"\n"
        self._chat_head = (
            b'{"id":%s,"object":%s,"created":%d,"model":%s,"system_fingerprint":%s'
            % (
                compact_json(ctx.request_id),
                b'"chat.completion.chunk"' if ep is Endpoint.CHAT else b'"text_completion"',
                ctx.created,
                compact_json(ctx.model),
                compact_json(FINGERPRINT),
            )
        )
        finish = compact_json(ctx.finish_reason)
        if ep is Endpoint.CHAT:
            self._before = self._chat_head + b',"choices":[{"index":0,"delta":{"content":"'
            self._after = b'"},"logprobs":null,"finish_reason":null}]'
            self._after_last = b'"},"logprobs":null,"finish_reason":%s}]' % finish
        elif ep is Endpoint.COMPLETIONS:
            self._before = self._chat_head + b',"choices":[{"index":0,"text":"'
            self._after = b'","logprobs":null,"finish_reason":null}]'
            self._after_last = b'","logprobs":null,"finish_reason":%s}]' % finish
        elif ep is Endpoint.OLLAMA_CHAT:
            self._before = b'"message":{"role":"assistant","content":"'
            self._after = self._after_last = b'"},"done":false'
        elif ep is Endpoint.OLLAMA_GENERATE:
            self._before = b'"response":"'
            self._after = self._after_last = b'","done":false'
        else:
            self._before = self._after = self._after_last = b""

    # -- one event -------------------------------------------------------------------

    def render(self, step: Step) -> Wire:
        kind = step.kind
        if kind is StepKind.CONTENT:
            return self._content(step)
        if kind is StepKind.HEARTBEAT:
            if not self.ctx.endpoint.sse:
                return EMPTY
            return self._frame(b": tokenpath send_ns=", self._eol2, stamped=True)
        if kind is StepKind.ROLE:
            return self._payload(
                self._chat_head
                + b',"choices":[{"index":0,"delta":{"role":"assistant","content":""},'
                b'"logprobs":null,"finish_reason":null}]'
            )
        if kind is StepKind.USAGE:
            if not self.ctx.endpoint.openai:
                return EMPTY
            return self._payload(self._chat_head + b',"choices":[],"usage":' + self._usage(step))
        if kind is StepKind.ERROR:
            error = {
                "message": f"tokenpath mock: injected error after {step.count} tokens",
                "type": "server_error",
            }
            return self._payload(b'{"error":' + compact_json(error))
        if kind is StepKind.DONE:
            return self._done(step)
        if kind is StepKind.TRUNCATE:
            return self._truncate(step)
        return EMPTY  # FIN, RST: nothing is written

    def body_end(self) -> bytes:
        """What ends the body after the last step: the last chunk when chunked."""
        return CHUNKED_END if self.ctx.chunked else b""

    # -- helpers -----------------------------------------------------------------------

    def _frame(self, body_head: bytes, body_tail: bytes, *, stamped: bool) -> Wire:
        """Wrap an event body (``body_head`` + stamp + ``body_tail``) in chunk framing."""
        if not self.ctx.chunked:
            return Wire(body_head, body_tail, stamped)
        size = len(body_head) + len(body_tail) + (STAMP_WIDTH if stamped else 0)
        return Wire(b"%x\r\n" % size + body_head, body_tail + b"\r\n", stamped)

    def _payload(self, json_open: bytes) -> Wire:
        """A stamped JSON event: ``json_open`` is the object without its closing brace."""
        return self._frame(self._prefix + json_open + STAMP_KEY, b"}" + self._eol2, stamped=True)

    def _ollama_head(self, at_ns: int) -> bytes:
        stamp = created_at(self.ctx.wall_ns + at_ns)
        return b'{"model":%s,"created_at":"%s",' % (compact_json(self.ctx.model), stamp.encode())

    def _usage(self, step: Step) -> bytes:
        prompt = self.ctx.prompt_tokens
        return b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}' % (
            prompt,
            step.count,
            prompt + step.count,
        )

    def _content_json(self, step: Step) -> bytes:
        """The content event's JSON without the stamp field and the closing brace."""
        inner = _tokens_inner(step.tokens)
        if step.bad_utf8:
            inner += BAD_UTF8
        ep = self.ctx.endpoint
        if ep is Endpoint.TGI:
            return self._tgi_json(step, inner)
        after = self._after_last if step.last else self._after
        if ep.openai:
            return self._before + inner + after
        return self._ollama_head(step.at_ns) + self._before + inner + after

    def _tgi_json(self, step: Step, inner: bytes) -> bytes:
        first = step.count - len(step.tokens)
        word = token_index(self.ctx.seed, first)
        token = b'{"token":{"id":%d,"text":"%s","logprob":-%d.%02d,"special":false}' % (
            100 + word,
            inner,
            word // 40,
            5 + word % 40 * 2,
        )
        if not step.last:
            return token + b',"generated_text":null,"details":null'
        return token + self._tgi_final(step.count)

    def _tgi_final(self, count: int) -> bytes:
        text = generate_text(self.ctx.seed, count)
        details = {"finish_reason": "length", "generated_tokens": count, "seed": None}
        return b',"generated_text":' + compact_json(text) + b',"details":' + compact_json(details)

    def _content(self, step: Step) -> Wire:
        body_head = self._prefix + self._content_json(step)
        closing = b"" if step.bad_json else b"}"
        pad = self.ctx.pad
        if pad:
            bare = len(body_head) + len(STAMP_KEY) + STAMP_WIDTH + len(closing) + len(self._eol2)
            if bare < pad:
                filler = max(0, pad - bare - len(PAD_FIELD) - 1)
                body_head += PAD_FIELD + b"x" * filler + b'"'
        return self._frame(body_head + STAMP_KEY, closing + self._eol2, stamped=True)

    def _done(self, step: Step) -> Wire:
        ep = self.ctx.endpoint
        if ep.openai:
            return self._frame(b"data: [DONE]" + self._eol2, b"", stamped=False)
        if ep is Endpoint.TGI:
            token = b'{"token":{"id":0,"text":"","logprob":0.0,"special":true}'
            return self._payload(token + self._tgi_final(step.count))
        finish = compact_json(self.ctx.finish_reason)
        if ep is Endpoint.OLLAMA_CHAT:
            body = b'"message":{"role":"assistant","content":""},"done_reason":%s,"done":true' % (
                finish
            )
        else:
            body = b'"response":"","done":true,"done_reason":%s' % finish
        stats = (
            b',"total_duration":%d,"load_duration":0,"prompt_eval_count":%d,'
            b'"prompt_eval_duration":0,"eval_count":%d,"eval_duration":%d'
            % (step.at_ns, self.ctx.prompt_tokens, step.count, step.at_ns)
        )
        return self._payload(self._ollama_head(step.at_ns) + body + stats)

    def _truncate(self, step: Step) -> Wire:
        """A chunk header for the whole event that would come next, then half of its bytes."""
        if not self.ctx.chunked:
            return EMPTY  # without chunked framing a truncated chunk is just a close
        if step.tokens:
            content = Step(step.at_ns, StepKind.CONTENT, step.tokens, step.count, step.event)
            body = EventRenderer(_unchunked(self.ctx))._content(content).at(0)
        else:
            body = EventRenderer(_unchunked(self.ctx))._done(step).at(0)
        return Wire(b"%x\r\n" % len(body) + body[: len(body) // 2])


def _unchunked(ctx: StreamContext) -> StreamContext:
    return dataclasses.replace(ctx, chunked=False)


def content_length(renderer: EventRenderer, steps: Iterable[Step]) -> int:
    """The body size of ``steps`` rendered without chunk framing, body end included."""
    return sum(renderer.render(step).size for step in steps) + len(renderer.body_end())
