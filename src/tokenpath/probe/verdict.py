"""The verdict: what the path did to the stream, with the evidence in words and numbers.

Each rule below is a pure function over the measured stream that returns a ``Finding`` or
None. Priority when several apply: CUT > INVALID > BUFFERED/COMPRESSED > BURSTY > SLOW_START >
STREAMING. The rules and every threshold are documented in ``docs/probe.md``.

With mock send stamps every content event's delivery delay (receive - send) is known, and the
verdict is certain. Without them, bursts and holding are inferred from how events were grouped
into socket reads, and the evidence says so.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from tokenpath.clock import NS_PER_S
from tokenpath.probe.hops import Hop
from tokenpath.probe.metrics import (
    EndState,
    Measurement,
    Observed,
    StampClock,
    diffs_s,
    percentile,
    sanitize,
)
from tokenpath.probe.timeline import Read, Timeline, TransportEnd
from tokenpath.stream.dialects import Dialect, Kind
from tokenpath.units import format_bytes, format_seconds

UNCERTAIN = (
    "without send stamps this is inferred from read structure; use --compare DIRECT_URL or "
    "the tokenpath mock to be certain"
)
_BUFFER_SIZES = (1024, 2048, 4096, 8192, 16384, 32768, 65536)
_ENVOY_HOPS = frozenset({"envoy", "istio"})
_HEADER_ALLOWANCE = 1024  # upstream response headers sharing nginx's first buffer


class VerdictKind(StrEnum):
    STREAMING = "STREAMING"
    BUFFERED = "BUFFERED"
    BURSTY = "BURSTY"
    CUT = "CUT"
    SLOW_START = "SLOW_START"
    COMPRESSED = "COMPRESSED"
    INVALID = "INVALID"


# Lower number wins when several verdicts apply.
PRIORITY: dict[VerdictKind, int] = {
    VerdictKind.CUT: 0,
    VerdictKind.INVALID: 1,
    VerdictKind.COMPRESSED: 2,
    VerdictKind.BUFFERED: 2,
    VerdictKind.BURSTY: 3,
    VerdictKind.SLOW_START: 4,
    VerdictKind.STREAMING: 5,
}


class CutKind(StrEnum):
    BEFORE_HEADERS = "before_headers"  # an error status (or a close) instead of a stream
    IDLE = "idle"  # closed after a silent gap: an idle/read timer
    TOTAL = "total"  # closed while data flowed at its normal pace: a total/route timer
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Thresholds:
    min_span_s: float = 0.05  # the server must spread content over this long to be "held"
    buffered_fraction: float = 0.9  # share of the emission span (or of events) held to the end
    cluster_window_s: float = 0.01  # reads this close to the last one count as "the end"
    hold_s: float = 0.01  # a delivery delay above this (and 2x the send interval) is "held"
    burst_held_fraction: float = 0.3  # with stamps: held events in multi-event reads
    burst_fraction: float = 0.5  # without stamps: content events in multi-event reads
    min_burst_reads: int = 2
    burst_min_gap_s: float = 0.02  # without stamps: median gap between content reads
    burst_size_tolerance: float = 0.02  # burst bytes within 2% of a power-of-two buffer size
    burst_period_tolerance: float = 0.25  # burst intervals within 25% of their median
    burst_min_period_s: float = 0.05
    pattern_fraction: float = 0.6  # share of bursts that must fit the size or period
    lag_min_interval_s: float = 0.1  # "each event one interval late" needs intervals this long
    lag_fraction: float = 0.7
    slow_first_delay_s: float = 0.25  # with stamps: first content delay above this ...
    slow_first_factor: float = 5.0  # ... and above this many times the median delay
    slow_ttft_s: float = 5.0  # without stamps: TTFT at or above this is SLOW_START
    idle_gap_min_s: float = 0.1  # a final silence this long (and idle_gap_factor x p90 gap)
    idle_gap_factor: float = 5.0  # ... means an idle timer closed the stream
    pace_factor: float = 3.0  # a final gap within 3x the p90 gap: closed at normal pace
    delayed_close_s: float = 1.0  # Envoy's delayed_close_timeout default
    delayed_close_tolerance_s: float = 0.15


@dataclass(frozen=True, slots=True)
class CutInfo:
    kind: CutKind
    at_s: float  # when the stream ended (before_headers: when the error status arrived)
    status: int | None
    silence_s: float | None = None  # the silent gap before the end (after headers only)


@dataclass(frozen=True, slots=True)
class BurstInfo:
    reads: int  # multi-event reads that carried held content
    max_events: int  # most content events in one read
    size_bytes: int | None = None  # the buffer size bursts cluster at (4096, 16384, ...)
    period_s: float | None = None  # the regular interval between bursts


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: VerdictKind
    cut: CutInfo | None
    evidence: tuple[str, ...]
    certain: bool  # computed from mock send stamps
    notes: tuple[str, ...] = ()
    likely_causes: tuple[str, ...] = ()
    pattern: str = ""  # a stable sub-type: held_to_end, bursts_by_bytes, idle, ... (docs/probe.md)
    burst: BurstInfo | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    kind: VerdictKind
    pattern: str
    evidence: tuple[str, ...]
    cut: CutInfo | None = None
    burst: BurstInfo | None = None


@dataclass(slots=True)
class _Stream:
    """Everything the rules look at, computed once."""

    timeline: Timeline
    m: Measurement
    hops: tuple[Hop, ...]
    th: Thresholds
    content: list[Observed] = field(default_factory=list)
    stamps: bool = False
    reads: dict[int, Read] = field(default_factory=dict)
    per_read: Counter[int] = field(default_factory=Counter)

    def s(self, t_ns: int | None) -> float:
        return 0.0 if t_ns is None else (t_ns - self.timeline.t_start_ns) / NS_PER_S

    @property
    def n(self) -> int:
        return len(self.content)


def decide(timeline: Timeline, m: Measurement, hops: tuple[Hop, ...], th: Thresholds) -> Verdict:
    """Apply every rule, keep the highest-priority finding, and explain the rest in notes."""
    stream = _prepare(timeline, m, hops, th)
    rules: tuple[Callable[[_Stream], Finding | None], ...] = (
        _cut,
        _invalid,
        _held,
        _bursty,
        _slow_start,
    )
    findings = [f for f in (rule(stream) for rule in rules) if f is not None]
    findings.sort(key=lambda f: PRIORITY[f.kind])
    notes = _notes(stream)
    if not findings:
        chosen = Finding(VerdictKind.STREAMING, "streaming", _streaming_evidence(stream))
    else:
        chosen = findings[0]
        if chosen.kind in (VerdictKind.CUT, VerdictKind.INVALID):
            notes += [f"also {f.kind.value}: {f.evidence[0]}" for f in findings[1:]]
    chosen = _with_compression(stream, chosen, notes)
    evidence = chosen.evidence
    if not stream.stamps and chosen.kind in _INFERRED and chosen.pattern not in _SELF_EXPLAINED:
        evidence += (UNCERTAIN,)
    return Verdict(
        kind=chosen.kind,
        cut=chosen.cut,
        evidence=evidence,
        certain=stream.stamps,
        notes=tuple(notes),
        pattern=chosen.pattern,
        burst=chosen.burst,
    )


_SELF_EXPLAINED = frozenset({"no_content", "slow_ttft"})
_INFERRED = frozenset(
    {VerdictKind.BUFFERED, VerdictKind.BURSTY, VerdictKind.COMPRESSED, VerdictKind.SLOW_START}
)


def _prepare(timeline: Timeline, m: Measurement, hops: tuple[Hop, ...], th: Thresholds) -> _Stream:
    stream = _Stream(timeline, m, hops, th)
    stream.content = [o for o in m.observed if o.is_content and not o.incomplete]
    stream.stamps = (
        m.stamp_clock is not StampClock.NONE
        and bool(stream.content)
        and all(o.send_ns is not None for o in stream.content)
    )
    stream.reads = {r.index: r for r in timeline.reads}
    stream.per_read = Counter(o.read_index for o in stream.content)
    return stream


# --- CUT ------------------------------------------------------------------------------------


def _cut(st: _Stream) -> Finding | None:
    tl, es = st.timeline, st.m.end_state
    if es is EndState.HTTP_ERROR and tl.status is not None:
        at = st.s(tl.t_headers_ns) if tl.t_headers_ns is not None else st.s(tl.t_end_ns)
        cut = CutInfo(CutKind.BEFORE_HEADERS, at, tl.status)
        return Finding(VerdictKind.CUT, "http_error", _http_error_evidence(st, at), cut=cut)
    if tl.status is None and es in (
        EndState.RESET,
        EndState.TRUNCATED_CHUNKED,
        EndState.EOF_NO_TERMINATOR,
    ):
        at = st.s(tl.t_end_ns)
        how = "was reset" if es is EndState.RESET else "closed"
        evidence = (f"the connection {how} at {_t(at)} before any response headers arrived",)
        return Finding(
            VerdictKind.CUT, "no_headers", evidence, cut=CutInfo(CutKind.BEFORE_HEADERS, at, None)
        )
    if tl.status is None or not 200 <= tl.status < 300:
        return None
    if es not in (EndState.EOF_NO_TERMINATOR, EndState.TRUNCATED_CHUNKED, EndState.RESET):
        return None
    return _cut_after_headers(st)


def _cut_after_headers(st: _Stream) -> Finding:
    tl, th = st.timeline, st.th
    t_end = tl.t_end_ns
    read_times = sorted(r.t_ns for r in tl.reads)
    last_activity = read_times[-1] if read_times else (tl.t_headers_ns or tl.t_start_ns)
    silence = max(0.0, (t_end - last_activity) / NS_PER_S)
    gaps = diffs_s(read_times)
    pace = percentile(gaps, 90)
    at = st.s(t_end)
    ending = _ending_words(st)
    evidence = [
        f"the {tl.status} response stopped at {_t(at)} after {st.n} content events: {ending}"
    ]
    idle_limit = max(th.idle_gap_min_s, th.idle_gap_factor * (pace or 0.0))
    envoy = any(h.name in _ENVOY_HOPS for h in st.hops)
    delayed_close = (
        envoy
        and pace is not None
        and th.delayed_close_s - th.delayed_close_tolerance_s
        <= silence
        <= th.delayed_close_s + pace + th.delayed_close_tolerance_s
    )
    pace_words = f"reads had come every {_t(pace)} or less (p90)" if pace is not None else ""
    server_error = next((o for o in st.m.observed if o.info.kind is Kind.ERROR), None)
    if server_error is not None:
        kind = CutKind.UNKNOWN
        evidence.append(
            f"the server sent an error inside the stream at {_t(st.s(server_error.t_ns))}: "
            f"'{sanitize(server_error.info.error, 80)}'; the server ended it, probably not the path"
        )
    elif delayed_close:
        kind = CutKind.TOTAL
        evidence.append(
            f"the final {_t(silence)} gap matches Envoy's delayed_close_timeout (the FIN arrives "
            f"{th.delayed_close_s:g} s after a cut; {pace_words}), so the cut itself was at "
            f"~{_t(at - th.delayed_close_s)} while data flowed: a total (route) timer"
        )
    elif silence >= idle_limit:
        kind = CutKind.IDLE
        before = f"; {pace_words}" if pace_words else ""
        evidence.append(
            f"the connection closed after {_t(silence)} of silence{before}: the signature of an "
            "idle (read) timer"
        )
    elif pace is not None and silence <= max(th.pace_factor * pace, 2 * th.hold_s):
        kind = CutKind.TOTAL
        evidence.append(
            f"it closed {_t(silence)} after the last read, while data flowed at its normal pace "
            f"({pace_words}): a total (request/route) timer, not an idle one"
        )
    else:
        kind = CutKind.UNKNOWN
        evidence.append(
            f"the last {_t(silence)} before the close were silent, longer than the normal pace "
            f"but shorter than an idle cut ({_t(idle_limit)}): an idle or a total timer, "
            "a crash or a disconnect"
        )
    if envoy and not delayed_close and kind is not CutKind.UNKNOWN:
        evidence.append("an Envoy hop delays the FIN by ~1 s after a cut (delayed_close_timeout)")
    cut = CutInfo(kind, at, st.timeline.status, silence)
    return Finding(VerdictKind.CUT, kind.value, tuple(evidence), cut=cut)


def _ending_words(st: _Stream) -> str:
    terminator = _terminator_name(st.m.dialect)
    match st.m.end_state:
        case EndState.TRUNCATED_CHUNKED:
            return f"the connection closed inside the body (framing incomplete), no {terminator}"
        case EndState.RESET:
            return f"the connection was reset, no {terminator}"
        case _:
            return f"the body ended without {terminator}"


def _terminator_name(dialect: Dialect) -> str:
    match dialect:
        case Dialect.TGI:
            return "the final event (generated_text)"
        case Dialect.OLLAMA:
            return '"done": true'
        case _:
            return "[DONE]"


_CLIENT_ERRORS = {
    400: "the request was rejected: check the model name and the request body",
    401: "check the API key (--api-key-env)",
    403: "the key lacks permission, or a WAF/allow-list blocked the request",
    404: "check the URL path and the model name",
    405: "check the method and the path",
    408: "a request timeout at a hop while the request body was arriving (Envoy stream idle)",
    413: "the request body is too large for a hop (nginx client_max_body_size 1m by default)",
    415: "check the Content-Type of the request",
    422: "the request was rejected: check the request body",
    429: "rate limited: retry later or with another key",
}


def _http_error_evidence(st: _Stream, at: float) -> tuple[str, ...]:
    tl = st.timeline
    status = tl.status or 0
    reason = f" {sanitize(tl.reason, 40)}" if tl.reason else ""
    first = f"the response was {status}{reason} at {_t(at)}: no stream started"
    if status < 500:
        advice = _CLIENT_ERRORS.get(status, "a client or configuration error, not a path timeout")
        evidence = [f"{first}; {advice}"]
    else:
        evidence = [f"{first}; a hop or the server gave up before the response headers"]
    if tl.body_preview:
        evidence.append(f"body: '{sanitize(tl.body_preview.strip(), 80)}'")
    return tuple(evidence)


# --- INVALID --------------------------------------------------------------------------------


def _invalid(st: _Stream) -> Finding | None:
    tl, es = st.timeline, st.m.end_state
    if tl.status is not None and (tl.status < 200 or 300 <= tl.status < 400):
        return Finding(
            VerdictKind.INVALID,
            "not_a_stream",
            (f"status {tl.status} is not a streaming response; probe the final URL",),
        )
    if es is EndState.PROTOCOL_ERROR:
        detail = f": {sanitize(tl.error, 120)}" if tl.error else ""
        return Finding(
            VerdictKind.INVALID,
            "protocol_error",
            (f"the response broke HTTP or the stream framing at {_t(st.s(tl.t_end_ns))}{detail}",),
        )
    if es is EndState.TOO_LARGE:
        size = format_bytes(st.m.metrics.body_bytes)
        return Finding(
            VerdictKind.INVALID,
            "too_large",
            (f"the probe stopped at its --max-bytes cap ({size})",),
        )
    incomplete = [o for o in st.m.observed if o.incomplete]
    if incomplete:
        sentence = (
            f"the body ended inside an unterminated event ({incomplete[0].size} bytes without "
            "the closing blank line or newline)"
        )
        return Finding(VerdictKind.INVALID, "incomplete_event", (sentence,))
    bad = [o for o in st.m.observed if o.info.kind is Kind.INVALID]
    if bad:
        sentence = (
            f"{len(bad)} event(s) were not valid {st.m.dialect.value} payloads (first at "
            f"{_t(st.s(bad[0].t_ns))}: {bad[0].info.error})"
        )
        return Finding(VerdictKind.INVALID, "invalid_event", (sentence,))
    return None


# --- BUFFERED -------------------------------------------------------------------------------


def _held(st: _Stream) -> Finding | None:
    if st.n < 3:
        return None
    return _held_stamped(st) if st.stamps else _held_unstamped(st)


def _held_stamped(st: _Stream) -> Finding | None:
    sends = [o.send_ns or 0 for o in st.content]
    first_send, last_send = min(sends), max(sends)
    span = (last_send - first_send) / NS_PER_S
    if span < st.th.min_span_s:
        return None
    first = st.content[0]
    arrival_span = (st.content[-1].t_ns - first.t_ns) / NS_PER_S
    # Held, not merely late: the arrivals are squeezed into a fraction of the send span (a
    # uniformly slow path keeps the spread).
    held = (first.t_ns - first_send) / NS_PER_S >= st.th.buffered_fraction * span
    if held and arrival_span < 0.5 * span:
        delay = (first.t_ns - first_send) / NS_PER_S
        sentence = (
            f"{_arrival_words(st)}; the server sent the first at {_t(st.s(first_send))} "
            f"and the last at {_t(st.s(last_send))} (first delivery delay {_t(delay)})"
        )
        return Finding(VerdictKind.BUFFERED, "held_to_end", (sentence,))
    return _held_one_event(st, sends)


def _held_one_event(st: _Stream, sends: list[int]) -> Finding | None:
    """nginx with events larger than a buffer: each event waits for the next one's bytes."""
    if st.n / len(st.per_read) >= 1.5:
        return None
    intervals = [b - a for a, b in itertools.pairwise(sends)]
    median_interval = statistics.median(intervals) / NS_PER_S
    if median_interval < st.th.lag_min_interval_s:
        return None
    lagged = sum(
        1
        for o, nxt, gap in zip(st.content, sends[1:], intervals, strict=False)
        if gap > 0 and o.t_ns >= nxt - 0.1 * gap
    )
    if lagged < st.th.lag_fraction * (st.n - 1):
        return None
    delays = [(o.delay_ns or 0) / NS_PER_S for o in st.content]
    sentence = (
        f"each content event was held until the server sent the next one: {lagged} of "
        f"{st.n - 1} arrived only after their successor was sent (median delivery delay "
        f"{_t(statistics.median(delays))}, send interval {_t(median_interval)})"
    )
    return Finding(VerdictKind.BUFFERED, "held_one_event", (sentence,))


