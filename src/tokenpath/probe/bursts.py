"""The BURSTY rule: content delivered in bursts, and the shape of those bursts.

Bursts of a power-of-two size point at a buffer that fills and flushes (nginx proxy buffers);
bursts at a regular interval point at a timer (a flush interval). With mock send stamps the
held events are known; without them, bursts are inferred from multi-event socket reads.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from tokenpath.clock import NS_PER_S
from tokenpath.probe.metrics import diffs_s
from tokenpath.probe.verdict import BurstInfo, Finding, Stream, Thresholds, VerdictKind
from tokenpath.units import format_bytes, format_seconds_or_dash

_BUFFER_SIZES = (1024, 2048, 4096, 8192, 16384, 32768, 65536)
_HEADER_ALLOWANCE = 1024  # upstream response headers sharing nginx's first buffer


def find_bursts(st: Stream) -> Finding | None:
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
            f"{format_seconds_or_dash(statistics.median(intervals))} apart, the path delivered "
            f"them up to {format_seconds_or_dash(max_delay)} late"
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
            f"{format_seconds_or_dash(statistics.median(gaps))} apart (median)"
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
        evidence.append(
            f"a burst every {format_seconds_or_dash(burst.period_s)}: a timer releases them"
        )
    return Finding(VerdictKind.BURSTY, pattern, tuple(evidence), burst=burst)


def _burst_shape(st: Stream, burst_reads: Sequence[int]) -> BurstInfo:
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
