"""The standard scenario set: valid recipes, unique names, bounded, the issue's coverage."""

from __future__ import annotations

import pytest

from tokenpath.errors import UsageError
from tokenpath.mock.scenarios import DEFAULT_SCENARIO, Eol, Framing, parse_scenario
from tokenpath.simulate.scale import DEFAULT_TIME_SCALE, scale_mock_scenario
from tokenpath.simulate.scenarios import (
    IDENTITY,
    STANDARD,
    expected_duration_s,
    max_time_s,
    select,
)


def test_names_are_unique_and_recipes_parse() -> None:
    assert len({s.name for s in STANDARD}) == len(STANDARD)
    for scenario in STANDARD:
        parse_scenario(scenario.mock, DEFAULT_SCENARIO)
        assert scenario.probes


def test_covers_the_issue_set() -> None:
    recipes = {s.name: parse_scenario(s.mock, DEFAULT_SCENARIO) for s in STANDARD}
    assert {r.pad for r in recipes.values()} >= {1024, 4096, 8192, 32768}
    assert len({r.ttft for r in recipes.values() if r.ttft >= 5}) >= 3  # TTFT ladder
    assert len({r.pause for r in recipes.values() if r.pause}) >= 3  # mid-stream ladder
    assert any(r.heartbeat and r.pause for r in recipes.values())
    assert any(r.framing is Framing.LENGTH for r in recipes.values())
    assert any(r.eol is Eol.CRLF for r in recipes.values())
    assert any(r.headers > 0 for r in recipes.values())
    assert any(s.accept_encoding == IDENTITY for s in STANDARD)
    assert any(expected_duration_s(s.mock) >= 60 for s in STANDARD)  # long generation


def test_every_scenario_is_bounded_and_the_set_takes_seconds_at_the_default_scale() -> None:
    total = 0.0
    for scenario in STANDARD:
        assert scenario.max_time_s > scenario.duration_s
        scaled = scale_mock_scenario(scenario.mock, DEFAULT_TIME_SCALE).value
        assert max_time_s(scaled) < 15
        total += expected_duration_s(scaled)
    assert total < 40


def test_select() -> None:
    assert select(()) == STANDARD
    assert [s.name for s in select(("gzip", "crlf", "gzip"))] == ["gzip", "crlf"]
    with pytest.raises(UsageError, match="unknown scenario"):
        select(("nope",))
