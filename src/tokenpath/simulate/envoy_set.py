"""``simulate --proxy envoy --set NAME=VALUE``: Envoy fields by location, checked, scaled and
turned into ``EnvoySettings``.

Names are Envoy's own, prefixed by where the field lives:

* ``route.timeout``, ``route.idle_timeout`` (RouteAction),
* ``hcm.stream_idle_timeout``, ``hcm.request_timeout``, ``hcm.delayed_close_timeout``
  (HttpConnectionManager),
* ``compressor.content_type`` (the compressor filter's response content types; repeatable or
  a comma list) and ``compressor=on`` (the filter with Envoy's default content types),
* ``hcm.http_protocol_options.FIELD`` / ``cluster.http_protocol_options.FIELD``
  (``Http1ProtocolOptions`` on the listener side / towards the upstream) and
  ``hcm.http2_protocol_options.FIELD``; these fields are written as given, so one placed in
  the wrong message reaches Envoy's own validation.

A duration is ``15s``, ``500ms``, ``5m``, ``1h``, ``1m30s`` or ``0s`` (disabled). Unset means
Envoy's own default (route ``timeout`` 15 s, HCM ``stream_idle_timeout`` 300 s,
``delayed_close_timeout`` 1 s; FACTS.md §5).

Time scaling: every timeout times F. Envoy's timers have millisecond granularity (no 300 ms
lazy re-arm as in nginx), but a timeout below ``ENVOY_MIN_TIMEOUT_S`` (50 ms) is within the
noise of loopback scheduling and the probe's own 20 ms token gaps, so a scaled value stays at
or above it and says so. ``0s`` (disabled) stays disabled. At F != 1 Envoy's defaults that
bound a stream (route ``timeout`` 15 s, HCM ``stream_idle_timeout`` 300 s) are written out
scaled, so "unset" keeps meaning Envoy's default relative to the shrunken scenarios (as
``scale.scale_nginx_directives`` does for nginx), with a note.

``hcm.delayed_close_timeout`` is the exception: it is not scaled, given or not. It cuts
nothing; it only delays the FIN after Envoy has ended a stream, and the probe reads a final
silence of Envoy's 1 s default as the signature of a cut by a total (route) timer. Scaled to
50 ms that silence falls between "normal pace" and "idle", and the cut's kind would differ
from the one at scale 1. A note says so.

Envoy's route ``timeout`` is a total timer, so a scenario whose token gaps hit the 20 ms floor
of ``scale.scale_mock_scenario`` lasts longer, scaled, than F times its real length, and may
outlast the scaled route timeout although at scale 1 it ends well within it.
``route_timeout_artefacts`` names such scenarios in a note.

Pure: values in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tokenpath.errors import UsageError
from tokenpath.simulate.renderers.envoy import EnvoySettings, envoy_duration
from tokenpath.simulate.scale import Scaled

ENVOY_MIN_TIMEOUT_S = 0.05

#: The duration fields ``--set`` accepts -> ``EnvoySettings`` attribute.
ENVOY_DURATIONS: dict[str, str] = {
    "route.timeout": "route_timeout",
    "route.idle_timeout": "route_idle_timeout",
    "hcm.stream_idle_timeout": "hcm_stream_idle_timeout",
    "hcm.request_timeout": "hcm_request_timeout",
    "hcm.delayed_close_timeout": "hcm_delayed_close_timeout",
}

#: Envoy's own defaults that bound a stream (seconds), written out scaled when F != 1.
#: ``route.idle_timeout`` unset falls back to the HCM stream idle timeout, and
#: ``hcm.request_timeout`` is disabled by default, so neither has one to write.
ENVOY_DEFAULTS: dict[str, float] = {
    "route.timeout": 15.0,
    "hcm.stream_idle_timeout": 300.0,
}
#: Not scaled (see the module docstring); Envoy's default 1 s.
UNSCALED = "hcm.delayed_close_timeout"
ENVOY_DELAYED_CLOSE_DEFAULT_S = 1.0

COMPRESSOR = "compressor"
COMPRESSOR_CONTENT_TYPE = "compressor.content_type"

_HTTP1_BOOLS = frozenset(
    {
        "allow_absolute_url",
        "accept_http_10",
        "enable_trailers",
        "allow_chunked_length",
        "override_stream_error_on_invalid_http_message",
        "send_fully_qualified_url",
        "allow_custom_methods",
    }
)
_HTTP1_STRINGS = frozenset({"default_host_for_http_10"})
_HTTP2_BOOLS = frozenset(
    {"allow_connect", "allow_metadata", "override_stream_error_on_invalid_http_message"}
)
_HTTP2_INTS = frozenset(
    {
        "max_concurrent_streams",
        "initial_stream_window_size",
        "initial_connection_window_size",
        "hpack_table_size",
    }
)
#: Prefix -> (EnvoySettings attribute, fields allowed under it).
_PROTOCOL_OPTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "hcm.http_protocol_options.": ("extra_http1_hcm", _HTTP1_BOOLS | _HTTP1_STRINGS),
    "cluster.http_protocol_options.": ("extra_http1_cluster", _HTTP1_BOOLS | _HTTP1_STRINGS),
    # Http1 field names are allowed here too: misplacing one is a config Envoy rejects, which
    # simulate reports (the point of trying it), not a typo to stop at.
    "hcm.http2_protocol_options.": (
        "extra_http2_hcm",
        _HTTP2_BOOLS | _HTTP2_INTS | _HTTP1_BOOLS | _HTTP1_STRINGS,
    ),
}

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$")
_ON = {"on": True, "true": True, "off": False, "false": False}


def known_names() -> tuple[str, ...]:
    """Every name (or name pattern) ``--set`` accepts for Envoy, for help and errors."""
    return (
        *ENVOY_DURATIONS,
        COMPRESSOR,
        COMPRESSOR_CONTENT_TYPE,
        *(f"{prefix}FIELD" for prefix in _PROTOCOL_OPTIONS),
    )


def parse_envoy_duration(text: str) -> float:
    """``15s``, ``500ms``, ``5m``, ``1h``, ``1m30s``, ``0.5s``, ``0s`` -> seconds."""
    compact = text.replace(" ", "")
    pos, total = 0, 0.0
    while pos < len(compact):
        match = _PART.match(compact, pos)
        if match is None:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not compact or pos != len(compact):
        raise UsageError(
            f"invalid Envoy duration {text!r}: use e.g. 15s, 500ms, 5m or 0s (disabled)"
        )
    return total


def parse_envoy_settings(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``NAME=VALUE`` items -> checked ``(name, value)`` pairs, in the order first given.

    A later item replaces an earlier one of the same name, except ``compressor.content_type``,
    which accumulates (repeated or comma-separated; one pair per content type).
    """
    pairs: list[tuple[str, str]] = []
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise UsageError(f"--set {item!r}: use NAME=VALUE, e.g. route.timeout=0s")
        if name == COMPRESSOR_CONTENT_TYPE:
            for content_type in (part.strip() for part in value.split(",")):
                if not _CONTENT_TYPE.match(content_type):
                    raise UsageError(
                        f"--set {name}={value}: {content_type!r} is not a content type; "
                        "use e.g. text/event-stream"
                    )
                if (name, content_type) not in pairs:
                    pairs.append((name, content_type))
            continue
        _check(name, value)
        pairs = _replace(pairs, name, value)
    return tuple(pairs)


