"""Time scaling for ``simulate``: every proxy timeout and every scenario duration times F.

A 60 s read timeout and a 75 s pause make a slow experiment; at F = 0.05 they become 3 s and
3.75 s, and the ordering that decides the verdict (pause longer than the timeout: cut) is kept.
``DEFAULT_TIME_SCALE`` is 0.05 because it is the smallest factor that keeps nginx's default
60 s timeouts (3 s scaled) well above the 1 s floor below, so the standard set finishes in
well under a minute with every verdict intact.

Two floors keep a scaled run honest, and each one it hits becomes a note in the output:

* nginx timeouts never go below ``NGINX_MIN_TIMEOUT_S`` (1 s). nginx re-arms a timer only
  when its deadline moves by at least ``NGX_TIMER_LAZY_DELAY`` (300 ms,
  src/event/ngx_event_timer.h), so a sub-second timeout fires up to 300 ms late.
* The gap between tokens (``itl``) never goes below ``ITL_FLOOR_S`` (20 ms): with tokens
  closer than that the probe cannot tell a held buffer from loopback coalescing.

Pure: values in, values out.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from tokenpath.errors import UsageError
from tokenpath.mock.scenarios import (
    DEFAULT_SCENARIO,
    Pause,
    format_scenario,
    parse_scenario,
)
from tokenpath.mock.scenarios import (
    Scenario as MockScenario,
)

T = TypeVar("T")

DEFAULT_TIME_SCALE = 0.05
NGINX_MIN_TIMEOUT_S = 1.0
ITL_FLOOR_S = 0.02

#: nginx directives whose value is an nginx time, with nginx's own default.
NGINX_TIMEOUTS: dict[str, str] = {
    "proxy_read_timeout": "60s",
    "proxy_send_timeout": "60s",
    "proxy_connect_timeout": "60s",
    "send_timeout": "60s",
}

# nginx's time units (src/core/ngx_parse.c, ngx_parse_time).
_NGINX_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
    "M": 2592000.0,
    "y": 31536000.0,
}
_NGINX_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|M|y)?")


@dataclass(frozen=True, slots=True)
class Scaled(Generic[T]):
    """A scaled value and the notes on floors it hit (empty when it scaled cleanly)."""

    value: T
    notes: tuple[str, ...] = ()


def check_time_scale(factor: float) -> float:
    if not math.isfinite(factor) or factor <= 0 or factor > 1:
        raise UsageError(f"--time-scale {factor!r}: use a factor above 0 and at most 1")
    return factor


def parse_nginx_time(text: str) -> float:
    """An nginx time value (``60s``, ``1h``, ``500ms``, ``1m30s``, bare ``75`` = s) -> seconds."""
    compact = text.replace(" ", "")
    pos, total = 0, 0.0
    while pos < len(compact):
        match = _NGINX_PART.match(compact, pos)
        if match is None:
            break
        total += int(match.group(1)) * _NGINX_UNITS[match.group(2) or "s"]
        pos = match.end()
    if not compact or pos != len(compact):
        raise UsageError(f"invalid nginx time {text!r}: use e.g. 60s, 1h, 500ms or 75")
    return total


def format_nginx_time(seconds: float) -> str:
    """Seconds as an nginx time: whole seconds as ``3s``, otherwise milliseconds."""
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def scale_nginx_time(name: str, text: str, factor: float) -> Scaled[str]:
    """``text`` times ``factor``, never below 1 s (nor above the original)."""
    seconds = parse_nginx_time(text)
    scaled = seconds * factor
    floor = min(seconds, NGINX_MIN_TIMEOUT_S)
    if scaled >= floor:
        return Scaled(format_nginx_time(scaled))
    note = (
        f"{name} {text} scaled to {format_nginx_time(scaled)} is below nginx's timer "
        f"granularity; used {format_nginx_time(floor)}"
    )
    return Scaled(format_nginx_time(floor), (note,))


def nginx_time_scale(directives: Sequence[tuple[str, str]], factor: float) -> Scaled[float]:
    """``factor``, raised when a timeout given in ``directives`` would land under nginx's
    timer floor: clamping only the timeout would change the ratio of timeout to scenario
    durations and so the verdict. Raising the whole scale keeps every ratio."""
    needed = factor
    for name, value in directives:
        if name in NGINX_TIMEOUTS:
            seconds = parse_nginx_time(value)
            if seconds > 0:
                needed = max(needed, min(1.0, NGINX_MIN_TIMEOUT_S / seconds))
    if needed == factor:
        return Scaled(factor)
    note = (
        f"time scale raised from {factor:g} to {needed:g} so every timeout stays above "
        f"nginx's {format_nginx_time(NGINX_MIN_TIMEOUT_S)} timer floor with scenario durations "
        "scaled alike"
    )
    return Scaled(needed, (note,))


def scale_nginx_directives(
    directives: Sequence[tuple[str, str]], factor: float
) -> Scaled[tuple[tuple[str, str], ...]]:
    """The directives with every timeout scaled; at a factor below 1, nginx's default of a
    timeout not given is written out scaled too, so "unset" keeps meaning nginx's default."""
    given = {name for name, _ in directives}
    defaults = [(n, v) for n, v in NGINX_TIMEOUTS.items() if n not in given] if factor != 1 else []
    out: list[tuple[str, str]] = []
    notes: list[str] = []
    for name, value in (*directives, *defaults):
        if name not in NGINX_TIMEOUTS or factor == 1:
            out.append((name, value))
            continue
        scaled = scale_nginx_time(name, value, factor)
        out.append((name, scaled.value))
        notes.extend(scaled.notes)
    return Scaled(tuple(out), tuple(notes))


def scale_mock_scenario(text: str, factor: float) -> Scaled[str]:
    """The mock scenario string with ``headers``, ``ttft``, ``itl``/``rate``, ``pause`` and
    ``heartbeat`` scaled; ``itl`` stays at or above ``ITL_FLOOR_S``."""
    scenario = parse_scenario(text, DEFAULT_SCENARIO)
    if factor == 1:
        return Scaled(text)
    notes: list[str] = []
    interval = scenario.interval
    new_interval = max(interval * factor, min(interval, ITL_FLOOR_S))
    if new_interval > interval * factor:
        # One wording for every scenario, so the report can show it once.
        notes.append(
            f"token gaps are not scaled below {_ms(ITL_FLOOR_S)}, so the probe can tell a "
            "held buffer from loopback coalescing"
        )
    scaled: MockScenario = dataclasses.replace(
        scenario,
        headers=scenario.headers * factor,
        ttft=scenario.ttft * factor,
        itl=new_interval if scenario.rate is None else scenario.itl,
        rate=None if scenario.rate is None else scenario.per_event / new_interval,
        pause=tuple(Pause(p.after, p.seconds * factor) for p in scenario.pause),
        heartbeat=None if scenario.heartbeat is None else scenario.heartbeat * factor,
    )
    return Scaled(format_scenario(scaled), tuple(notes))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:g} ms"
