"""The verdict's vocabulary: what the path did to the stream, and what the rules exchange.

``probe.decision`` applies the rules (``probe.failures``: CUT, INVALID; ``probe.holding``:
BUFFERED, SLOW_START; ``probe.bursts``: BURSTY) to a ``Stream`` and keeps the highest-priority
``Finding`` as the ``Verdict``. The rules and every threshold are documented in
``docs/probe.md``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from tokenpath.clock import NS_PER_S
from tokenpath.probe.hops import Hop
from tokenpath.probe.measurement import Measurement, StampClock
from tokenpath.probe.metrics import Observed
from tokenpath.probe.timeline import Read, Timeline


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
    """What one rule concluded."""

    kind: VerdictKind
    pattern: str
    evidence: tuple[str, ...]
    cut: CutInfo | None = None
    burst: BurstInfo | None = None


@dataclass(slots=True)
class Stream:
    """Everything the rules look at, computed once by ``prepare``."""

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


def prepare(timeline: Timeline, m: Measurement, hops: tuple[Hop, ...], th: Thresholds) -> Stream:
    stream = Stream(timeline, m, hops, th)
    stream.content = [o for o in m.observed if o.is_content and not o.incomplete]
    stream.stamps = (
        m.stamp_clock is not StampClock.NONE
        and bool(stream.content)
        and all(o.send_ns is not None for o in stream.content)
    )
    stream.reads = {r.index: r for r in timeline.reads}
    stream.per_read = Counter(o.read_index for o in stream.content)
    return stream
