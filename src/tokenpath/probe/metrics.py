"""What one probe measured: per-event records, the end state and the layered timings.

Pure functions over a ``Timeline``. All times are seconds relative to ``t_start_ns`` (taken
just before the connection attempt), so every number is "time since the user asked".
``docs/probe.md`` defines each metric and how it differs from other tools.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tokenpath.clock import NS_PER_S
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

TEXT_PREVIEW_CHARS = 60
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
class Metrics:
    connect_s: float | None  # TCP connected (curl: time_connect)
    tls_s: float | None  # TLS handshake done (curl: time_appconnect)
    ttfb_headers_s: float | None
    ttfb_body_s: float | None  # first read that delivered body bytes
    ttf_event_s: float | None  # first complete event, comments included
    ttf_data_s: float | None  # first non-comment event
    ttft_s: float | None  # first content event
    e2e_last_token_s: float | None
    e2e_stream_s: float
    tail_s: float | None  # last content event -> end
    gap_p50_s: float | None  # gaps between consecutive content-bearing reads
    gap_p90_s: float | None
    gap_max_s: float | None
    itl_mean_s: float | None  # per token; see itl_basis
    itl_p50_s: float | None
    itl_p90_s: float | None
    itl_max_s: float | None
    itl_basis: str | None  # "server_tokens" | "events"
    events_per_read_mean: float | None
    events_per_read_max: int
    max_burst_events: int  # content events completed by one read
    max_burst_bytes: int  # body bytes delivered by one read
    content_events: int
    total_events: int
    comment_events: int
    body_bytes: int
    wire_bytes: int
    reads: int
    server_tokens: int | None  # the server's own completion token count
    server_ttft_s: float | None  # when the server sent its first content (send stamps)
    delay_p50_s: float | None  # delivery delay, receive - send, over stamped events
    delay_p90_s: float | None
    delay_p99_s: float | None
    delay_max_s: float | None
    stamped: int  # events that carried a send stamp


@dataclass(frozen=True, slots=True)
class Observed:
    """An arrival with its interpretation; ``send_ns`` is already on the probe's clock."""

    t_ns: int
    read_index: int
    info: Interpretation
    size: int
    incomplete: bool
    send_ns: int | None

    @property
    def is_content(self) -> bool:
        return self.info.is_content

    @property
    def delay_ns(self) -> int | None:
        return None if self.send_ns is None else self.t_ns - self.send_ns


@dataclass(frozen=True, slots=True)
class Measurement:
    observed: tuple[Observed, ...]
    end_state: EndState
    metrics: Metrics
    records: tuple[EventRecord, ...]
    stamp_clock: StampClock
    terminator_seen: bool
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
        metrics=_metrics(timeline, observed),
        records=records,
        stamp_clock=clock,
        terminator_seen=terminator,
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


def seconds(timeline: Timeline, t_ns: int | None) -> float | None:
    return None if t_ns is None else (t_ns - timeline.t_start_ns) / NS_PER_S


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def sanitize(text: str, limit: int | None = TEXT_PREVIEW_CHARS) -> str:
    """Escape everything a terminal could act on (C0/C1 controls, ESC, DEL, bidi overrides,
    line separators); keep ordinary Unicode. Server text is never trusted."""
    clipped = text if limit is None or len(text) <= limit else text[:limit]
    out = [_escape_char(ch) for ch in clipped]
    return "".join(out) + ("…" if clipped is not text else "")


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_BIDI_AND_SEPARATORS = frozenset(
    "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)


def _escape_char(ch: str) -> str:
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"\\x{code:02x}"
    if ch in _BIDI_AND_SEPARATORS:
        return f"\\u{code:04x}"
    return ch


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


def _metrics(timeline: Timeline, observed: Sequence[Observed]) -> Metrics:
    events = [o for o in observed if not o.incomplete]
    content = [o for o in events if o.is_content]
    comments = [o for o in events if o.info.kind is Kind.COMMENT]
    data = [o for o in events if o.info.kind is not Kind.COMMENT]
    reads = timeline.reads
    per_read = Counter(o.read_index for o in events)
    content_per_read = Counter(o.read_index for o in content)
    content_read_times = sorted({o.read_index: o.t_ns for o in content}.values())
    gaps = diffs_s(content_read_times)
    server_tokens = _server_tokens(events)
    itl, basis = _itl(content, server_tokens)
    delays = [d / NS_PER_S for o in events if (d := o.delay_ns) is not None]
    first_content = content[0] if content else None
    last_content = content[-1] if content else None
    t_end = seconds(timeline, timeline.t_end_ns)
    e2e_last = seconds(timeline, last_content.t_ns) if last_content else None
    return Metrics(
        connect_s=seconds(timeline, timeline.t_connected_ns),
        tls_s=seconds(timeline, timeline.t_tls_ns),
        ttfb_headers_s=seconds(timeline, timeline.t_headers_ns),
        ttfb_body_s=seconds(timeline, reads[0].t_ns) if reads else None,
        ttf_event_s=seconds(timeline, events[0].t_ns) if events else None,
        ttf_data_s=seconds(timeline, data[0].t_ns) if data else None,
        ttft_s=seconds(timeline, first_content.t_ns) if first_content else None,
        e2e_last_token_s=e2e_last,
        e2e_stream_s=t_end if t_end is not None else 0.0,
        tail_s=None if e2e_last is None or t_end is None else t_end - e2e_last,
        gap_p50_s=percentile(gaps, 50),
        gap_p90_s=percentile(gaps, 90),
        gap_max_s=max(gaps) if gaps else None,
        itl_mean_s=statistics.fmean(itl) if itl else None,
        itl_p50_s=percentile(itl, 50),
        itl_p90_s=percentile(itl, 90),
        itl_max_s=max(itl) if itl else None,
        itl_basis=basis,
        events_per_read_mean=len(events) / len(reads) if reads else None,
        events_per_read_max=max(per_read.values(), default=0),
        max_burst_events=max(content_per_read.values(), default=0),
        max_burst_bytes=max((r.body_bytes for r in reads), default=0),
        content_events=len(content),
        total_events=len(events),
        comment_events=len(comments),
        body_bytes=sum(r.body_bytes for r in reads),
        wire_bytes=sum(r.wire_bytes for r in reads),
        reads=len(reads),
        server_tokens=server_tokens,
        server_ttft_s=seconds(timeline, first_content.send_ns) if first_content else None,
        delay_p50_s=percentile(delays, 50),
        delay_p90_s=percentile(delays, 90),
        delay_p99_s=percentile(delays, 99),
        delay_max_s=max(delays) if delays else None,
        stamped=len(delays),
    )


def diffs_s(times_ns: Sequence[int]) -> list[float]:
    """Gaps in seconds between consecutive nanosecond times."""
    return [(b - a) / NS_PER_S for a, b in itertools.pairwise(times_ns)]


def _server_tokens(events: Sequence[Observed]) -> int | None:
    """The last count the server reported (usage chunk, TGI details, Ollama eval_count)."""
    counts = [o.info.completion_tokens for o in events if o.info.completion_tokens is not None]
    return counts[-1] if counts else None


def _itl(content: Sequence[Observed], server_tokens: int | None) -> tuple[list[float], str | None]:
    """Per-token gaps. Each gap between content events is spread over the tokens the later
    event carried: server count / content events when the server reports a count, else one."""
    if len(content) < 2:
        return [], None
    gaps = diffs_s([o.t_ns for o in content])
    if server_tokens is not None and server_tokens >= len(content):
        scale = len(content) / server_tokens
        return [g * scale for g in gaps], "server_tokens"
    return gaps, "events"
