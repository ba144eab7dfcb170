"""Direct vs via the path: which differences the path causes.

The caller interleaves the runs (direct, via, direct, via, ...) so that load and model state
drift evenly; here we take medians per side and say, in one sentence, what the path does.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tokenpath.probe.classify import ProbeResult
from tokenpath.probe.verdict import PRIORITY, CutKind, VerdictKind
from tokenpath.units import format_bytes, format_seconds_or_dash

# Metric name -> how to read it from a result. Order is the order of reports.
KEY_METRICS: tuple[tuple[str, Callable[[ProbeResult], float | None]], ...] = (
    ("ttfb_headers_s", lambda r: r.metrics.ttfb_headers_s),
    ("ttft_s", lambda r: r.metrics.ttft_s),
    ("e2e_last_token_s", lambda r: r.metrics.e2e_last_token_s),
    ("e2e_stream_s", lambda r: r.metrics.e2e_stream_s),
    ("itl_p50_s", lambda r: r.metrics.itl_p50_s),
    ("max_burst_events", lambda r: float(r.metrics.max_burst_events)),
    ("content_events", lambda r: float(r.metrics.content_events)),
)
MATERIAL_S = 0.01  # a TTFT difference under 10 ms (or under 10 % of direct) is noise
_HELD = frozenset({VerdictKind.BUFFERED, VerdictKind.COMPRESSED})


@dataclass(frozen=True, slots=True)
class MetricDelta:
    name: str
    direct: float | None  # median over the direct runs
    via: float | None  # median over the runs through the path
    delta: float | None  # via - direct


@dataclass(frozen=True, slots=True)
class Comparison:
    direct: tuple[ProbeResult, ...]
    via: tuple[ProbeResult, ...]
    direct_verdict: VerdictKind | None  # the most common verdict of each side
    via_verdict: VerdictKind | None
    deltas: tuple[MetricDelta, ...]
    attribution: str
    path_at_fault: bool  # the path made the stream worse than direct
    notes: tuple[str, ...] = ()

    def delta(self, name: str) -> MetricDelta:
        return next(d for d in self.deltas if d.name == name)


def compare(direct: Sequence[ProbeResult], via: Sequence[ProbeResult]) -> Comparison:
    """Medians per side, the verdict per side, and what the path changes."""
    deltas = tuple(_delta(name, get, direct, via) for name, get in KEY_METRICS)
    direct_kind, via_kind = side_verdict(direct), side_verdict(via)
    attribution, at_fault = _attribute(direct, via, direct_kind, via_kind, deltas)
    return Comparison(
        direct=tuple(direct),
        via=tuple(via),
        direct_verdict=direct_kind,
        via_verdict=via_kind,
        deltas=deltas,
        attribution=attribution,
        path_at_fault=at_fault,
        notes=tuple(_notes(direct, via, deltas)),
    )


def side_verdict(results: Sequence[ProbeResult]) -> VerdictKind | None:
    """The most common verdict; on a tie the worse one."""
    counts = Counter(r.verdict.kind for r in results)
    if not counts:
        return None
    return min(counts, key=lambda kind: (-counts[kind], PRIORITY[kind]))


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _delta(
    name: str,
    get: Callable[[ProbeResult], float | None],
    direct: Sequence[ProbeResult],
    via: Sequence[ProbeResult],
) -> MetricDelta:
    d, v = _median([get(r) for r in direct]), _median([get(r) for r in via])
    return MetricDelta(name, d, v, None if d is None or v is None else v - d)


def _attribute(
    direct: Sequence[ProbeResult],
    via: Sequence[ProbeResult],
    direct_kind: VerdictKind | None,
    via_kind: VerdictKind | None,
    deltas: tuple[MetricDelta, ...],
) -> tuple[str, bool]:
    if direct_kind is None or via_kind is None:
        return "nothing to compare: one side has no runs", False
    get = {d.name: d for d in deltas}
    if via_kind is VerdictKind.CUT:
        return _cut_words(direct, via, direct_kind)
    if via_kind is VerdictKind.INVALID and direct_kind is not VerdictKind.INVALID:
        return "the path breaks the stream (INVALID via the path, not direct)", True
    if via_kind in _HELD and direct_kind not in _HELD:
        ttft, last = get["ttft_s"], get["e2e_last_token_s"]
        end = ""
        if ttft.via is not None and last.via is not None and ttft.via >= 0.9 * last.via:
            end = " = end of stream"
        sentence = (
            "the path holds content until the end: direct TTFT "
            f"{format_seconds_or_dash(ttft.direct)}, via path "
            f"{format_seconds_or_dash(ttft.via)}{end}"
        )
        return _compressed(via, sentence), True
    bursty = (VerdictKind.BURSTY, VerdictKind.COMPRESSED)
    if via_kind in bursty and direct_kind not in (*bursty, *_HELD):
        burst = get["max_burst_events"]
        sentence = (
            f"the path coalesces tokens into {_burst_shape(via)} (max {_n(burst.via)} events per "
            f"read via the path, {_n(burst.direct)} direct)"
        )
        return _compressed(via, sentence), True
    if via_kind in (*bursty, *_HELD) and direct_kind in (*bursty, *_HELD):
        return (
            f"the direct stream is already {direct_kind.value}: the server batches or holds "
            "tokens, not (only) the path"
        ), False
    ttft = get["ttft_s"]
    if via_kind is VerdictKind.SLOW_START and direct_kind is not VerdictKind.SLOW_START:
        return (
            f"the path delays the first token: direct TTFT {format_seconds_or_dash(ttft.direct)}, "
            f"via path {format_seconds_or_dash(ttft.via)}"
        ), True
    if _itl_tell(get["itl_p50_s"]):
        itl = get["itl_p50_s"]
        return (
            "the path delivers tokens in bunches: ITL p50 via the path "
            f"{format_seconds_or_dash(itl.via)} is lower than direct "
            f"{format_seconds_or_dash(itl.direct)}, a buffering tell"
        ), True
    d = ttft.delta
    material = (
        d is not None and ttft.direct is not None and abs(d) >= max(MATERIAL_S, 0.1 * ttft.direct)
    )
    if material and d is not None and d > 0:
        return (
            f"the path adds {format_seconds_or_dash(d)} to TTFT; delivery is otherwise the same",
            True,
        )
    if material and d is not None:
        return (
            f"TTFT via the path is {format_seconds_or_dash(-d)} lower than direct (run-to-run "
            "variation); delivery is otherwise the same"
        ), False
    return "no material difference", False


def _cut_words(
    direct: Sequence[ProbeResult], via: Sequence[ProbeResult], direct_kind: VerdictKind
) -> tuple[str, bool]:
    cuts = [r.verdict.cut for r in via if r.verdict.cut is not None]
    at = _median([c.at_s for c in cuts])
    kinds = Counter(c.kind for c in cuts)
    kind = kinds.most_common(1)[0][0] if kinds else CutKind.UNKNOWN
    if direct_kind is VerdictKind.CUT:
        direct_at = _median([r.verdict.cut.at_s for r in direct if r.verdict.cut is not None])
        return (
            f"both streams are cut (direct at {format_seconds_or_dash(direct_at)}, via the path at "
            f"{format_seconds_or_dash(at)}): the server side ends early, not (only) the path"
        ), False
    if kind is CutKind.BEFORE_HEADERS:
        statuses = Counter(c.status for c in cuts).most_common(1)
        status = statuses[0][0] if statuses else None
        what = f"answers {status}" if status is not None else "drops the connection"
        return (
            f"the path {what} at {format_seconds_or_dash(at)} while the direct server streams",
            True,
        )
    timer = {CutKind.IDLE: " (idle timer)", CutKind.TOTAL: " (total timer)"}.get(kind, "")
    return (
        f"the path cuts the stream at {format_seconds_or_dash(at)}{timer} while the direct stream "
        "completes",
        True,
    )


def _burst_shape(via: Sequence[ProbeResult]) -> str:
    sizes = [
        r.verdict.burst.size_bytes for r in via if r.verdict.burst and r.verdict.burst.size_bytes
    ]
    if sizes:
        return f"bursts of ~{format_bytes(Counter(sizes).most_common(1)[0][0])}"
    periods = [
        r.verdict.burst.period_s for r in via if r.verdict.burst and r.verdict.burst.period_s
    ]
    if periods:
        return f"a burst every ~{format_seconds_or_dash(statistics.median(periods))}"
    return "bursts"


def _compressed(via: Sequence[ProbeResult], sentence: str) -> str:
    if any(r.verdict.kind is VerdictKind.COMPRESSED for r in via):
        encodings = sorted(
            {r.timeline.content_encoding for r in via if r.timeline.content_encoding}
        )
        return f"{sentence}; the path compresses the stream ({', '.join(encodings)})"
    return sentence


def _itl_tell(itl: MetricDelta) -> bool:
    """FACTS §16: a lower inter-token latency through the proxy than direct means the proxy
    delivers tokens together."""
    if itl.direct is None or itl.via is None:
        return False
    return itl.direct >= 0.005 and itl.via < 0.5 * itl.direct


def _notes(
    direct: Sequence[ProbeResult], via: Sequence[ProbeResult], deltas: tuple[MetricDelta, ...]
) -> list[str]:
    notes = [f"medians over {len(direct)} direct and {len(via)} via-path runs"]
    events = next(d for d in deltas if d.name == "content_events")
    if (
        events.direct
        and events.via is not None
        and abs(events.via - events.direct) > 0.2 * events.direct
    ):
        notes.append(
            f"the sides produced different amounts of content ({_n(events.direct)} vs "
            f"{_n(events.via)} events): compare like with like (same prompt, max tokens, seed)"
        )
    itl = next(d for d in deltas if d.name == "itl_p50_s")
    if _itl_tell(itl):
        notes.append(
            f"ITL p50 via the path ({format_seconds_or_dash(itl.via)}) is lower than direct "
            f"({format_seconds_or_dash(itl.direct)}): a buffering tell"
        )
    return notes


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
