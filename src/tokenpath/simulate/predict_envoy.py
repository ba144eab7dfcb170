"""What a route's Envoy settings predict the real Envoy does to one scenario.

The facts of FACTS.md §0 and §5 (measured on Envoy 1.40.0) as a function, like
``predict.predict_nginx``: settings + scenario -> the verdicts the probe should see, with the
reason. Every timer is compared with the mock's own write schedule (``mock.schedule``), so
pauses and heartbeats are where the mock puts them. In order:

* total timers: route ``timeout`` (from the end of the request; 15 s unset, ``0s`` off) and
  ``max_stream_duration`` (from the start of the stream). Ending before the headers: a 504
  (``upstream request timeout`` / ``downstream duration timeout``); before the body's end: the
  200 stream is cut while tokens flow (kind total), heartbeats or not;
* ``retry_policy.per_try_timeout`` bounds only the wait for the headers: Envoy ignores it once
  the response has started (measured on 1.40.0: a 1 s per-try timeout let a 2 s stream end;
  the proto docs say the per-try idle timer, unlike it, "continues once the response starts");
* idle timers: route ``idle_timeout`` (unset: the HCM ``stream_idle_timeout``, 300 s unset;
  ``0s`` off) and ``per_try_idle_timeout``, re-armed by every byte from the upstream, so
  heartbeats break a silence. Before the headers a 504 ``stream timeout``, after them a cut;
* a compressor listing the stream's content type (client ``Accept-Encoding: gzip``) compresses
  it and still sends each event as it comes: STREAMING with the probe's "compressed per event"
  note, or COMPRESSED should loopback merge events;
* otherwise STREAMING: Envoy does not buffer responses.

A cut's kind is predicted only where the probe can tell it: HCM ``delayed_close_timeout`` (1 s
unset) delays the FIN after any cut, which the probe takes as the signature of a total timer;
an idle cut shows a longer final silence. Durations within ``MARGIN_S`` of each other are too
close to call, and both outcomes are predicted.

Time scaling is ``simulate --proxy envoy``'s (``envoy_set``, floors included), applied by
``scale_envoy``, so the prediction is about the run that actually happens. Pure.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

from tokenpath.lint.envoy.values import ENVOY_COMPRESSOR_DEFAULT_TYPES
from tokenpath.mock.scenarios import DEFAULT_SCENARIO, parse_scenario
from tokenpath.mock.scenarios import Scenario as MockScenario
from tokenpath.mock.schedule import StepKind, build_schedule
from tokenpath.probe.verdict import CutKind, Thresholds, VerdictKind
from tokenpath.simulate.envoy_set import (
    ENVOY_DURATIONS,
    envoy_settings,
    parse_envoy_duration,
    scale_envoy_duration,
    scale_envoy_settings,
)
from tokenpath.simulate.predict import Prediction
from tokenpath.simulate.renderers.envoy import EnvoySettings, envoy_duration
from tokenpath.simulate.scale import Scaled, scale_mock_scenario
from tokenpath.simulate.scenarios import Scenario

#: Two instants closer than this are too close to call on loopback.
MARGIN_S = 0.1
NS_PER_S = 1_000_000_000
_SSE = "text/event-stream"
#: Route fields a manifest can set but ``--set`` does not name: field -> EnvoySettings attr.
ROUTE_ONLY_DURATIONS: dict[str, str] = {
    "route.max_stream_duration": "route_max_stream_duration",
    "route.retry_policy.per_try_timeout": "retry_per_try_timeout",
    "route.retry_policy.per_try_idle_timeout": "retry_per_try_idle_timeout",
}
_ENVOY_DEFAULTS = {"route_timeout": 15.0, "stream_idle": 300.0, "delayed_close": 1.0}
_TH = Thresholds()


def envoy_fields(settings: EnvoySettings) -> tuple[tuple[str, str], ...]:
    """The fields ``settings`` write, by location (``route.timeout``, ``hcm.…``), in the
    names of ``simulate --proxy envoy --set``; for display."""
    names = {**ENVOY_DURATIONS, **ROUTE_ONLY_DURATIONS}
    out = [
        (name, envoy_duration(value))
        for name, attr in names.items()
        if (value := getattr(settings, attr)) is not None
    ]
    types = settings.compressor_content_types
    if types == ():
        out.append(("compressor", "on"))
    out.extend(("compressor.content_type", t) for t in types or ())
    return tuple(out)


def scale_envoy(settings: EnvoySettings, factor: float) -> Scaled[EnvoySettings]:
    """``settings`` as Envoy gets them in a run at ``factor``: the ``--set`` durations through
    ``envoy_set.scale_envoy_settings`` (Envoy's defaults written out scaled, the delayed close
    kept), the route-only ones through ``envoy_set.scale_envoy_duration``."""
    pairs = tuple(
        (name, envoy_duration(value))
        for name, attr in ENVOY_DURATIONS.items()
        if (value := getattr(settings, attr)) is not None
    )
    scaled = scale_envoy_settings(pairs, factor)
    from_pairs = envoy_settings(scaled.value)
    notes = list(scaled.notes)
    route_only: dict[str, float | None] = {}
    for name, attr in ROUTE_ONLY_DURATIONS.items():
        value = getattr(settings, attr)
        one = None if value is None else scale_envoy_duration(name, value, factor)
        route_only[attr] = None if one is None else parse_envoy_duration(one.value)
        notes.extend(() if one is None else one.notes)
    result = dataclasses.replace(
        settings,
        route_timeout=from_pairs.route_timeout,
        route_idle_timeout=from_pairs.route_idle_timeout,
        hcm_stream_idle_timeout=from_pairs.hcm_stream_idle_timeout,
        hcm_request_timeout=from_pairs.hcm_request_timeout,
        hcm_delayed_close_timeout=from_pairs.hcm_delayed_close_timeout,
        route_max_stream_duration=route_only["route_max_stream_duration"],
        retry_per_try_timeout=route_only["retry_per_try_timeout"],
        retry_per_try_idle_timeout=route_only["retry_per_try_idle_timeout"],
    )
    return Scaled(result, tuple(notes))


@dataclass(frozen=True, slots=True)
class _Timer:
    name: str
    seconds: float  # math.inf: off
    body: str  # what Envoy answers when it fires before the headers


def _on(value: float | None, unset: float) -> float:
    seconds = unset if value is None else value
    return math.inf if seconds <= 0 else seconds


def _timers(s: EnvoySettings) -> tuple[list[_Timer], list[_Timer], _Timer]:
    """(total timers, idle timers, per-try timer), effective, as Envoy reads ``s``."""
    totals = [
        _Timer(
            "route timeout",
            _on(s.route_timeout, _ENVOY_DEFAULTS["route_timeout"]),
            "upstream request timeout",
        ),
        _Timer(
            "max_stream_duration",
            _on(s.route_max_stream_duration, 0),
            "downstream duration timeout",
        ),
    ]
    if s.route_idle_timeout is not None:
        idle = _Timer("route idle_timeout", _on(s.route_idle_timeout, 0), "stream timeout")
    else:
        idle = _Timer(
            "stream_idle_timeout",
            _on(s.hcm_stream_idle_timeout, _ENVOY_DEFAULTS["stream_idle"]),
            "stream timeout",
        )
    idles = [
        idle,
        _Timer("per_try_idle_timeout", _on(s.retry_per_try_idle_timeout, 0), "stream timeout"),
    ]
    per_try = _Timer("per_try_timeout", _on(s.retry_per_try_timeout, 0), "upstream request timeout")
    return totals, idles, per_try


@dataclass(frozen=True, slots=True)
class _Writes:
    """When the mock writes, in seconds from the request: headers, first content, every write
    (content, heartbeats, the end) in order, and the body's end."""

    headers: float
    first_content: float
    times: tuple[float, ...]

    @property
    def end(self) -> float:
        return self.times[-1] if self.times else self.headers