def _held_unstamped(st: _Stream) -> Finding | None:
    th, tl = st.th, st.timeline
    window = round(th.cluster_window_s * NS_PER_S)
    t_last = st.content[-1].t_ns
    cluster = [o for o in st.content if o.t_ns >= t_last - window]
    cluster_reads = {o.read_index for o in cluster}
    if len(cluster) < th.buffered_fraction * st.n or len(cluster) < 2 * len(cluster_reads):
        return None
    t_cluster = cluster[0].t_ns
    headers = tl.t_headers_ns
    if headers is not None and headers < t_cluster - window:
        since, ref = "the headers", headers
    else:  # the headers were held too: count from the request
        since = "the request"
        ref = tl.t_request_sent_ns or tl.t_connected_ns or tl.t_start_ns
    wait = (t_cluster - ref) / NS_PER_S
    if wait < th.min_span_s:
        return None
    sentence = f"{_arrival_words(st)}, {_t(wait)} after {since}"
    if since == "the request":
        sentence += "; the headers came with them, so a hop held the whole response"
    return Finding(VerdictKind.BUFFERED, "held_to_end", (sentence, _SERVER_OR_PATH))


def _arrival_words(st: _Stream) -> str:
    window = round(st.th.cluster_window_s * NS_PER_S)
    t_last = st.content[-1].t_ns
    cluster = [o for o in st.content if o.t_ns >= t_last - window]
    reads = len({o.read_index for o in cluster})
    first, last = st.s(cluster[0].t_ns), st.s(t_last)
    when = f"at {_t(last)}" if last - first < 0.0005 else f"between {_t(first)} and {_t(last)}"
    share = f"all {st.n}" if len(cluster) == st.n else f"{len(cluster)} of {st.n}"
    return f"{share} content events arrived in {reads} read{'s' * (reads != 1)} {when}"


