"""Scenario grammar and schedules: pure, no sockets, no sleeping."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenpath.errors import UsageError
from tokenpath.mock.scenarios import (
    KEYS,
    WORDS,
    Accel,
    Eol,
    Framing,
    Pause,
    Scenario,
    Step,
    StepKind,
    build_schedule,
    format_scenario,
    generate_text,
    parse_scenario,
    token_text,
)

MS = 1_000_000
BASE = Scenario()


# ---------------------------------------------------------------------------- parsing


def test_defaults_match_the_documented_grammar() -> None:
    assert BASE.seed == 0
    assert BASE.tokens == 20
    assert BASE.per_event == 1
    assert BASE.headers == 0
    assert BASE.ttft == pytest.approx(0.05)
    assert BASE.itl == pytest.approx(0.02)
    assert BASE.rate is None
    assert BASE.heartbeat is None
    assert (BASE.eol, BASE.framing, BASE.accel) == (Eol.LF, Framing.AUTO, Accel.NONE)
    assert [doc.key for doc in KEYS] == [
        "seed", "tokens", "per_event", "headers", "ttft", "itl", "rate", "jitter", "pad",
        "pause", "heartbeat", "eol", "framing", "accel", "ctype", "usage", "fin", "rst",
        "truncate", "status", "error_after", "bad_utf8", "bad_json",
    ]  # fmt: skip


def test_parse_every_key() -> None:
    text = (
        "seed=7;tokens=5;per_event=2;headers=1.5;ttft=250ms;itl=2s;jitter=0.5;pad=4k;"
        "pause=5@2s,10@1m;heartbeat=100ms;eol=crlf;framing=length;accel=no;"
        "ctype=text/plain%3B charset=x;usage=on;fin=1;rst=2;truncate=3;status=503;"
        "error_after=4;bad_utf8=5;bad_json=6"
    )
    assert parse_scenario(text, BASE) == Scenario(
        seed=7,
        tokens=5,
        per_event=2,
        headers=1.5,
        ttft=0.25,
        itl=2.0,
        jitter=0.5,
        pad=4096,
        pause=(Pause(5, 2.0), Pause(10, 60.0)),
        heartbeat=0.1,
        eol=Eol.CRLF,
        framing=Framing.LENGTH,
        accel=Accel.NO,
        ctype="text/plain; charset=x",
        usage=True,
        fin=1,
        rst=2,
        truncate=3,
        status=503,
        error_after=4,
        bad_utf8=5,
        bad_json=6,
    )


def test_parse_is_lenient_about_spacing_case_dashes_and_empty_items() -> None:
    scenario = parse_scenario(" TTFT = 1s ; error-after=3;; ", BASE)
    assert scenario.ttft == 1.0
    assert scenario.error_after == 3


def test_empty_text_keeps_the_base() -> None:
    base = Scenario(tokens=3)
    assert parse_scenario("", base) is base


def test_off_clears_optional_keys() -> None:
    base = Scenario(fin=3, heartbeat=1.0, pause=(Pause(1, 1.0),), rate=10.0)
    cleared = parse_scenario("fin=off;heartbeat=0;pause=off;rate=off", base)
    assert (cleared.fin, cleared.heartbeat, cleared.pause, cleared.rate) == (None, None, (), None)


def test_rate_and_itl_are_one_knob_and_the_last_one_wins() -> None:
    with_rate = parse_scenario("per_event=2;rate=50", BASE)
    assert with_rate.interval == pytest.approx(0.04)
    back = parse_scenario("itl=10ms", with_rate)
    assert back.rate is None
    assert back.interval == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("bogus=1", "bogus"),
        ("ttft=fast", "ttft"),
        ("tokens=-1", "tokens"),
        ("tokens=x", "tokens"),
        ("per_event=0", "per_event"),
        ("jitter=2", "jitter"),
        ("rate=0", "rate"),
        ("rate=nan", "rate"),
        ("pause=5", "pause"),
        ("pause=x@1s", "pause"),
        ("eol=crcr", "eol"),
        ("framing=gzip", "framing"),
        ("accel=maybe", "accel"),
        ("usage=perhaps", "usage"),
        ("status=99", "status"),
        ("status=204", "status"),
        ("pad=lots", "pad"),
        ("fin=-2", "fin"),
    ],
)
def test_bad_values_name_the_key(text: str, key: str) -> None:
    with pytest.raises(UsageError, match=repr(key)):
        parse_scenario(text, BASE)


def test_item_without_equals_is_an_error() -> None:
    with pytest.raises(UsageError, match="not key=value"):
        parse_scenario("ttft", BASE)


durations = st.integers(0, 10**6).map(lambda ms: ms / 1000)
scenarios = st.builds(
    Scenario,
    seed=st.integers(0, 2**31),
    tokens=st.integers(0, 1000),
    per_event=st.integers(1, 8),
    headers=durations,
    ttft=durations,
    itl=durations,
    rate=st.none() | st.floats(0.5, 1e4),
    jitter=st.sampled_from([0.0, 0.25, 1.0]),
    pad=st.integers(0, 1 << 16),
    pause=st.lists(st.builds(Pause, st.integers(0, 50), durations), max_size=3).map(tuple),
    heartbeat=st.none() | durations.filter(lambda d: d > 0),
    eol=st.sampled_from(Eol),
    framing=st.sampled_from(Framing),
    accel=st.sampled_from(Accel),
    ctype=st.none() | st.sampled_from(["text/plain", "text/event-stream; charset=utf-8"]),
    usage=st.booleans(),
    fin=st.none() | st.integers(0, 9),
    status=st.none() | st.sampled_from([429, 500, 503]),
    error_after=st.none() | st.integers(0, 9),
)


@given(scenarios, st.sampled_from([BASE, Scenario(rate=5.0, fin=2, tokens=7)]))
def test_format_then_parse_round_trips(scenario: Scenario, base: Scenario) -> None:
    assert parse_scenario(format_scenario(scenario, base), base) == scenario


def test_format_writes_only_what_differs() -> None:
    assert format_scenario(Scenario(ttft=2.0, fin=5)) == "ttft=2.0;fin=5"
    assert format_scenario(BASE) == ""


# ---------------------------------------------------------------------------- text


def test_text_is_a_deterministic_function_of_seed_and_index() -> None:
    assert token_text(3, 5) == token_text(3, 5)
    assert generate_text(3, 4) == "".join(token_text(3, i) for i in range(4))
    assert token_text(0, 0).strip() in WORDS
    assert token_text(0, 1).startswith(" ")
    assert generate_text(1, 50) != generate_text(2, 50)


# ---------------------------------------------------------------------------- schedules


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
