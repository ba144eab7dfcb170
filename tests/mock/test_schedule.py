"""Schedules: which writes a response makes and when. Pure, no sockets, no sleeping."""

from __future__ import annotations

import itertools

import pytest

from tokenpath.mock.scenarios import Pause, Scenario, parse_scenario
from tokenpath.mock.schedule import Step, StepKind, build_schedule
from tokenpath.mock.text import token_text

MS = 1_000_000
BASE = Scenario()


def kinds(steps: tuple[Step, ...]) -> list[str]:
    return [step.kind.value for step in steps]


def test_default_schedule_offsets() -> None:
    steps = build_schedule(Scenario(tokens=3))
    assert kinds(steps) == ["content", "content", "content", "done"]
    assert [step.at_ns for step in steps] == [50 * MS, 70 * MS, 90 * MS, 90 * MS]
    assert [step.count for step in steps] == [1, 2, 3, 3]
    assert [step.event for step in steps[:3]] == [1, 2, 3]
    assert [step.last for step in steps] == [False, False, True, False]
    assert [step.end for step in steps] == [False, False, False, True]
    assert steps[0].tokens == (token_text(0, 0),)


def test_chat_shape_role_before_first_token_and_usage_before_done() -> None:
    steps = build_schedule(Scenario(tokens=2), role=True, usage=True)
    assert kinds(steps) == ["role", "content", "content", "usage", "done"]
    assert steps[0].at_ns == steps[1].at_ns == 50 * MS
    assert steps[3].count == 2


def test_tgi_shape_the_last_content_event_ends_the_body() -> None:
    steps = build_schedule(Scenario(tokens=2), terminator=False)
    assert kinds(steps) == ["content", "content"]
    assert steps[-1].last
    assert steps[-1].end


def test_no_tokens_still_terminates() -> None:
    assert kinds(build_schedule(Scenario(tokens=0), role=True)) == ["role", "done"]
    assert kinds(build_schedule(Scenario(tokens=0), terminator=False)) == ["done"]


def test_per_event_groups_tokens_and_max_tokens_bounds_them() -> None:
    steps = build_schedule(Scenario(tokens=10, per_event=4), max_tokens=7)
    content = [step for step in steps if step.kind is StepKind.CONTENT]
    assert [len(step.tokens) for step in content] == [4, 3]
    assert content[-1].count == 7


def test_rate_sets_the_interval() -> None:
    steps = build_schedule(Scenario(tokens=3, per_event=1, rate=100, ttft=0))
    assert [step.at_ns for step in steps] == [0, 10 * MS, 20 * MS, 20 * MS]


def test_header_delay_is_not_in_the_schedule() -> None:
    assert build_schedule(Scenario(tokens=1, headers=5))[0].at_ns == 50 * MS


def test_pause_after_token_n() -> None:
    steps = build_schedule(Scenario(tokens=4, ttft=0, itl=0.01, pause=(Pause(2, 1.0),)))
    assert [step.at_ns for step in steps] == [0, 10 * MS, 1020 * MS, 1030 * MS, 1030 * MS]


def test_pause_at_zero_adds_to_ttft_and_after_last_delays_the_end() -> None:
    scenario = Scenario(tokens=1, ttft=0.1, pause=(Pause(0, 0.5), Pause(1, 0.25)))
    assert [step.at_ns for step in build_schedule(scenario)] == [600 * MS, 850 * MS]


def test_pause_inside_a_multi_token_event_applies_after_that_event() -> None:
    scenario = Scenario(tokens=4, per_event=2, ttft=0, itl=0.01, pause=(Pause(1, 1.0),))
    assert [step.at_ns for step in build_schedule(scenario)] == [0, 1010 * MS, 1010 * MS]


def test_heartbeats_fill_silences_longer_than_the_period() -> None:
    scenario = Scenario(tokens=2, ttft=0.35, itl=0.02, heartbeat=0.1, pause=(Pause(1, 0.25),))
    steps = build_schedule(scenario)
    assert kinds(steps) == ["heartbeat"] * 3 + ["content"] + ["heartbeat"] * 2 + [
        "content",
        "done",
    ]
    assert [step.at_ns for step in steps] == [
        100 * MS, 200 * MS, 300 * MS, 350 * MS, 450 * MS, 550 * MS, 620 * MS, 620 * MS,
    ]  # fmt: skip


def test_heartbeats_are_off_for_ndjson() -> None:
    scenario = Scenario(tokens=1, ttft=1.0, heartbeat=0.1)
    assert kinds(build_schedule(scenario, heartbeats=False)) == ["content", "done"]


def test_jitter_is_seeded_bounded_and_does_not_accumulate() -> None:
    scenario = Scenario(tokens=200, ttft=0, itl=0.01, jitter=0.5, seed=4)
    steps = build_schedule(scenario)
    assert steps == build_schedule(scenario)
    gaps = [b.at_ns - a.at_ns for a, b in itertools.pairwise(steps[:-1])]  # without DONE
    assert all(5 * MS <= gap <= 15 * MS for gap in gaps)
    assert len(set(gaps)) > 10
    assert steps != build_schedule(Scenario(tokens=200, ttft=0, itl=0.01, jitter=0.5, seed=5))
    # offsets are sums of independent gaps: the mean stays close to the nominal ITL
    assert abs(steps[-1].at_ns - 199 * 10 * MS) < 199 * 10 * MS * 0.1


@pytest.mark.parametrize("fault", ["fin", "rst", "truncate"])
def test_fault_takes_the_place_of_event_n_plus_one(fault: str) -> None:
    steps = build_schedule(parse_scenario(f"tokens=5;{fault}=2", BASE))
    assert kinds(steps) == ["content", "content", fault]
    assert steps[-1].at_ns == 90 * MS  # when event 3 was due
    assert steps[-1].event == 3
    assert steps[-1].tokens == (token_text(0, 2),)
    assert not any(step.end for step in steps)


def test_fault_after_all_events_replaces_the_terminator() -> None:
    steps = build_schedule(parse_scenario("tokens=2;fin=5", BASE), usage=True)
    assert kinds(steps) == ["content", "content", "fin"]
    steps = build_schedule(parse_scenario("tokens=2;fin=2", BASE), terminator=False)
    assert kinds(steps) == ["content", "content", "fin"]
    assert not steps[1].end


def test_fin_zero_closes_before_any_content_but_after_the_role_chunk() -> None:
    assert kinds(build_schedule(parse_scenario("fin=0", BASE), role=True)) == ["role", "fin"]


def test_the_earliest_fault_wins() -> None:
    steps = build_schedule(parse_scenario("tokens=9;fin=5;rst=2", BASE))
    assert steps[-1].kind is StepKind.RST


def test_error_after_n_tokens_ends_without_terminator() -> None:
    steps = build_schedule(Scenario(tokens=10, per_event=3, error_after=4), usage=True)
    assert kinds(steps) == ["content", "content", "error"]
    assert steps[1].tokens == (token_text(0, 3),)
    assert not steps[1].last
    assert steps[-1].count == 4
    assert steps[-1].end


def test_error_after_on_tgi_is_not_a_final_event() -> None:
    steps = build_schedule(Scenario(tokens=2, error_after=2), terminator=False)
    assert kinds(steps) == ["content", "content", "error"]
    assert not steps[1].last


def test_bad_events_are_marked() -> None:
    steps = build_schedule(Scenario(tokens=3, bad_utf8=1, bad_json=3))
    assert [(s.bad_utf8, s.bad_json) for s in steps[:3]] == [
        (True, False),
        (False, False),
        (False, True),
    ]
