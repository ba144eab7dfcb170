"""The pure decisions of ``probe --diagnose``, on synthetic outcomes (no I/O)."""

from __future__ import annotations

import dataclasses

import pytest

from tokenpath.probe.diagnose import run_diagnosis
from tokenpath.probe.diagnosis import (
    Bisection,
    Buffering,
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
    header_delay_scenario,
    pause_scenario,
    resolution_for,
    total_scenario,
)
from tokenpath.probe.request import ProbeRequest
from tokenpath.report.diagnose import diagnosis_to_dict, render_diagnosis_text


def outcome(**changes: object) -> Outcome:
    base = Outcome(
        scenario="s",
        status=200,
        completed=True,
        verdict="STREAMING",
        pattern="",
        headers_s=0.01,
        end_s=1.0,
        cut_at_s=None,
        cut_silence_s=None,
        content_events=20,
        comment_events=0,
        framing="chunked",
        content_encoding="",
        ttft_s=0.05,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_scenarios_use_the_mock_grammar():
    assert pause_scenario(2.5) == "ttft=0;itl=20ms;tokens=6;pause=3@2500ms"
    assert pause_scenario(2.5, 0.5).endswith(";heartbeat=500ms")
    assert header_delay_scenario(1).startswith("headers=1000ms;")
    assert "tokens=50" in total_scenario(5)


def test_no_buffering_when_both_probes_stream():
    f = decide_buffering(outcome(), outcome())
    assert f.mode is Buffering.NONE
    assert len(f.evidence) == 2


def test_buffering_by_size_takes_the_typical_burst():
    padded = outcome(verdict="BURSTY", pattern="bursts", burst_bytes=(3869, 4096, 4096, 4096, 2000))
    f = decide_buffering(outcome(verdict="BUFFERED", pattern="held_to_end"), padded)
    assert f.mode is Buffering.BY_SIZE
    assert f.threshold_bytes == 4096
    assert any("3869" in e for e in f.evidence)


def test_buffering_by_size_prefers_the_verdicts_buffer_size():
    padded = outcome(verdict="BURSTY", burst_bytes=(4000, 4100), burst_size_bytes=4096)
    assert decide_buffering(outcome(), padded).threshold_bytes == 4096


def test_buffering_by_time():
    padded = outcome(verdict="BURSTY", burst_bytes=(900, 1300), burst_period_s=0.1)
    f = decide_buffering(outcome(), padded)
    assert f.mode is Buffering.BY_TIME
    assert f.period_s == 0.1


def test_buffering_until_end():
    held = outcome(verdict="BUFFERED", pattern="held_to_end", likely_causes=("cause A",))
    f = decide_buffering(held, held)
    assert f.mode is Buffering.UNTIL_END
    assert f.likely_cause == "cause A"


def test_buffering_unknown_when_a_probe_was_cut():
    f = decide_buffering(outcome(completed=False, verdict="CUT"), outcome())
    assert f.mode is Buffering.UNKNOWN


def test_bisection_first_tries_the_top_and_stops_when_nothing_cuts():
    b = Bisection(0.0, 6.0, 1.0)
    assert b.next_point() == 6.0
    b.record(6.0, cut=False)
    assert b.no_timer
    assert b.next_point() is None


def test_bisection_narrows_to_the_resolution_using_the_observed_cut():
    timeout = 3.0
    b = Bisection(0.0, 6.0, resolution_for(6.0))
    probes = 0
    while (x := b.next_point()) is not None:
        probes += 1
        cut = x > timeout
        b.record(x, cut, observed_s=timeout - 0.2 if cut else None)
    assert probes <= 4
    assert b.lo <= timeout <= b.hi
    assert b.plus_minus <= 0.5


def test_bisection_without_an_observed_cut_time_still_converges():
    timeout = 60.0
    b = Bisection(0.0, 120.0, resolution_for(120.0))
    while (x := b.next_point()) is not None:
        b.record(x, x > timeout)
    assert b.lo <= timeout <= b.hi
    assert b.hi - b.lo <= 2.0  # ±1 s


def test_resolution_is_finer_for_small_ranges():
    assert resolution_for(120) == 2.0
    assert resolution_for(3) == 0.5


def test_idle_finding_reports_the_bracket_and_status():
    b = Bisection(2.5, 3.3, 1.0, tested_hi=True)
    tried = [(6.0, outcome(completed=False, status=504, headers_s=2.9)), (2.5, outcome())]
    f = decide_idle("idle_before_headers", b, tried, 6.0)
    assert f.found
    assert f.status == 504
    assert f.complete
    assert f.estimate_s == pytest.approx(2.9)
    assert "cut (status 504" in f.evidence[0]


def test_idle_finding_none():
    b = Bisection(6.0, 6.0, 1.0, no_timer=True)
    f = decide_idle("idle_after_headers", b, [(6.0, outcome())], 6.0)
    assert not f.found
    assert f.complete


def test_total_timeout_cut_while_flowing():
    o = outcome(completed=False, verdict="CUT", cut_at_s=15.02, cut_silence_s=0.1, status=200)
    f = decide_total(o, 100.0)
    assert f.found
    assert f.estimate_s == pytest.approx(15.02)
    assert not decide_total(outcome(), 100.0).found
    assert not decide_total(None, 0.0).found


def test_heartbeats():
    alive = decide_heartbeat(outcome(comment_events=8), 4.0, 0.7)
    assert alive.tested
    assert alive.keeps_alive
    dead = decide_heartbeat(outcome(completed=False, status=200), 4.0, 0.7)
    assert dead.keeps_alive is False
    assert decide_heartbeat(None, 0, 0).tested is False


def test_compression_applied_and_delaying():
    gzip = outcome(
        content_encoding="gzip", verdict="COMPRESSED", burst_bytes=(300,), accept_encoding="gzip"
    )
    f = decide_compression(outcome(), gzip)
    assert f.applied
    assert f.delays_events
    assert f.encoding == "gzip"
    assert not decide_compression(outcome(), outcome(content_encoding="gzip")).delays_events
    assert not decide_compression(outcome(), outcome()).applied


def test_framing_change():
    assert not decide_framing(outcome(), outcome(framing="length")).changed
    f = decide_framing(outcome(framing="close"), outcome(framing="chunked"))
    assert f.changed
    assert any("HTTP/1.0" in e for e in f.evidence)


class FakePath:
    """A path with an idle timer of ``timeout`` s (504 before headers, cut after) and no
    buffering; answers from the scenario text alone."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.now = 0.0
        self.scenarios: list[str] = []

    def clock(self) -> float:
        return self.now

    def __call__(self, request: ProbeRequest) -> Outcome:
        scenario = dict(request.headers)["X-Tokenpath-Scenario"]
        self.scenarios.append(scenario)
        items = dict(i.split("=", 1) for i in scenario.split(";"))
        silence = 0.0
        if "headers" in items:
            silence = float(items["headers"].removesuffix("ms")) / 1000
        if "pause" in items and "heartbeat" not in items:
            silence = float(items["pause"].split("@")[1].removesuffix("ms")) / 1000
        cut = silence > self.timeout
        self.now += min(silence, self.timeout) + 0.5
        before = "headers" in items
        return outcome(
            scenario=scenario,
            completed=not cut,
            status=504 if cut and before else 200,
            headers_s=self.timeout if cut and before else 0.01,
            cut_silence_s=self.timeout if cut and not before else None,
            verdict="CUT" if cut else "STREAMING",
            accept_encoding=request.accept_encoding,
        )


def test_run_diagnosis_with_a_fake_path(monkeypatch: pytest.MonkeyPatch):
    import tokenpath.probe.diagnose as engine

    path = FakePath(3.0)
    monkeypatch.setattr(engine, "outcome_of", lambda result, scenario, enc: result)
    d = run_diagnosis(
        ProbeRequest("http://example.test/v1/chat/completions"),
        budget_s=60,
        max_idle_s=6,
        max_total_s=5,
        runner=path,  # type: ignore[arg-type]
        clock=path.clock,
    )
    assert d.buffering is not None
    assert d.buffering.mode is Buffering.NONE
    assert d.idle_before_headers is not None
    assert d.idle_before_headers.status == 504
    assert d.idle_after_headers is not None
    assert d.idle_after_headers.found
    assert d.idle_after_headers.estimate_s == pytest.approx(3.0, abs=1.0)
    assert d.heartbeats is not None
    assert d.heartbeats.keeps_alive
    assert d.total is not None
    assert not d.total.found
    assert not d.budget_exhausted
    assert diagnosis_to_dict(d)["schema_version"] == 1
    assert "idle timeout before headers: 2.9 s" in render_diagnosis_text(d)


def test_run_diagnosis_stops_when_the_budget_runs_out(monkeypatch: pytest.MonkeyPatch):
    import tokenpath.probe.diagnose as engine

    path = FakePath(3.0)
    monkeypatch.setattr(engine, "outcome_of", lambda result, scenario, enc: result)
    d = run_diagnosis(
        ProbeRequest("http://example.test/"),
        budget_s=4,
        max_idle_s=6,
        runner=path,  # type: ignore[arg-type]
        clock=path.clock,
    )
    assert d.budget_exhausted
    assert d.probes <= 6
    assert "budget exhausted" in render_diagnosis_text(d)


def test_bisection_probes_just_below_an_observed_cut():
    b = Bisection(0.0, 90.0, resolution_for(90.0))
    assert b.next_point() == 90.0
    b.record(90.0, cut=True, observed_s=59.8)
    below = b.next_point()
    assert below is not None
    assert 58.0 < below < 60.15
    b.record(below, cut=False)
    assert b.next_point() is None
    assert b.lo <= 60.0 <= b.hi


def test_a_timer_that_ignores_heartbeats_is_named_a_total_timer() -> None:
    idle = TimeoutFinding("idle_after_headers", True, 3.5, 4.2, 6.0, True, 200, ("cut",), "idle")
    beats = HeartbeatFinding(True, False, ("cut despite comments",))
    d = Diagnosis(
        url="http://x",
        budget_s=30,
        max_idle_s=6,
        elapsed_s=1,
        probes=5,
        budget_exhausted=False,
        buffering=None,
        idle_before_headers=None,
        idle_after_headers=idle,
        total=None,
        heartbeats=beats,
        compression=None,
        framing=None,
    )
    assert d.timer_ignores_heartbeats
    assert d.likely_cause is not None
    assert "total" in d.likely_cause
    assert "not an idle one" in d.likely_cause
