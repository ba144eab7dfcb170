"""Scenario values and their grammar: pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenpath.errors import UsageError
from tokenpath.mock.scenarios import (
    KEYS,
    Accel,
    Eol,
    Framing,
    Pause,
    Scenario,
    format_scenario,
    parse_scenario,
)

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