_SERVER_OR_PATH = (
    "a server that generated everything at once would look the same; the path is the usual cause"
)


# --- BURSTY ---------------------------------------------------------------------------------


def _bursty(st: _Stream) -> Finding | None:
    if st.n < 3:
        return None
    th = st.th
    if st.stamps:
        sends = [o.send_ns or 0 for o in st.content]
        intervals = diffs_s(sends)
        limit = max(th.hold_s, 2 * statistics.median(intervals))
        held = [
            o
            for o in st.content
            if st.per_read[o.read_index] >= 2 and (o.delay_ns or 0) / NS_PER_S > limit
        ]
        burst_reads = sorted({o.read_index for o in held})
        if len(held) < th.burst_held_fraction * st.n or len(burst_reads) < th.min_burst_reads:
            return None
        max_delay = max((o.delay_ns or 0) / NS_PER_S for o in held)
        first = (
            f"{len(held)} of {st.n} content events arrived coalesced in {len(burst_reads)} reads "
            f"(up to {max(st.per_read.values())} per read); the server sent them "
            f"{_t(statistics.median(intervals))} apart, the path delivered them up to "
            f"{_t(max_delay)} late"
        )
    else:
        multi = sorted(i for i, c in st.per_read.items() if c >= 2)
        in_multi = sum(st.per_read[i] for i in multi)
        read_times = sorted({o.read_index: o.t_ns for o in st.content}.values())
        gaps = diffs_s(read_times)
        if in_multi < th.burst_fraction * st.n or len(multi) < th.min_burst_reads:
            return None
        if not gaps or statistics.median(gaps) < th.burst_min_gap_s:
            return None
        burst_reads = multi
        first = (
            f"{in_multi} of {st.n} content events arrived coalesced in {len(multi)} reads "
            f"(up to {max(st.per_read.values())} per read), the reads "
            f"{_t(statistics.median(gaps))} apart (median)"
        )
    burst = _burst_shape(st, burst_reads)
    evidence = [first]
    pattern = "bursts"
    if burst.size_bytes is not None:
        pattern = "bursts_by_bytes"
        evidence.append(
            f"the bursts are {burst.size_bytes} B ({format_bytes(burst.size_bytes)}) each: a "
            "fixed-size buffer fills, then flushes"
        )
    elif burst.period_s is not None:
        pattern = "bursts_by_time"
        evidence.append(f"a burst every {_t(burst.period_s)}: a timer releases them")
    return Finding(VerdictKind.BURSTY, pattern, tuple(evidence), burst=burst)


