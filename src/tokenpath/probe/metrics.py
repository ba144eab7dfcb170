"""The layered timings of one probe, computed from its interpreted arrivals.

All times are seconds relative to ``t_start_ns`` (taken just before the connection attempt),
so every number is "time since the user asked". ``docs/probe.md`` defines each metric and how
it differs from other tools.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.clock import NS_PER_S
from tokenpath.probe.timeline import Timeline
from tokenpath.stream.dialects import Interpretation, Kind


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


def compute_metrics(timeline: Timeline, observed: Sequence[Observed]) -> Metrics:
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
