"""``--set`` for Envoy: parsing, scaling and the settings it renders, pure."""

from __future__ import annotations

import pytest

from tokenpath.errors import UsageError
from tokenpath.simulate.envoy_set import (
    ENVOY_MIN_TIMEOUT_S,
    envoy_settings,
    parse_envoy_duration,
    parse_envoy_settings,
    route_timeout_artefacts,
    scale_envoy_duration,
    scale_envoy_settings,
)
from tokenpath.simulate.renderers.envoy import EnvoySettings
from tokenpath.simulate.scale import DEFAULT_TIME_SCALE


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15), ("500ms", 0.5), ("5m", 300), ("1h", 3600), ("1m30s", 90), ("0.5s", 0.5)],
)
def test_parse_envoy_duration(text: str, seconds: float) -> None:
    assert parse_envoy_duration(text) == pytest.approx(seconds)
    assert parse_envoy_duration("0s") == 0


@pytest.mark.parametrize("text", ["", "15", "soon", "5x", "s", "-1s"])
def test_parse_envoy_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="Envoy duration"):
        parse_envoy_duration(text)


def test_parse_settings_by_location_later_wins_content_types_accumulate() -> None:
    pairs = parse_envoy_settings(
        [
            "route.timeout=15s",
            "hcm.stream_idle_timeout=5m",
            "route.timeout=0s",
            "compressor.content_type=text/event-stream, application/json",
            "compressor.content_type=text/event-stream",
            "hcm.http_protocol_options.allow_chunked_length=true",
        ]
    )
    assert pairs == (
        ("route.timeout", "0s"),
        ("hcm.stream_idle_timeout", "5m"),
        ("compressor.content_type", "text/event-stream"),
        ("compressor.content_type", "application/json"),
        ("hcm.http_protocol_options.allow_chunked_length", "true"),
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("route.timeout", "NAME=VALUE"),
        ("route.timeout=", "NAME=VALUE"),
        ("route.timeout=soon", "Envoy duration"),
        ("route.cluster=evil", "not an Envoy field"),
        ("proxy_buffering=on", "not an Envoy field"),
        ("hcm.http_protocol_options.bogus=true", "not one of the fields"),
        ("hcm.http_protocol_options.allow_chunked_length=maybe", "true or false"),
        ("hcm.http2_protocol_options.max_concurrent_streams=lots", "whole number"),
        ("compressor.content_type=not a type", "not a content type"),
        ("compressor=sometimes", "true or false"),
    ],
)
def test_parse_settings_usage_errors(item: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_envoy_settings([item])


def test_envoy_settings_from_pairs() -> None:
    pairs = parse_envoy_settings(
        [
            "route.timeout=0s",
            "route.idle_timeout=2s",
            "hcm.stream_idle_timeout=5m",
            "hcm.request_timeout=1m",
            "hcm.delayed_close_timeout=0s",
            "compressor.content_type=text/event-stream",
            "hcm.http_protocol_options.allow_chunked_length=true",
            "cluster.http_protocol_options.default_host_for_http_10=example",
            "hcm.http2_protocol_options.allow_chunked_length=true",
        ]
    )
    assert envoy_settings(pairs) == EnvoySettings(
        route_timeout=0,
        route_idle_timeout=2,
        hcm_stream_idle_timeout=300,
        hcm_request_timeout=60,
        hcm_delayed_close_timeout=0,
        compressor_content_types=("text/event-stream",),
        extra_http1_hcm={"allow_chunked_length": True},
        extra_http1_cluster={"default_host_for_http_10": "example"},
        extra_http2_hcm={"allow_chunked_length": True},
    )


def test_compressor_switch() -> None:
    assert envoy_settings(()) == EnvoySettings()
    on = envoy_settings(parse_envoy_settings(["compressor=on"]))
    assert on.compressor_content_types == ()  # Envoy's default content types
    assert envoy_settings(parse_envoy_settings(["compressor=off"])).compressor_content_types is None
    with pytest.raises(UsageError, match="contradicts"):
        envoy_settings(
            parse_envoy_settings(["compressor=off", "compressor.content_type=text/plain"])
        )


def test_scale_one_writes_only_what_was_given() -> None:
    scaled = scale_envoy_settings((("route.timeout", "1m30s"), ("compressor", "on")), 1)
    assert scaled.value == (("route.timeout", "90s"), ("compressor", "on"))
    assert scaled.notes == ()


def test_unset_defaults_are_written_out_scaled_with_a_note() -> None:
    scaled = scale_envoy_settings((), DEFAULT_TIME_SCALE)
    rendered = dict(scaled.value)
    assert rendered == {"route.timeout": "0.75s", "hcm.stream_idle_timeout": "15s"}
    assert any("written out scaled" in note and "15s as 0.75s" in note for note in scaled.notes)
    # Envoy's 1 s delayed close is kept: the probe reads it as a route-timer cut.
    assert "hcm.delayed_close_timeout" not in rendered
    assert any("delayed_close_timeout is not scaled" in note for note in scaled.notes)


def test_given_durations_scale_and_zero_stays_disabled() -> None:
    scaled = scale_envoy_settings(
        (
            ("route.timeout", "0s"),
            ("route.idle_timeout", "2s"),
            ("hcm.stream_idle_timeout", "5m"),
            ("hcm.delayed_close_timeout", "1s"),
        ),
        DEFAULT_TIME_SCALE,
    )
    assert dict(scaled.value) == {
        "route.timeout": "0s",
        "route.idle_timeout": "0.1s",
        "hcm.stream_idle_timeout": "15s",
        "hcm.delayed_close_timeout": "1s",
    }
    assert not any("written out scaled" in note for note in scaled.notes)


def test_scaled_durations_stay_at_50ms_and_say_so() -> None:
    clamped = scale_envoy_duration("route.idle_timeout", 0.5, DEFAULT_TIME_SCALE)
    assert clamped.value == "0.05s"
    assert "below 50 ms" in clamped.notes[0]
    assert "route.idle_timeout 0.5s" in clamped.notes[0]
    # Never scaled up: a timeout already below the floor stays as it was.
    assert scale_envoy_duration("route.idle_timeout", 0.02, 0.05).value == "0.02s"
    assert scale_envoy_duration("route.timeout", 1, 0.05) == scale_envoy_duration(
        "route.timeout", ENVOY_MIN_TIMEOUT_S, 1
    )
    scaled = scale_envoy_settings((("route.idle_timeout", "500ms"),), DEFAULT_TIME_SCALE)
    assert ("route.idle_timeout", "0.05s") in scaled.value
    assert any("below 50 ms" in note for note in scaled.notes)


def test_route_timeout_artefacts_name_scenarios_the_scaling_flips() -> None:
    durations = [
        ("fast-small", 0.98, 0.79),  # ends within 15 s, but not within 0.75 s
        ("long-generation", 60.2, 3.0),  # cut at both scales
        ("gzip", 0.5, 0.4),  # ends within both
    ]
    notes = route_timeout_artefacts((), DEFAULT_TIME_SCALE, durations)
    assert len(notes) == 1
    assert "fast-small" in notes[0]
    assert "0.75s" in notes[0]
    assert route_timeout_artefacts((("route.timeout", "0s"),), DEFAULT_TIME_SCALE, durations) == ()
    assert route_timeout_artefacts((), 1, durations) == ()