def _burst_shape(st: _Stream, burst_reads: Sequence[int]) -> BurstInfo:
    th = st.th
    ordered = sorted((st.reads[i] for i in burst_reads if i in st.reads), key=lambda r: r.t_ns)
    size: int | None = None
    # Decoded sizes first; wire sizes catch a buffer of compressed bytes.
    for sizes in ([r.body_bytes for r in ordered], [r.wire_bytes for r in ordered]):
        size = _buffer_size(sizes[:-1] if len(sizes) >= 2 else sizes, th)
        if size is not None:
            break
    times = [r.t_ns for r in ordered]
    if size is None:  # time-batched: every content read is a batch
        times = sorted({o.read_index: o.t_ns for o in st.content}.values())
    intervals = diffs_s(times)
    period: float | None = None
    if len(intervals) >= 2:
        median = statistics.median(intervals)
        close = [g for g in intervals if abs(g - median) <= th.burst_period_tolerance * median]
        if median >= th.burst_min_period_s and len(close) >= th.pattern_fraction * len(intervals):
            period = median
    max_events = max((st.per_read[i] for i in burst_reads), default=0)
    return BurstInfo(len(burst_reads), max_events, size, period)


def _buffer_size(sizes: Sequence[int], th: Thresholds) -> int | None:
    """The power-of-two buffer size most bursts match. The caller leaves out the last burst (a
    remainder). The first may be short by the upstream's response headers, which nginx keeps
    in its first buffer; it counts when a later burst matches exactly."""
    for candidate in _BUFFER_SIZES:
        exact = [abs(s - candidate) <= th.burst_size_tolerance * candidate for s in sizes]
        if not any(exact):
            continue
        if sizes and candidate - _HEADER_ALLOWANCE <= sizes[0] < candidate:
            exact[0] = True
        if sum(exact) >= th.pattern_fraction * len(sizes):
            return candidate
    return None


