"""Time scaling: nginx times and mock recipes, pure."""

from __future__ import annotations

import pytest

from tokenpath.errors import UsageError
from tokenpath.mock.scenarios import DEFAULT_SCENARIO, Pause, parse_scenario
from tokenpath.simulate.scale import (
    DEFAULT_TIME_SCALE,
    ITL_FLOOR_S,
    NGINX_TIMEOUTS,
    check_time_scale,
    format_nginx_time,
    parse_nginx_time,
    scale_mock_scenario,
    scale_nginx_directives,
    scale_nginx_time,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60), ("1h", 3600), ("500ms", 0.5), ("75", 75), ("1m30s", 90), ("1m 30s", 90)],
)
def test_parse_nginx_time(text: str, seconds: float) -> None:
    assert parse_nginx_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "1.5s", "5x", "s"])
def test_parse_nginx_time_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_nginx_time(text)


@pytest.mark.parametrize(("seconds", "text"), [(3, "3s"), (1.5, "1500ms"), (180, "180s")])
def test_format_nginx_time(seconds: float, text: str) -> None:
    assert format_nginx_time(seconds) == text


def test_scale_nginx_time_multiplies() -> None:
    assert scale_nginx_time("proxy_read_timeout", "60s", 0.05).value == "3s"
    assert scale_nginx_time("proxy_read_timeout", "1h", 0.05).value == "180s"
    assert scale_nginx_time("proxy_read_timeout", "60s", 0.05).notes == ()


def test_scale_nginx_time_clamps_at_one_second_and_says_so() -> None:
    scaled = scale_nginx_time("proxy_read_timeout", "5s", 0.05)
    assert scaled.value == "1s"
    assert "timer granularity" in scaled.notes[0]
    # Never scaled up: a timeout already below 1 s stays as it was.
    assert scale_nginx_time("proxy_read_timeout", "500ms", 0.05).value == "500ms"


def test_unset_timeouts_are_written_as_scaled_nginx_defaults() -> None:
    scaled = scale_nginx_directives((("proxy_buffering", "on"),), DEFAULT_TIME_SCALE)
    rendered = dict(scaled.value)
    assert rendered["proxy_buffering"] == "on"
    assert all(rendered[name] == "3s" for name in NGINX_TIMEOUTS)


def test_scale_one_changes_nothing() -> None:
    directives = (("proxy_read_timeout", "5s"),)
    assert scale_nginx_directives(directives, 1.0).value == directives
    assert scale_mock_scenario("ttft=2s;pause=3@10s", 1.0).value == "ttft=2s;pause=3@10s"


def test_scale_mock_scenario_scales_every_duration() -> None:
    text = "headers=10s;ttft=2s;itl=1s;tokens=5;pause=3@20s;heartbeat=4s;pad=4k"
    scaled = parse_scenario(scale_mock_scenario(text, 0.1).value, DEFAULT_SCENARIO)
    assert scaled.headers == pytest.approx(1.0)
    assert scaled.ttft == pytest.approx(0.2)
    assert scaled.itl == pytest.approx(0.1)
    assert scaled.pause == (Pause(3, pytest.approx(2.0)),)  # type: ignore[arg-type]
    assert scaled.heartbeat == pytest.approx(0.4)
    assert (scaled.tokens, scaled.pad) == (5, 4096)


def test_token_gaps_keep_a_floor_and_say_so() -> None:
    scaled = scale_mock_scenario("itl=20ms", 0.05)
    assert parse_scenario(scaled.value, DEFAULT_SCENARIO).itl == pytest.approx(ITL_FLOOR_S)
    assert scaled.notes
    # A gap already below the floor is left alone, not slowed down.
    assert parse_scenario(scale_mock_scenario("itl=5ms", 0.05).value, DEFAULT_SCENARIO).itl == (
        pytest.approx(0.005)
    )


def test_rate_is_scaled_like_itl() -> None:
    scaled = parse_scenario(scale_mock_scenario("rate=1", 0.1).value, DEFAULT_SCENARIO)
    assert scaled.interval == pytest.approx(0.1)


@pytest.mark.parametrize("factor", [0.0, -1.0, 2.0, float("nan")])
def test_check_time_scale_rejects(factor: float) -> None:
    with pytest.raises(UsageError):
        check_time_scale(factor)