def _writes(mock: MockScenario) -> _Writes:
    steps = build_schedule(mock, heartbeats=True)
    times = tuple(mock.headers + step.at_ns / NS_PER_S for step in steps)
    contents = [mock.headers + s.at_ns / NS_PER_S for s in steps if s.kind is StepKind.CONTENT]
    first = contents[0] if contents else (times[-1] if times else mock.headers)
    return _Writes(mock.headers, first, tuple(sorted(times)))


def predict_envoy(
    settings: EnvoySettings, scenario: Scenario, *, time_scale: float = 1.0
) -> Prediction:
    """What Envoy with ``settings`` (unscaled) does to ``scenario`` run at ``time_scale``."""
    run = scale_envoy(settings, time_scale).value
    mock = parse_scenario(scale_mock_scenario(scenario.mock, time_scale).value, DEFAULT_SCENARIO)
    writes = _writes(mock)
    totals, idles, per_try = _timers(run)
    delayed_close = _on(run.hcm_delayed_close_timeout, _ENVOY_DEFAULTS["delayed_close"])
    delayed_close = 0.0 if math.isinf(delayed_close) else delayed_close

    first = min((*totals, *idles, per_try), key=lambda t: t.seconds)
    if writes.headers > first.seconds - MARGIN_S:
        before = f"{first.name} {_s(first.seconds)} vs headers after {_s(writes.headers)}"
        if writes.headers - first.seconds < MARGIN_S:
            ends = (VerdictKind.STREAMING,) if writes.end < first.seconds + MARGIN_S else ()
            return Prediction((VerdictKind.CUT, *ends), f"{before}: too close to call")
        return Prediction(
            (VerdictKind.CUT,),
            f"{before}: Envoy answers 504 '{first.body}' before any data",
            CutKind.BEFORE_HEADERS,
        )

    total = min(totals, key=lambda t: t.seconds)
    idle = min(idles, key=lambda t: t.seconds)
    idle_cut = _idle_cut(writes, idle.seconds)
    shape = _shape(run, mock, scenario.accept_encoding)
    if total.seconds < writes.end and (idle_cut is None or total.seconds <= idle_cut[0]):
        kind, when = _total_kind(writes, total.seconds, mock.interval, delayed_close)
        prediction = Prediction(
            (VerdictKind.CUT,),
            f"the body ends at {_s(writes.end)} > {total.name} {_s(total.seconds)}: a total "
            f"timer, Envoy cuts the stream {when}",
            kind,
        )
        return _or_streaming(prediction, writes.end - total.seconds, shape)
    if idle_cut is not None:
        _at, gap, mid = idle_cut
        where = "mid-stream" if mid else "before the first token"
        prediction = Prediction(
            (VerdictKind.CUT,),
            f"{_s(gap)} of silence {where} > {idle.name} {_s(idle.seconds)}: Envoy closes "
            "the stream",
            _idle_kind(idle.seconds, mock.interval, delayed_close) if mid else None,
        )
        return _or_streaming(prediction, gap - idle.seconds, shape)
    longest = max(_silences(writes), default=0.0)
    if total.seconds - writes.end < MARGIN_S or idle.seconds - longest < MARGIN_S:
        return Prediction(
            (*shape.verdicts, VerdictKind.CUT),
            f"{shape.reason}; a timer ends within {_s(MARGIN_S)} of the stream (too close to call)",
        )
    return shape


