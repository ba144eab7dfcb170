"""The pure schedule of one streamed response: which writes happen, and when.

``iter_schedule`` turns a scenario into steps with offsets in nanoseconds from the moment the
response headers were sent. It never sleeps and never reads a clock: the server sleeps until
each step's absolute deadline, so jitter never accumulates.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from tokenpath.mock.scenarios import Scenario
from tokenpath.mock.text import token_text

NS_PER_S = 1_000_000_000


class StepKind(StrEnum):
    ROLE = "role"  # OpenAI chat role-only chunk, right before the first content event
    CONTENT = "content"
    HEARTBEAT = "heartbeat"  # SSE comment while silent
    USAGE = "usage"  # usage-only chunk
    ERROR = "error"  # in-stream error event; ends the body properly
    DONE = "done"  # the dialect's terminator ([DONE], Ollama's done:true line, TGI final event)
    FIN = "fin"  # close the connection cleanly, without terminator or chunked end
    RST = "rst"  # reset the connection
    TRUNCATE = "truncate"  # chunk header promising more bytes than are sent, then close


TERMINAL_FAULTS = frozenset({StepKind.FIN, StepKind.RST, StepKind.TRUNCATE})


@dataclass(frozen=True, slots=True)
class Step:
    """One write of the response body, ``at_ns`` after the headers were sent."""

    at_ns: int
    kind: StepKind
    tokens: tuple[str, ...] = ()  # CONTENT and TRUNCATE: the token texts of this event
    count: int = 0  # content tokens sent once this step is written (first token = count - len)
    event: int = 0  # CONTENT and TRUNCATE: 1-based content event number
    last: bool = False  # CONTENT: the final content event (finish_reason; TGI's final event)
    end: bool = False  # the body ends with this step (chunked end, then keep-alive or close)
    bad_utf8: bool = False
    bad_json: bool = False


def _fault(scenario: Scenario) -> tuple[StepKind, int] | None:
    """The first fault to fire: the smallest N; on a tie, rst before truncate before fin."""
    faults = [
        (after, order, kind)
        for order, (kind, after) in enumerate(
            (
                (StepKind.RST, scenario.rst),
                (StepKind.TRUNCATE, scenario.truncate),
                (StepKind.FIN, scenario.fin),
            )
        )
        if after is not None
    ]
    if not faults:
        return None
    after, _, kind = min(faults)
    return kind, after


def effective_tokens(scenario: Scenario, max_tokens: int | None) -> int:
    """Tokens the response generates: ``tokens``, bounded by the request's ``max_tokens``."""
    if max_tokens is None:
        return scenario.tokens
    return max(0, min(scenario.tokens, max_tokens))


def iter_schedule(
    scenario: Scenario,
    *,
    max_tokens: int | None = None,
    role: bool = False,
    usage: bool = False,
    terminator: bool = True,
    heartbeats: bool = True,
) -> Iterator[Step]:
    """The steps of one streamed response, lazily (a long generation needs no big tuple).

    ``role``: emit the OpenAI chat role-only chunk right before the first content event.
    ``usage``: emit a usage-only chunk before the terminator.
    ``terminator``: end with a DONE step; without it (TGI) the last content event ends the body.
    ``heartbeats``: honour ``scenario.heartbeat`` (SSE dialects only).

    A fault after N content events takes the place (and the time) of content event N+1, or of
    the end of the stream when there are at most N events.
    """
    total = effective_tokens(scenario, max_tokens)
    errors = scenario.error_after is not None
    if scenario.error_after is not None:
        total = min(total, scenario.error_after)
    per_event = scenario.per_event
    events = -(-total // per_event)
    fault = _fault(scenario)
    beat = round(scenario.heartbeat * NS_PER_S) if heartbeats and scenario.heartbeat else 0
    pauses: dict[int, int] = {}
    for pause in scenario.pause:
        pauses[pause.after] = pauses.get(pause.after, 0) + round(pause.seconds * NS_PER_S)
    interval = scenario.interval * NS_PER_S
    rng = random.Random(scenario.seed) if scenario.jitter else None
    seed = scenario.seed

    last_write = 0  # the headers count as the last write: silence starts there
    at = round(scenario.ttft * NS_PER_S) + pauses.get(0, 0)
    count = 0
    for event in range(1, events + 1):
        if event > 1:
            gap = interval if rng is None else interval * (1 + rng.uniform(-1, 1) * scenario.jitter)
            at += round(gap)
        if beat:
            while last_write + beat < at:
                last_write += beat
                yield Step(last_write, StepKind.HEARTBEAT, count=count)
        if event == 1 and role:
            yield Step(at, StepKind.ROLE)
        first = count
        count = min(total, count + per_event)
        tokens = tuple(token_text(seed, index) for index in range(first, count))
        if fault is not None and fault[1] == event - 1:
            yield Step(at, fault[0], tokens=tokens, count=first, event=event)
            return
        last = event == events and not errors
        yield Step(
            at,
            StepKind.CONTENT,
            tokens=tokens,
            count=count,
            event=event,
            last=last,
            end=last and not terminator and fault is None,
            bad_utf8=scenario.bad_utf8 == event,
            bad_json=scenario.bad_json == event,
        )
        last_write = at
        for after in range(first + 1, count + 1):
            at += pauses.get(after, 0)

    if beat:
        while last_write + beat < at:
            last_write += beat
            yield Step(last_write, StepKind.HEARTBEAT, count=count)
    if events == 0 and role:
        yield Step(at, StepKind.ROLE)
    if fault is not None:
        yield Step(at, fault[0], count=count, event=events + 1)
        return
    if errors:
        yield Step(at, StepKind.ERROR, count=count, end=True)
        return
    if usage:
        yield Step(at, StepKind.USAGE, count=count)
    if terminator or events == 0:
        yield Step(at, StepKind.DONE, count=count, end=True)


def build_schedule(
    scenario: Scenario,
    *,
    max_tokens: int | None = None,
    role: bool = False,
    usage: bool = False,
    terminator: bool = True,
    heartbeats: bool = True,
) -> tuple[Step, ...]:
    """``iter_schedule`` as a tuple (for tests and short streams)."""
    return tuple(
        iter_schedule(
            scenario,
            max_tokens=max_tokens,
            role=role,
            usage=usage,
            terminator=terminator,
            heartbeats=heartbeats,
        )
    )


def without_faults(scenario: Scenario) -> Scenario:
    """The same response with no fin/rst/truncate: what a Content-Length must promise."""
    return dataclasses.replace(scenario, fin=None, rst=None, truncate=None)