# --- SLOW_START -----------------------------------------------------------------------------


def _slow_start(st: _Stream) -> Finding | None:
    tl, th, metrics = st.timeline, st.th, st.m.metrics
    if st.m.end_state is EndState.CLIENT_TIMEOUT and not st.content:
        what = "no content" if tl.status is not None else "no response headers"
        sentence = (
            f"{what} arrived before the probe's own timeout ended the request at "
            f"{_t(st.s(tl.t_end_ns))}: a slow model, a long queue, or a hop holding the response"
        )
        return Finding(VerdictKind.SLOW_START, "no_content", (sentence,))
    if not st.content:
        return None
    if st.stamps:
        delays = [(o.delay_ns or 0) / NS_PER_S for o in st.content]
        rest = statistics.median(delays[1:]) if len(delays) > 1 else 0.0
        if delays[0] <= max(th.slow_first_delay_s, th.slow_first_factor * rest):
            return None
        sentence = (
            f"the path delayed the first content event by {_t(delays[0])} (sent at "
            f"{_t(st.s(st.content[0].send_ns))}, received at {_t(st.s(st.content[0].t_ns))}); "
            f"later events were delayed {_t(rest)} (median)"
        )
        return Finding(VerdictKind.SLOW_START, "first_event_held", (sentence,))
    ttft = metrics.ttft_s
    if ttft is None or ttft < th.slow_ttft_s:
        return None
    headers = metrics.ttfb_headers_s
    after = f" (headers at {_t(headers)})" if headers is not None else ""
    sentence = (
        f"the first content event arrived at {_t(ttft)}{after}; without send stamps or "
        "--compare tokenpath cannot tell a slow model (prefill, queue) from a hop holding the "
        "first bytes"
    )
    return Finding(VerdictKind.SLOW_START, "slow_ttft", (sentence,))


