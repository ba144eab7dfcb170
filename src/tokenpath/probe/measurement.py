"""What one probe measured: ``measure(timeline) -> Measurement``.

Interprets every arrival in the timeline's dialect, puts mock send stamps on the probe's
clock, and derives the end state, the per-event records the reports show, and the metrics
(``probe.metrics``). Pure: no I/O, no clocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tokenpath.clock import NS_PER_S
from tokenpath.probe.metrics import Metrics, Observed, compute_metrics, seconds
from tokenpath.probe.safe_text import sanitize
from tokenpath.probe.timeline import Timeline, TransportEnd
from tokenpath.stream.dialects import Dialect, Interpretation, Kind, interpret
from tokenpath.stream.events import (
    IncompleteEvent,
    NDJSONLine,
    RawChunk,
    SSEComment,
    SSEMessage,
    StreamEvent,
)

# Send stamps share the probe's clock when every stamp lies between the probe's start and the
# event's receipt (a random clock offset between two hosts practically never does).
_CLOCK_TOLERANCE_NS = 1_000_000


class EndState(StrEnum):
    DONE = "done"  # the dialect's terminator was seen ([DONE], done:true, TGI final event)
    EOF_NO_TERMINATOR = "eof_no_terminator"  # the body ended cleanly but without a terminator
    TRUNCATED_CHUNKED = "truncated_chunked"  # EOF inside a chunked or Content-Length body
    RESET = "reset"
    HTTP_ERROR = "http_error"  # status >= 400
    CLIENT_TIMEOUT = "client_timeout"  # the probe's own --timeout / --max-time
    TOO_LARGE = "too_large"  # the probe's --max-bytes
    PROTOCOL_ERROR = "protocol_error"  # malformed HTTP, bad gzip, a stream size cap


class StampClock(StrEnum):
    NONE = "none"  # no send stamps
    SHARED = "shared"  # mock and probe share the monotonic clock: delays are exact
    OFFSET = "offset"  # another host's clock: delays are relative to the fastest event


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as the reports show it."""

    t_s: float  # arrival: the read that completed the event
    read_index: int
    kind: str  # a ``Kind`` value
    bytes: int  # approximate size of the event's data
    text: str  # first characters of its content, control characters escaped
    delay_s: float | None  # receive - send (mock send stamps only)
    send_s: float | None  # the server's send time on the probe's clock


@dataclass(frozen=True, slots=True)
class Measurement:
    observed: tuple[Observed, ...]
    end_state: EndState
    metrics: Metrics
    records: tuple[EventRecord, ...]
    stamp_clock: StampClock
    dialect: Dialect


_ERROR_BODY = Interpretation(Kind.ERROR, error="body of a non-2xx response")


def measure(timeline: Timeline) -> Measurement:
    """Interpret every arrival and compute the metrics and end state."""
    dialect = resolve_dialect(timeline.dialect)
    # The body of an error answer (or of no answer) is not a stream: it never counts as
    # content, so TTFT and bursts stay empty rather than timing an error page.
    error_body = timeline.status is None or not 200 <= timeline.status < 300
    raw = [
        (a, _ERROR_BODY if error_body else interpret(dialect, a.event)) for a in timeline.arrivals
    ]
    offset, clock = _stamp_alignment(timeline, [(a.t_ns, i.send_ns) for a, i in raw])
    observed = tuple(
        Observed(
            t_ns=a.t_ns,
            read_index=a.read_index,
            info=info,
            size=_event_size(a.event),
            incomplete=isinstance(a.event, IncompleteEvent),
            send_ns=None if info.send_ns is None or offset is None else info.send_ns + offset,
        )
        for a, info in raw
    )
    terminator = any(o.info.done for o in observed)
    end_state = end_state_of(timeline, terminator_seen=terminator, dialect=dialect)
    records = tuple(_record(timeline, o, a.event) for o, (a, _) in zip(observed, raw, strict=True))
    return Measurement(
        observed=observed,
        end_state=end_state,
        metrics=compute_metrics(timeline, observed),
        records=records,
        stamp_clock=clock,
        dialect=dialect,
    )


def resolve_dialect(value: str) -> Dialect:
    try:
        return Dialect(value)
    except ValueError:
        return Dialect.RAW


def end_state_of(timeline: Timeline, *, terminator_seen: bool, dialect: Dialect) -> EndState:
    if timeline.status is not None and timeline.status >= 400:
        return EndState.HTTP_ERROR
    if terminator_seen:
        return EndState.DONE
    match timeline.transport_end:
        case TransportEnd.COMPLETE:
            # The raw dialect has no end marker: a complete HTTP message is all we can check.
            if dialect is Dialect.RAW and timeline.status is not None:
                return EndState.DONE
            return EndState.EOF_NO_TERMINATOR
        case TransportEnd.TRUNCATED:
            return EndState.TRUNCATED_CHUNKED
        case TransportEnd.RESET:
            return EndState.RESET
        case TransportEnd.TIMEOUT:
            return EndState.CLIENT_TIMEOUT
        case TransportEnd.TOO_LARGE:
            return EndState.TOO_LARGE
        case TransportEnd.PROTOCOL_ERROR:
            return EndState.PROTOCOL_ERROR


def _stamp_alignment(
    timeline: Timeline, pairs: Sequence[tuple[int, int | None]]
) -> tuple[int | None, StampClock]:
    """The offset to add to send stamps to put them on the probe's clock."""
    stamped = [(t, s) for t, s in pairs if s is not None]
    if not stamped:
        return None, StampClock.NONE
    low = timeline.t_start_ns - _CLOCK_TOLERANCE_NS
    if all(low <= s <= t + _CLOCK_TOLERANCE_NS for t, s in stamped):
        return 0, StampClock.SHARED
    # Another host's clock: assume the fastest event had no delay. Delays become relative,
    # which is all buffering and burst detection need.
    return min(t - s for t, s in stamped), StampClock.OFFSET


def _event_size(event: StreamEvent) -> int:
    match event:
        case SSEMessage(data=data):
            return len(data.encode("utf-8", "replace"))
        case SSEComment(text=text) | NDJSONLine(text=text):
            return len(text.encode("utf-8", "replace"))
        case RawChunk(size=size):
            return size
        case IncompleteEvent(pending_bytes=pending):
            return pending


def _record(timeline: Timeline, obs: Observed, event: StreamEvent) -> EventRecord:
    info = obs.info
    if obs.incomplete:
        text = f"incomplete event: {obs.size} bytes pending at EOF"
    elif info.kind is Kind.COMMENT and isinstance(event, SSEComment):
        text = event.text
    elif info.kind in (Kind.ERROR, Kind.INVALID):
        text = info.error
    else:
        text = info.text
    delay = obs.delay_ns
    return EventRecord(
        t_s=(obs.t_ns - timeline.t_start_ns) / NS_PER_S,
        read_index=obs.read_index,
        kind=info.kind.value,
        bytes=obs.size,
        text=sanitize(text),
        delay_s=None if delay is None else delay / NS_PER_S,
        send_s=seconds(timeline, obs.send_ns),
    )
