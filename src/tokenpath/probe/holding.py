"""The rules for content the path held: to the end or one event at a time (BUFFERED), or at
the start (SLOW_START).

With mock send stamps every content event's delivery delay (receive - send) is known, and the
finding is certain. Without them, holding is inferred from how events were grouped into
socket reads and when they arrived.
"""

from __future__ import annotations

import itertools
import statistics

from tokenpath.clock import NS_PER_S
from tokenpath.probe.measurement import EndState
from tokenpath.probe.verdict import Finding, Stream, VerdictKind
from tokenpath.units import format_seconds_or_dash

_SERVER_OR_PATH = (
    "a server that generated everything at once would look the same; the path is the usual cause"
)


# --- BUFFERED -------------------------------------------------------------------------------


def find_held(st: Stream) -> Finding | None:
    if st.n < 3:
        return None
    return _held_stamped(st) if st.stamps else _held_unstamped(st)


def _held_stamped(st: Stream) -> Finding | None:
    sends = [o.send_ns or 0 for o in st.content]
    first_send, last_send = min(sends), max(sends)
    span = (last_send - first_send) / NS_PER_S
    if span < st.th.min_span_s:
        return None
    first = st.content[0]
    arrival_span = (st.content[-1].t_ns - first.t_ns) / NS_PER_S
    # Held, not merely late: the arrivals are squeezed into a fraction of the send span (a
    # uniformly slow path keeps the spread).
    delay = (first.t_ns - first_send) / NS_PER_S
    held = delay >= st.th.buffered_fraction * span
    if held and arrival_span < 0.5 * span:
        sentence = (
            f"{_arrival_words(st)}; the server sent the first at "
            f"{format_seconds_or_dash(st.s(first_send))} and the last at "
            f"{format_seconds_or_dash(st.s(last_send))} (first delivery delay "
            f"{format_seconds_or_dash(delay)})"
        )
        return Finding(VerdictKind.BUFFERED, "held_to_end", (sentence,))
    return _held_one_event(st, sends)


def _held_one_event(st: Stream, sends: list[int]) -> Finding | None:
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
        f"each content event was held until the server sent the next one: {lagged} of {st.n - 1} "
        "arrived only after their successor was sent (median delivery delay "
        f"{format_seconds_or_dash(statistics.median(delays))}, send interval "
        f"{format_seconds_or_dash(median_interval)})"
    )
    return Finding(VerdictKind.BUFFERED, "held_one_event", (sentence,))


def _held_unstamped(st: Stream) -> Finding | None:
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
    sentence = f"{_arrival_words(st)}, {format_seconds_or_dash(wait)} after {since}"
    if since == "the request":
        sentence += "; the headers came with them, so a hop held the whole response"
    return Finding(VerdictKind.BUFFERED, "held_to_end", (sentence, _SERVER_OR_PATH))


def _arrival_words(st: Stream) -> str:
    window = round(st.th.cluster_window_s * NS_PER_S)
    t_last = st.content[-1].t_ns
    cluster = [o for o in st.content if o.t_ns >= t_last - window]
    reads = len({o.read_index for o in cluster})
    first, last = st.s(cluster[0].t_ns), st.s(t_last)
    when = (
        f"at {format_seconds_or_dash(last)}"
        if last - first < 0.0005
        else f"between {format_seconds_or_dash(first)} and {format_seconds_or_dash(last)}"
    )
    share = f"all {st.n}" if len(cluster) == st.n else f"{len(cluster)} of {st.n}"
    return f"{share} content events arrived in {reads} read{'s' * (reads != 1)} {when}"


# --- SLOW_START -----------------------------------------------------------------------------


def find_slow_start(st: Stream) -> Finding | None:
    tl, th, metrics = st.timeline, st.th, st.m.metrics
    if st.m.end_state is EndState.CLIENT_TIMEOUT and not st.content:
        what = "no content" if tl.status is not None else "no response headers"
        sentence = (
            f"{what} arrived before the probe's own timeout ended the request at "
            f"{format_seconds_or_dash(st.s(tl.t_end_ns))}: a slow model, a long queue, or a hop "
            "holding the response"
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
            f"the path delayed the first content event by {format_seconds_or_dash(delays[0])} "
            f"(sent at {format_seconds_or_dash(st.s(st.content[0].send_ns))}, received at "
            f"{format_seconds_or_dash(st.s(st.content[0].t_ns))}); later events were delayed "
            f"{format_seconds_or_dash(rest)} (median)"
        )
        return Finding(VerdictKind.SLOW_START, "first_event_held", (sentence,))
    ttft = metrics.ttft_s
    if ttft is None or ttft < th.slow_ttft_s:
        return None
    headers = metrics.ttfb_headers_s
    after = f" (headers at {format_seconds_or_dash(headers)})" if headers is not None else ""
    sentence = (
        f"the first content event arrived at {format_seconds_or_dash(ttft)}{after}; without send "
        "stamps or --compare tokenpath cannot tell a slow model (prefill, queue) from a hop "
        "holding the first bytes"
    )
    return Finding(VerdictKind.SLOW_START, "slow_ttft", (sentence,))