# --- STREAMING, compression, notes ----------------------------------------------------------


def _streaming_evidence(st: _Stream) -> tuple[str, ...]:
    metrics = st.m.metrics
    if not st.content:
        return (
            f"the stream ended properly but carried no content ({metrics.total_events} events)",
        )
    reads = len(st.per_read)
    sentence = (
        f"{st.n} content events arrived in {reads} reads (at most {metrics.max_burst_events} "
        f"per read), first at {_t(metrics.ttft_s)}, last at {_t(metrics.e2e_last_token_s)}"
    )
    if st.stamps and metrics.delay_p90_s is not None:
        sentence += f"; delivery delay p90 {_t(metrics.delay_p90_s)}"
    return (sentence,)


def _with_compression(st: _Stream, finding: Finding, notes: list[str]) -> Finding:
    encoding = st.timeline.content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return finding
    if finding.kind in (VerdictKind.BUFFERED, VerdictKind.BURSTY):
        lead = (
            f"the response was compressed ({sanitize(encoding, 20)}) and the content was held: "
            "a compressor (or the hop running it) waits for its buffer to fill"
        )
        return Finding(
            VerdictKind.COMPRESSED,
            finding.pattern,
            (lead, *finding.evidence),
            cut=finding.cut,
            burst=finding.burst,
        )
    if finding.kind is VerdictKind.STREAMING:
        notes.append(f"compressed ({sanitize(encoding, 20)}) per event: harmless here")
    else:
        notes.append(f"the response was compressed ({sanitize(encoding, 20)})")
    return finding


