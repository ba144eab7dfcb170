"""How the mock answers one request on a connection: timed, stamped writes and faults.

Responses are written by hand (``framing``, ``responses``) so faults are possible, one
``transport.write`` per event, each stamped with ``time.monotonic_ns()`` immediately before its
write. Deadlines are absolute (headers-sent time + the step's offset), so jitter and timer
slack never accumulate.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import TYPE_CHECKING

from tokenpath.mock.endpoints import Generation, Reply, Request, route
from tokenpath.mock.framing import (
    BodyFraming,
    Endpoint,
    EventRenderer,
    StreamContext,
    content_length,
    resolve_framing,
)
from tokenpath.mock.responses import complete_body, error_body, response_head, stream_head
from tokenpath.mock.scenarios import Scenario
from tokenpath.mock.schedule import (
    TERMINAL_FAULTS,
    Step,
    StepKind,
    iter_schedule,
    without_faults,
)
from tokenpath.mock.wire import Wire

if TYPE_CHECKING:
    from tokenpath.mock.connection import Connection

EARLY_OK = 0.0005  # seconds a step may go out before its deadline (uvloop timers are in ms)
YIELD_EVERY = 16  # steps written back to back before giving other streams a turn
_ID_PREFIX = {Endpoint.CHAT: "chatcmpl-", Endpoint.COMPLETIONS: "cmpl-"}


def http_date() -> str:
    return formatdate(usegmt=True)


async def sleep_until(deadline: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``deadline`` (within ``EARLY_OK``)."""
    while True:
        delay = deadline - time.monotonic()
        if delay <= EARLY_OK:
            return
        await asyncio.sleep(delay)


async def respond(conn: Connection, request: Request, defaults: Scenario, received: float) -> bool:
    """Answer one request. Returns True when the connection must close afterwards."""
    client_close = request.http_version == "1.0" or "close" in (
        (request.header("connection") or "").lower()
    )
    plan = route(request, defaults, created=int(time.time()))
    if isinstance(plan, Generation):
        if plan.stream:
            return await _stream(conn, plan, request, received, client_close)
        return await _complete(conn, plan, received, client_close)
    await sleep_until(received + plan.delay)
    _send_reply(conn, plan, client_close, head_only=request.method == "HEAD")
    return client_close


def _send_reply(conn: Connection, reply: Reply, close: bool, *, head_only: bool = False) -> None:
    head = response_head(
        reply.status,
        length=len(reply.body),
        content_type=reply.content_type,
        close=close,
        date=http_date(),
    )
    conn.write(head if head_only else head + reply.body)


def _context(plan: Generation, *, chunked: bool) -> StreamContext:
    scenario = plan.scenario
    wall_ns = time.time_ns()
    limited = plan.max_tokens is not None and plan.max_tokens <= scenario.tokens
    return StreamContext(
        endpoint=plan.endpoint,
        request_id=_ID_PREFIX.get(plan.endpoint, "req-") + os.urandom(12).hex(),
        created=wall_ns // 1_000_000_000,
        model=plan.model,
        seed=scenario.seed,
        prompt_tokens=plan.prompt_tokens,
        eol=scenario.eol,
        chunked=chunked,
        pad=scenario.pad,
        finish_reason="length" if limited else "stop",
        wall_ns=wall_ns + round(scenario.headers * 1e9),
    )


def _schedule(plan: Generation, scenario: Scenario) -> Iterator[Step]:
    return iter_schedule(
        scenario,
        max_tokens=plan.max_tokens,
        role=plan.endpoint is Endpoint.CHAT,
        usage=plan.usage,
        terminator=plan.endpoint is not Endpoint.TGI,
        heartbeats=plan.endpoint.sse,
    )


async def _stream(
    conn: Connection, plan: Generation, request: Request, received: float, client_close: bool
) -> bool:
    scenario = plan.scenario
    framing = resolve_framing(scenario.framing, request.http_version)
    ctx = _context(plan, chunked=framing is BodyFraming.CHUNKED)
    renderer = EventRenderer(ctx)
    length = None
    if framing is BodyFraming.LENGTH:
        length = content_length(renderer, _schedule(plan, without_faults(scenario)))
    close = client_close or framing is BodyFraming.CLOSE or scenario.has_fault
    head = stream_head(
        content_type=scenario.ctype or plan.endpoint.content_type,
        framing=framing,
        length=length,
        accel=scenario.accel,
        close=close,
        date=http_date(),
        request_id=ctx.request_id,
    )
    await sleep_until(received + scenario.headers)
    conn.write(head)
    base = time.monotonic()
    body_end = renderer.body_end()
    burst = 0
    for step in _schedule(plan, scenario):
        wire = renderer.render(step)
        if step.end:
            wire = Wire(wire.head, wire.tail + body_end, wire.stamped)
        deadline = base + step.at_ns * 1e-9
        if deadline - time.monotonic() > EARLY_OK:
            burst = 0
            await sleep_until(deadline)
        else:
            burst += 1
            if burst % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        if conn.paused:
            await conn.drain()
        transport = conn.transport
        assert transport is not None
        if conn.lost or transport.is_closing():
            return True
        if step.kind in TERMINAL_FAULTS:
            conn.fault(step.kind, wire.head)
            return True
        # ``wire.at`` inlined: this runs once per event.
        if wire.stamped:
            transport.write(wire.head + b"%20d" % time.monotonic_ns() + wire.tail)
        elif wire.head or wire.tail:
            transport.write(wire.head + wire.tail)
    return close


async def _complete(
    conn: Connection, plan: Generation, received: float, client_close: bool
) -> bool:
    """A non-streamed generation: one response when the stream would have ended."""
    last: Step | None = None
    for last in _schedule(plan, plan.scenario):  # noqa: B007  # only the last matters
        pass
    end_ns = last.at_ns if last is not None else 0
    ctx = _context(plan, chunked=False)
    await sleep_until(received + plan.scenario.headers + end_ns * 1e-9)
    if last is not None and last.kind in TERMINAL_FAULTS:
        conn.fault(last.kind, b"")
        return True
    if last is not None and last.kind is StepKind.ERROR:
        message = f"tokenpath mock: injected error after {last.count} tokens"
        _send_reply(conn, Reply(500, error_body(500, message)), client_close)
        return client_close
    wire = complete_body(ctx, last.count if last is not None else 0, end_ns)
    head = response_head(200, length=wire.size, close=client_close, date=http_date())
    conn.write(head + wire.at(time.monotonic_ns()))
    return client_close
