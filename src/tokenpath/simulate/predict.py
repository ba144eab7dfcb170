"""What a route's effective settings predict an nginx hop does to one scenario.

The rules' facts (FACTS.md §1, measured on nginx 1.22.1 by ``simulate --prove-rules``) as a
function: effective settings + scenario -> the verdicts the probe should see, with the reason.
``simulate`` compares this with what the real nginx did; a disagreement is a bug in a rule or a
fact. In order:

* a silence longer than ``proxy_read_timeout`` cuts the stream (before the headers: a 504);
  heartbeats break a silence, since every byte from the upstream re-arms the timer;
* gzip of the stream's content type (client ``Accept-Encoding: gzip``) with buffering on holds
  the compressed answer: COMPRESSED (or BUFFERED); with buffering off each event is flushed;
* buffering on with a body nginx cannot pass on chunk by chunk (Content-Length framing, or a
  close-delimited HTTP/1.0 reply) is held in its buffers: BUFFERED or BURSTY;
* buffering on with a chunked HTTP/1.1 reply passes small events on as they arrive; events of
  a buffer page (4 KB) or more are unsettled (measured both held and streamed);
* otherwise STREAMING.

``X-Accel-Buffering`` from the upstream (``accel=`` in the mock) overrides ``proxy_buffering``
as nginx does. Time scaling is applied as ``simulate`` applies it (``simulate.scale``, floors
included), so the prediction is about the run that actually happens. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.lint.model import RouteSettings
from tokenpath.mock.scenarios import DEFAULT_SCENARIO, Accel, Framing, parse_scenario
from tokenpath.mock.scenarios import Scenario as MockScenario
from tokenpath.probe.verdict import CutKind, VerdictKind
from tokenpath.simulate.scale import parse_nginx_time, scale_mock_scenario, scale_nginx_time
from tokenpath.simulate.scenarios import Scenario

#: One nginx buffer page (``proxy_buffer_size`` / ``proxy_buffers`` default on x86-64).
NGINX_PAGE_BYTES = 4096
#: What one mock event carries besides its padding (JSON envelope, ``data: `` framing).
_EVENT_OVERHEAD_BYTES = 200
_SSE = "text/event-stream"
_WILDCARDS = ("*", "*/*")


@dataclass(frozen=True, slots=True)
class NginxHop:
    """The settings of one nginx hop that decide what it does to a stream."""

    buffering: bool
    http_version: str  # "1.0" | "1.1"
    read_timeout_s: float
    gzip: bool
    gzip_types: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: RouteSettings) -> NginxHop:
        return cls(
            buffering=settings.buffering.value,
            http_version=settings.http_version.value,
            read_timeout_s=settings.read_timeout.value,
            gzip=settings.gzip.value,
            gzip_types=settings.gzip_types.value,
        )


@dataclass(frozen=True, slots=True)
class Prediction:
    """The verdicts that agree with the facts (the first is the expected one), the kind of
    cut when one is predicted and certain, and why."""

    verdicts: tuple[VerdictKind, ...]
    reason: str
    cut: CutKind | None = None

    @property
    def label(self) -> str:
        text = "|".join(v.value for v in self.verdicts)
        return f"{text} ({self.cut.value})" if self.cut is not None else text

    def agrees(self, verdict: VerdictKind | None, cut: CutKind | None = None) -> bool:
        """Whether a measured verdict (None: no answer at all) matches this prediction."""
        if verdict is None or verdict not in self.verdicts:
            return False
        return self.cut is None or verdict is not VerdictKind.CUT or cut is self.cut


def predict_nginx(
    settings: RouteSettings | NginxHop, scenario: Scenario, *, time_scale: float = 1.0
) -> Prediction:
    """What nginx with these effective settings does to ``scenario`` run at ``time_scale``."""
    hop = settings if isinstance(settings, NginxHop) else NginxHop.from_settings(settings)
    mock = parse_scenario(scale_mock_scenario(scenario.mock, time_scale).value, DEFAULT_SCENARIO)
    timeout = _scaled_timeout(hop.read_timeout_s, time_scale)

    if mock.headers > timeout:
        return Prediction(
            (VerdictKind.CUT,),
            f"headers after {_s(mock.headers)} > proxy_read_timeout {_s(timeout)}: "
            "nginx answers 504 before any data",
            CutKind.BEFORE_HEADERS,
        )
    shape = _shape(hop, mock, scenario.accept_encoding)
    silence, where, mid_stream = _longest_silence(mock)
    if silence > timeout:
        # A held stream gives the probe no pace to tell an idle cut by, so the kind is
        # only predicted when the events would otherwise have passed as they came.
        idle = mid_stream and shape.verdicts == (VerdictKind.STREAMING,)
        return Prediction(
            (VerdictKind.CUT,),
            f"{_s(silence)} of silence {where} > proxy_read_timeout {_s(timeout)}: "
            "nginx closes the stream",
            CutKind.IDLE if idle else None,
        )
    return shape


def _shape(hop: NginxHop, mock: MockScenario, accept_encoding: str) -> Prediction:
    """What nginx does to a stream it does not cut."""
    buffering = hop.buffering
    accel = ""
    if mock.accel is Accel.NO:
        buffering, accel = False, " (X-Accel-Buffering: no)"
    elif mock.accel is Accel.YES:
        buffering, accel = True, " (X-Accel-Buffering: yes)"
    state = f"buffering {'on' if buffering else 'off'}{accel}"

    content_type = (mock.ctype or _SSE).split(";")[0].strip().lower()
    compressed = (
        hop.gzip
        and "gzip" in accept_encoding.lower()
        and any(t in _WILDCARDS or t.lower() == content_type for t in hop.gzip_types)
    )
    if compressed and buffering:
        return Prediction(
            (VerdictKind.COMPRESSED, VerdictKind.BUFFERED),
            f"gzip of {content_type} with {state}: the compressed answer is held to the end",
        )
    if not buffering:
        why = "each event compressed and flushed" if compressed else "events pass as they arrive"
        return Prediction((VerdictKind.STREAMING,), f"{state}: {why}")

    chunked = mock.framing is Framing.CHUNKED or (
        mock.framing is Framing.AUTO and hop.http_version == "1.1"
    )
    if mock.framing is Framing.LENGTH:
        return Prediction(
            (VerdictKind.BUFFERED, VerdictKind.BURSTY),
            f"{state} and a Content-Length reply: held in nginx's buffers",
        )
    if not chunked:
        return Prediction(
            (VerdictKind.BUFFERED, VerdictKind.BURSTY),
            f"{state} and a close-delimited HTTP/{hop.http_version} reply: "
            "held in 4 KB buffers, the end waits for the close",
        )
    if mock.pad + _EVENT_OVERHEAD_BYTES >= NGINX_PAGE_BYTES:
        return Prediction(
            (VerdictKind.STREAMING, VerdictKind.BUFFERED, VerdictKind.BURSTY),
            f"{state}, chunked, events of a 4 KB buffer page or more: "
            "nginx may hold part of each (unsettled)",
        )
    return Prediction(
        (VerdictKind.STREAMING,),
        f"{state}, chunked HTTP/1.1: small events pass as they arrive",
    )


def _scaled_timeout(seconds: float, time_scale: float) -> float:
    """The read timeout nginx gets in a run at ``time_scale`` (``simulate.scale``'s floor)."""
    text = scale_nginx_time("proxy_read_timeout", _nginx_time(seconds), time_scale).value
    return parse_nginx_time(text)


def _nginx_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _longest_silence(mock: MockScenario) -> tuple[float, str, bool]:
    """The longest gap between bytes from the upstream after the headers, where it falls,
    and whether it falls mid-stream (after the first token)."""
    gaps: list[tuple[float, str, bool]] = [(mock.ttft, "before the first token", False)]
    if mock.tokens > mock.per_event:
        gaps.append((mock.interval, "between tokens", True))
    for pause in mock.pause:
        if pause.after == 0:
            gaps.append((mock.ttft + pause.seconds, "before the first token", False))
        elif pause.after < mock.tokens:
            gaps.append((mock.interval + pause.seconds, f"after token {pause.after}", True))
    silence, where, mid = max(gaps, key=lambda gap: gap[0])
    if mock.heartbeat is not None and mock.heartbeat < silence:
        return mock.heartbeat, f"{where} (broken by heartbeats)", mid
    return silence, where, mid


def _s(seconds: float) -> str:
    return f"{seconds:g} s"