def _silences(writes: _Writes) -> list[float]:
    """Every silence between writes, from the headers on."""
    edges = (writes.headers, *writes.times)
    return [after - before for before, after in itertools.pairwise(edges)]


def _idle_cut(writes: _Writes, idle: float) -> tuple[float, float, bool] | None:
    """(when, the silence, whether after the first token) of the first silence longer than
    ``idle``, counted from the headers; None when there is none."""
    previous = writes.headers
    for at, silence in zip(writes.times, _silences(writes), strict=True):
        if silence > idle:
            return previous + idle, silence, previous >= writes.first_content
        previous = at
    return None


def _total_kind(
    writes: _Writes, at: float, pace: float, delayed_close: float
) -> tuple[CutKind | None, str]:
    """TOTAL when the cut falls while tokens flow at their pace and the FIN's delay is the
    probe's signature of a total timer (Envoy's 1 s, or none); else not predicted. With
    the words for when the cut falls."""
    if at < writes.first_content:
        # Headers but no token yet: an "empty 200" (FACTS.md §0).
        return None, "before the first token"
    if at < writes.first_content + MARGIN_S:
        return None, "right after the first token"
    before = max((t for t in writes.times if t <= at), default=writes.headers)
    after = min((t for t in writes.times if t > at), default=at)
    if after - before > 2 * pace + MARGIN_S / 2:
        return None, "in a silence (the probe may read it as idle)"
    signature = delayed_close == 0 or abs(delayed_close - _TH.delayed_close_s) <= MARGIN_S
    return (CutKind.TOTAL if signature else None), "while it flows"


def _idle_kind(idle: float, pace: float, delayed_close: float) -> CutKind | None:
    """IDLE when the final silence the probe sees (the idle timeout plus the FIN's delay) is
    clearly an idle cut and clearly not Envoy's delayed close after a total one."""
    silence = idle + delayed_close
    low = _TH.delayed_close_s - _TH.delayed_close_tolerance_s - MARGIN_S / 2
    high = _TH.delayed_close_s + pace + _TH.delayed_close_tolerance_s + MARGIN_S / 2
    looks_total = delayed_close > 0 and low <= silence <= high
    idle_limit = max(_TH.idle_gap_min_s, _TH.idle_gap_factor * pace) + MARGIN_S / 2
    return CutKind.IDLE if silence >= idle_limit and not looks_total else None


def _or_streaming(
    prediction: Prediction, distance: float, otherwise: Prediction | None = None
) -> Prediction:
    """``prediction``, widened to what happens without the cut when the two instants are
    within ``MARGIN_S``."""
    if abs(distance) >= MARGIN_S:
        return prediction
    alternative = otherwise.verdicts if otherwise is not None else (VerdictKind.STREAMING,)
    verdicts = tuple(dict.fromkeys((*prediction.verdicts, *alternative)))
    return Prediction(verdicts, f"{prediction.reason} (too close to call)", None)


def _shape(run: EnvoySettings, mock: MockScenario, accept_encoding: str) -> Prediction:
    """What Envoy does to a stream it does not cut."""
    content_type = (mock.ctype or _SSE).split(";")[0].strip().lower()
    types = run.compressor_content_types
    if types is not None and "gzip" in accept_encoding.lower():
        listed = tuple(t.lower() for t in types) or ENVOY_COMPRESSOR_DEFAULT_TYPES
        if content_type in listed:
            return Prediction(
                (VerdictKind.STREAMING, VerdictKind.COMPRESSED),
                f"the compressor lists {content_type}: gzip, still sent per event",
            )
        return Prediction(
            (VerdictKind.STREAMING,),
            f"the compressor does not list {content_type}: passed as it arrives",
        )
    return Prediction((VerdictKind.STREAMING,), "Envoy does not buffer responses: events pass")


def _s(seconds: float) -> str:
    return f"{seconds:g} s"