def _check(name: str, value: str) -> None:
    if name in ENVOY_DURATIONS:
        parse_envoy_duration(value)
        return
    if name == COMPRESSOR:
        _bool(name, value)
        return
    prefix, fields = _protocol_options(name)
    if prefix is None:
        raise UsageError(
            f"--set {name}: not an Envoy field simulate can set; known: {', '.join(known_names())}"
        )
    field = name[len(prefix) :]
    if field not in fields:
        raise UsageError(
            f"--set {name}: {field!r} is not one of the fields simulate sets under "
            f"{prefix.rstrip('.')}; known: {', '.join(sorted(fields))}"
        )
    _option_value(name, field, value)


def _replace(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    if any(n == name for n, _ in pairs):
        return [(n, value if n == name else v) for n, v in pairs]
    return [*pairs, (name, value)]


def _protocol_options(name: str) -> tuple[str | None, frozenset[str]]:
    for prefix, (_attr, fields) in _PROTOCOL_OPTIONS.items():
        if name.startswith(prefix):
            return prefix, fields
    return None, frozenset()


def _bool(name: str, value: str) -> bool:
    try:
        return _ON[value.lower()]
    except KeyError:
        raise UsageError(f"--set {name}={value}: use true or false (on/off)") from None


def _option_value(name: str, field: str, value: str) -> Any:
    if field in _HTTP1_STRINGS:
        return value
    if field in _HTTP2_INTS:
        if not value.isdigit():
            raise UsageError(f"--set {name}={value}: use a whole number")
        return int(value)
    return _bool(name, value)


def scale_envoy_settings(
    pairs: Sequence[tuple[str, str]], factor: float
) -> Scaled[tuple[tuple[str, str], ...]]:
    """The pairs as rendered: durations in Envoy's form (``0.75s``) times ``factor``, never
    below 50 ms (nor above the original); at ``factor`` != 1 also Envoy's defaults of the
    durations not given, scaled, with a note saying so."""
    given = {name for name, _ in pairs}
    out: list[tuple[str, str]] = []
    notes: list[str] = []
    for name, value in pairs:
        if name not in ENVOY_DURATIONS:
            out.append((name, value))
            continue
        if name == UNSCALED:
            out.append((name, envoy_duration(parse_envoy_duration(value))))
            continue
        scaled = scale_envoy_duration(name, parse_envoy_duration(value), factor)
        out.append((name, scaled.value))
        notes.extend(scaled.notes)
    if factor != 1:
        written: list[str] = []
        for name, seconds in ENVOY_DEFAULTS.items():
            if name in given:
                continue
            scaled = scale_envoy_duration(name, seconds, factor)
            out.append((name, scaled.value))
            notes.extend(scaled.notes)
            written.append(f"{name} {envoy_duration(seconds)} as {scaled.value}")
        if written:
            notes.append(
                "Envoy's defaults for what was not set are written out scaled, so unset "
                f"still means Envoy's default: {', '.join(written)}"
            )
        kept = (
            f"as given ({dict(pairs)[UNSCALED]})"
            if UNSCALED in given
            else f"at Envoy's default {envoy_duration(ENVOY_DELAYED_CLOSE_DEFAULT_S)}"
        )
        notes.append(
            f"{UNSCALED} is not scaled, kept {kept}: it only delays the FIN after Envoy "
            "ends a stream, and that delay is how the probe tells a route (total) timer cut"
        )
    return Scaled(tuple(out), tuple(notes))


def route_timeout_artefacts(
    pairs: Sequence[tuple[str, str]],
    factor: float,
    durations: Sequence[tuple[str, float, float]],
) -> tuple[str, ...]:
    """Notes for scenarios whose ending before or after the route timeout differs between
    scale 1 and ``factor``. ``pairs`` are as given (unscaled; route.timeout unset means
    Envoy's 15 s); ``durations`` are ``(scenario, length at scale 1, length as sent)``, s."""
    given = dict(pairs).get("route.timeout")
    real = ENVOY_DEFAULTS["route.timeout"] if given is None else parse_envoy_duration(given)
    if factor == 1 or real == 0:
        return ()
    scaled_text = scale_envoy_duration("route.timeout", real, factor).value
    scaled = parse_envoy_duration(scaled_text)
    notes = []
    for name, at_one, sent in durations:
        if (at_one < real) == (sent < scaled):
            continue
        notes.append(
            f"scenario {name} lasts {sent:.2f} s as sent (token gaps are not scaled below "
            f"20 ms) against route.timeout {scaled_text}, but {at_one:.2f} s at scale 1 against "
            f"{envoy_duration(real)}: a different verdict here comes from the scaling, not "
            "from Envoy; check it with a larger --time-scale"
        )
    return tuple(notes)


def scale_envoy_duration(name: str, seconds: float, factor: float) -> Scaled[str]:
    """``seconds`` times ``factor`` as an Envoy duration, at least 50 ms (or the original,
    if smaller); 0 (disabled) stays 0."""
    scaled = seconds * factor
    floor = min(seconds, ENVOY_MIN_TIMEOUT_S)
    if scaled >= floor:
        return Scaled(envoy_duration(_ms(scaled)))
    note = (
        f"{name} {envoy_duration(seconds)} scaled to {envoy_duration(_ms(scaled))} is below "
        f"{ENVOY_MIN_TIMEOUT_S * 1000:g} ms, too close to loopback scheduling and token gaps "
        f"to measure; used {envoy_duration(floor)}"
    )
    return Scaled(envoy_duration(_ms(floor)), (note,))


def _ms(seconds: float) -> float:
    """Rounded to Envoy's millisecond timer granularity (and away from float noise)."""
    return round(seconds * 1000) / 1000


def envoy_settings(pairs: Sequence[tuple[str, str]]) -> EnvoySettings:
    """``EnvoySettings`` from checked pairs (as from ``parse_envoy_settings`` or, scaled,
    ``scale_envoy_settings``)."""
    durations: dict[str, float] = {}
    content_types: list[str] = []
    compressor: bool | None = None
    options: dict[str, dict[str, Any]] = {attr: {} for attr, _ in _PROTOCOL_OPTIONS.values()}
    for name, value in pairs:
        if name in ENVOY_DURATIONS:
            durations[ENVOY_DURATIONS[name]] = parse_envoy_duration(value)
        elif name == COMPRESSOR_CONTENT_TYPE:
            content_types.append(value)
        elif name == COMPRESSOR:
            compressor = _bool(name, value)
        else:
            prefix, _fields = _protocol_options(name)
            if prefix is None:
                raise UsageError(f"--set {name}: not an Envoy field simulate can set")
            field = name[len(prefix) :]
            options[_PROTOCOL_OPTIONS[prefix][0]][field] = _option_value(name, field, value)
    if compressor is False:
        if content_types:
            raise UsageError(
                "--set compressor=off contradicts --set compressor.content_type; drop one"
            )
        types: tuple[str, ...] | None = None
    elif content_types or compressor:
        types = tuple(content_types)
    else:
        types = None
    return EnvoySettings(
        route_timeout=durations.get("route_timeout"),
        route_idle_timeout=durations.get("route_idle_timeout"),
        hcm_stream_idle_timeout=durations.get("hcm_stream_idle_timeout"),
        hcm_request_timeout=durations.get("hcm_request_timeout"),
        hcm_delayed_close_timeout=durations.get("hcm_delayed_close_timeout"),
        compressor_content_types=types,
        extra_http1_hcm=options["extra_http1_hcm"],
        extra_http1_cluster=options["extra_http1_cluster"],
        extra_http2_hcm=options["extra_http2_hcm"],
    )