def _notes(st: _Stream) -> list[str]:
    tl, m = st.timeline, st.m
    notes: list[str] = []
    if m.stamp_clock is StampClock.OFFSET:
        notes.append(
            "send stamps come from another host's clock: delays are relative to the fastest event"
        )
    if m.dialect is Dialect.RAW and m.end_state is not EndState.HTTP_ERROR:
        notes.append("raw dialect: no end marker to check, so a clean close counts as done")
    if m.end_state is EndState.DONE and tl.transport_end is not TransportEnd.COMPLETE:
        notes.append(
            "the terminator arrived, then the transport ended abnormally "
            f"({tl.transport_end.value})"
        )
    if m.end_state is EndState.CLIENT_TIMEOUT and st.content:
        notes.append(
            f"the probe's own timeout ended the stream at {_t(st.s(tl.t_end_ns))} before it "
            "finished; raise --timeout / --max-time to see its end"
        )
    errors = [o for o in m.observed if o.info.kind is Kind.ERROR]
    if errors and m.end_state is EndState.DONE:
        notes.append(
            f"the server sent an error event at {_t(st.s(errors[0].t_ns))}: "
            f"'{sanitize(errors[0].info.error, 80)}'"
        )
    server_ttft = m.metrics.server_ttft_s
    if st.stamps and server_ttft is not None and server_ttft >= st.th.slow_ttft_s:
        notes.append(
            f"the server itself sent its first content at {_t(server_ttft)} (send stamp): "
            "the model or its queue, not the path"
        )
    return notes


def _t(value: float | None) -> str:
    return "—" if value is None else format_seconds(max(0.0, value))
