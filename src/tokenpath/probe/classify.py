"""Timeline in, verdict out: ``analyse(timeline) -> ProbeResult``. Pure: no I/O, no clocks.

``probe.measurement`` measures (events, timings, end state), ``probe.decision`` decides, and
``probe.causes`` turns the verdict plus the hops seen in the headers into "likely causes".
This module is the public entry point and re-exports the types callers need.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tokenpath.probe.causes import CAUSES, Cause, likely_causes
from tokenpath.probe.decision import decide
from tokenpath.probe.hops import Hop, detect_hops
from tokenpath.probe.measurement import EndState, EventRecord, measure
from tokenpath.probe.metrics import Metrics
from tokenpath.probe.timeline import Timeline
from tokenpath.probe.verdict import (
    BurstInfo,
    CutInfo,
    CutKind,
    Thresholds,
    Verdict,
    VerdictKind,
)

__all__ = [
    "CAUSES",
    "DEFAULT_THRESHOLDS",
    "BurstInfo",
    "Cause",
    "CutInfo",
    "CutKind",
    "EndState",
    "EventRecord",
    "Hop",
    "Metrics",
    "ProbeResult",
    "Thresholds",
    "Verdict",
    "VerdictKind",
    "analyse",
]

DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class ProbeResult:
    timeline: Timeline
    end_state: EndState
    metrics: Metrics
    verdict: Verdict
    hops: tuple[Hop, ...]
    events: tuple[EventRecord, ...]


def analyse(timeline: Timeline, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> ProbeResult:
    """Measure the timeline, decide the verdict, and name the likely causes."""
    hops = detect_hops(timeline.headers)
    measurement = measure(timeline)
    verdict = decide(timeline, measurement, hops, thresholds)
    causes = likely_causes(verdict, timeline, measurement.metrics, hops)
    return ProbeResult(
        timeline=timeline,
        end_state=measurement.end_state,
        metrics=measurement.metrics,
        verdict=replace(verdict, likely_causes=causes),
        hops=hops,
        events=measurement.records,
    )
