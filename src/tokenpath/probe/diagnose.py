"""``probe --diagnose``: a bounded sequence of tokenpath-mock scenario probes through one URL.

The decisions (which silence to try next, what an answer means) live in
``probe.diagnosis``; this module only sends the probes, in this order, and stops by itself
when the budget runs out: buffering (fast small events, then 1 KB events), framing,
compression, idle timeout before headers (header-delay bisection), idle timeout after
headers (pause bisection), heartbeats during a pause longer than that timeout, and a long
generation for a total timer with whatever budget is left.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from tokenpath.probe.classify import ProbeResult, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.diagnosis import (
    FAST_SCENARIO,
    LENGTH_SCENARIO,
    PADDED_SCENARIO,
    PAUSE_ITL_S,
    Bisection,
    Diagnosis,
    HeartbeatFinding,
    Outcome,
    TimeoutFinding,
    decide_buffering,
    decide_compression,
    decide_framing,
    decide_heartbeat,
    decide_idle,
    decide_total,
    header_cut_silence,
    header_delay_scenario,
    outcome_of,
    pause_cut_silence,
    pause_scenario,
    resolution_for,
    total_scenario,
)
from tokenpath.probe.request import ProbeRequest

SCENARIO_HEADER = "X-Tokenpath-Scenario"
_CLIENT_SLACK_S = 5.0  # the probe's own idle timeout is the silence tried plus this
_MIN_PROBE_S = 1.0  # do not start a probe with less budget than this left

Runner = Callable[[ProbeRequest], ProbeResult]
Progress = Callable[[str], None]


def _default_runner(request: ProbeRequest) -> ProbeResult:
    return analyse(fetch(request))


class _BudgetExhausted(Exception):
    pass


@dataclasses.dataclass(slots=True)
class _Session:
    base: ProbeRequest
    budget_s: float
    runner: Runner
    progress: Progress
    clock: Callable[[], float]
    t0: float = 0.0
    probes: int = 0
    exhausted: bool = False

    def remaining(self) -> float:
        return self.budget_s - (self.clock() - self.t0)

    def probe(
        self, scenario: str, *, expect_s: float, accept_encoding: str = "identity"
    ) -> Outcome:
        left = self.remaining()
        if left < max(_MIN_PROBE_S, min(expect_s, left + 1)):
            self.exhausted = True
            raise _BudgetExhausted
        headers = tuple(h for h in self.base.headers if h[0].lower() != SCENARIO_HEADER.lower())
        request = dataclasses.replace(
            self.base,
            headers=(*headers, (SCENARIO_HEADER, scenario)),
            timeout_s=expect_s + _CLIENT_SLACK_S,
            max_time_s=max(0.5, left),
            accept_encoding=accept_encoding,
        )
        self.probes += 1
        self.progress(f"diagnose probe {self.probes}: {scenario}")
        return outcome_of(self.runner(request), scenario, accept_encoding)


def run_diagnosis(
    base: ProbeRequest,
    *,
    budget_s: float,
    max_idle_s: float,
    max_total_s: float | None = None,
    runner: Runner = _default_runner,
    progress: Progress = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
) -> Diagnosis:
    """Run the diagnose probes against ``base.url`` within ``budget_s`` seconds.

    ``max_idle_s`` bounds the idle-timeout searches; ``max_total_s`` bounds the long
    generation (default: whatever budget is left).
    """
    s = _Session(base, budget_s, runner, progress, clock, t0=clock())
    found: dict[str, object] = {}
    try:
        fast = s.probe(FAST_SCENARIO, expect_s=2)
        padded = s.probe(PADDED_SCENARIO, expect_s=3)
        found["buffering"] = decide_buffering(fast, padded)
        length = s.probe(LENGTH_SCENARIO, expect_s=2)
        found["framing"] = decide_framing(fast, length)
        gzip = s.probe(FAST_SCENARIO, expect_s=2, accept_encoding="gzip, deflate")
        found["compression"] = decide_compression(fast, gzip)
        found["idle_before_headers"] = _bisect(
            s, "idle_before_headers", max_idle_s, header_delay_scenario, header_cut_silence
        )
        after = _bisect(s, "idle_after_headers", max_idle_s, pause_scenario, pause_cut_silence)
        found["idle_after_headers"] = after
        found["heartbeats"] = _heartbeats(s, after)
        planned = s.remaining() - 1.0
        if max_total_s is not None:
            planned = min(planned, max_total_s)
        if planned >= _MIN_PROBE_S:
            total = s.probe(total_scenario(planned), expect_s=planned)
            found["total"] = decide_total(total, planned)
        else:
            s.exhausted = True
            found["total"] = decide_total(None, 0.0)
    except _BudgetExhausted:
        pass
    return Diagnosis(
        url=base.url,
        budget_s=budget_s,
        max_idle_s=max_idle_s,
        elapsed_s=clock() - s.t0,
        probes=s.probes,
        budget_exhausted=s.exhausted,
        buffering=found.get("buffering"),  # type: ignore[arg-type]
        idle_before_headers=found.get("idle_before_headers"),  # type: ignore[arg-type]
        idle_after_headers=found.get("idle_after_headers"),  # type: ignore[arg-type]
        total=found.get("total"),  # type: ignore[arg-type]
        heartbeats=found.get("heartbeats"),  # type: ignore[arg-type]
        compression=found.get("compression"),  # type: ignore[arg-type]
        framing=found.get("framing"),  # type: ignore[arg-type]
    )


def _bisect(
    s: _Session,
    name: str,
    max_idle_s: float,
    scenario_for: Callable[[float], str],
    observed: Callable[[Outcome], float | None],
) -> TimeoutFinding:
    bisection = Bisection(0.0, max_idle_s, resolution_for(max_idle_s))
    tried: list[tuple[float, Outcome]] = []
    searched = 0.0
    while (point := bisection.next_point()) is not None:
        try:
            outcome = s.probe(scenario_for(point), expect_s=point + 1.0)
        except _BudgetExhausted:
            break
        tried.append((point, outcome))
        searched = max(searched, point)
        silence = observed(outcome) if outcome.cut else None
        bisection.record(point + PAUSE_ITL_S, outcome.cut, silence)
    return decide_idle(name, bisection, tried, searched)


def _heartbeats(s: _Session, idle: TimeoutFinding) -> HeartbeatFinding:
    if not idle.found or idle.low_s is None or idle.high_s is None or idle.low_s <= 0:
        return decide_heartbeat(None, 0.0, 0.0)
    pause = idle.high_s + max(1.0, idle.high_s * 0.5)
    heartbeat = max(0.05, idle.low_s / 4)
    try:
        outcome = s.probe(pause_scenario(pause, heartbeat), expect_s=pause + 1.0)
    except _BudgetExhausted:
        return HeartbeatFinding(False, None, ("not tested: budget exhausted",))
    return decide_heartbeat(outcome, pause, heartbeat)
