"""Pure decisions of ``probe --diagnose``: which mock scenario to send next and what the
answers mean. No I/O and no clocks; ``probe.diagnose`` runs the probes.

Every probe is summarised as an ``Outcome``; the helpers here turn outcomes into findings
(buffering, idle timeouts before and after headers, total timeout, heartbeats, compression,
framing), each with its evidence. Timer classes follow FACTS §0; likely causes come from the
probe's own cause table (``probe.causes``, FACTS §18).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from enum import StrEnum

from tokenpath.probe.classify import ProbeResult, VerdictKind
from tokenpath.probe.measurement import EndState

# Scenario recipes. Each mock event is ~300 B (JSON plus the send stamp).
FAST_SCENARIO = "ttft=50ms;itl=25ms;tokens=20"
PADDED_SCENARIO = "ttft=20ms;itl=20ms;tokens=48;pad=1k"
LENGTH_SCENARIO = FAST_SCENARIO + ";framing=length"
PAUSE_ITL_S = 0.02
PAUSE_AFTER = 3  # content tokens before the pause
TOTAL_ITL_S = 0.1
# nginx re-arms timers lazily (up to 300 ms early, NGX_TIMER_LAZY_DELAY): a cut observed
# after a silence of s means the timer is at most s plus this.
TIMER_SLACK_S = 0.35


def pause_scenario(seconds: float, heartbeat_s: float | None = None) -> str:
    """Tokens, a silence of ``seconds`` after ``PAUSE_AFTER`` tokens, then more tokens."""
    text = (
        f"ttft=0;itl={_ms(PAUSE_ITL_S)};tokens={PAUSE_AFTER * 2};pause={PAUSE_AFTER}@{_ms(seconds)}"
    )
    if heartbeat_s is not None:
        text += f";heartbeat={_ms(heartbeat_s)}"
    return text


def header_delay_scenario(seconds: float) -> str:
    """Response headers only after ``seconds``, then a short fast stream."""
    return f"headers={_ms(seconds)};ttft=0;itl={_ms(PAUSE_ITL_S)};tokens=3"


def total_scenario(seconds: float) -> str:
    """Tokens flowing every ``TOTAL_ITL_S`` for about ``seconds``."""
    tokens = max(2, int(seconds / TOTAL_ITL_S))
    return f"ttft=0;itl={_ms(TOTAL_ITL_S)};tokens={tokens}"


def _ms(seconds: float) -> str:
    return f"{max(0, round(seconds * 1000))}ms"


# ---------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one diagnose probe showed, in the terms the decisions need."""

    scenario: str
    status: int | None
    completed: bool  # the stream's end marker arrived
    verdict: str
    pattern: str
    headers_s: float | None  # response headers arrived
    end_s: float  # the exchange ended
    cut_at_s: float | None  # the verdict's cut time, if any
    cut_silence_s: float | None
    content_events: int
    comment_events: int
    framing: str
    content_encoding: str
    burst_bytes: tuple[int, ...] = ()  # body bytes of reads that carried 2+ content events
    burst_period_s: float | None = None
    burst_size_bytes: int | None = None
    ttft_s: float | None = None
    delay_p50_s: float | None = None
    delay_max_s: float | None = None
    likely_causes: tuple[str, ...] = ()
    accept_encoding: str = "identity"

    @property
    def cut(self) -> bool:
        return not self.completed


def outcome_of(result: ProbeResult, scenario: str, accept_encoding: str = "identity") -> Outcome:
    """Summarise a probe result."""
    m = result.metrics
    t0 = result.timeline.t_start_ns
    per_read: dict[int, int] = {}
    for event in result.events:
        if event.kind in ("content", "raw"):
            per_read[event.read_index] = per_read.get(event.read_index, 0) + 1
    multi = {i for i, count in per_read.items() if count >= 2}
    bursts = tuple(r.body_bytes for r in result.timeline.reads if r.index in multi)
    cut = result.verdict.cut
    burst = result.verdict.burst
    headers_ns = result.timeline.t_headers_ns
    status = result.timeline.status
    return Outcome(
        scenario=scenario,
        status=status,
        completed=result.end_state is EndState.DONE and status is not None and status < 400,
        verdict=result.verdict.kind.value,
        pattern=result.verdict.pattern,
        headers_s=None if headers_ns is None else (headers_ns - t0) / 1e9,
        end_s=m.e2e_stream_s,
        cut_at_s=None if cut is None else cut.at_s,
        cut_silence_s=None if cut is None else cut.silence_s,
        content_events=m.content_events,
        comment_events=m.comment_events,
        framing=result.timeline.framing,
        content_encoding=result.timeline.content_encoding,
        burst_bytes=bursts,
        burst_period_s=None if burst is None else burst.period_s,
        burst_size_bytes=None if burst is None else burst.size_bytes,
        ttft_s=m.ttft_s,
        delay_p50_s=m.delay_p50_s,
        delay_max_s=m.delay_max_s,
        likely_causes=result.verdict.likely_causes,
        accept_encoding=accept_encoding,
    )


# ---------------------------------------------------------------------------- findings


class Buffering(StrEnum):
    NONE = "none"
    BY_SIZE = "by_size"
    BY_TIME = "by_time"
    UNTIL_END = "until_end"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class BufferingFinding:
    mode: Buffering
    threshold_bytes: int | None
    period_s: float | None
    evidence: tuple[str, ...]
    likely_cause: str | None = None


def _held(o: Outcome) -> bool:
    return o.verdict in (VerdictKind.BUFFERED.value, VerdictKind.BURSTY.value) or bool(
        o.burst_bytes
    )


def decide_buffering(fast: Outcome, padded: Outcome) -> BufferingFinding:
    """Buffering from a fast small-event stream and a padded (1 KB events) one."""
    evidence = (
        f"small events ({fast.scenario}): {fast.verdict}"
        + (f" ({fast.pattern})" if fast.pattern else "")
        + f", {fast.content_events} events, TTFT {_s(fast.ttft_s)}",
        f"1 KB events ({padded.scenario}): {padded.verdict}"
        + (f" ({padded.pattern})" if padded.pattern else "")
        + f", {padded.content_events} events in {len(padded.burst_bytes)} multi-event reads",
    )
    cause = _first(padded.likely_causes) or _first(fast.likely_causes)
    if not (fast.completed and padded.completed):
        return BufferingFinding(
            Buffering.UNKNOWN,
            None,
            None,
            (*evidence, "a buffering probe did not complete: see the timeout findings"),
        )
    if not _held(fast) and not _held(padded):
        return BufferingFinding(Buffering.NONE, None, None, evidence)
    if padded.pattern == "held_to_end" or (
        padded.verdict == VerdictKind.BUFFERED.value and not padded.burst_bytes
    ):
        return BufferingFinding(Buffering.UNTIL_END, None, None, evidence, cause)
    if padded.burst_period_s is not None and padded.burst_size_bytes is None:
        return BufferingFinding(
            Buffering.BY_TIME,
            None,
            padded.burst_period_s,
            (*evidence, f"bursts every {_s(padded.burst_period_s)}"),
            cause,
        )
    if padded.burst_bytes:
        threshold = padded.burst_size_bytes or int(statistics.median(padded.burst_bytes))
        return BufferingFinding(
            Buffering.BY_SIZE,
            threshold,
            None,
            (
                *evidence,
                f"burst sizes {_bytes_list(padded.burst_bytes)}: released every ≈{threshold} B",
            ),
            cause,
        )
    return BufferingFinding(Buffering.UNKNOWN, None, None, evidence, cause)


@dataclass(slots=True)
class Bisection:
    """Bisection of a timer between ``lo`` (known not to fire) and ``hi`` (upper bound).

    ``tested_hi`` is False until a probe at ``hi`` showed a cut; without it there may be no
    timer at all below ``hi``.
    """

    lo: float
    hi: float
    resolution: float
    tested_hi: bool = False
    no_timer: bool = False
    probe_below: bool = False  # the last cut told when the timer fired: probe just below it

    def next_point(self) -> float | None:
        """The silence to try next, or None when done."""
        if self.no_timer:
            return None
        if not self.tested_hi:
            return self.hi
        if self.hi - self.lo <= self.resolution:
            return None
        if self.probe_below:
            # A cut showed when the timer fired: try just under it, which usually closes
            # the bracket in one probe instead of log2(range / resolution).
            self.probe_below = False
            return max(self.lo, self.hi - 0.9 * self.resolution)
        return (self.lo + self.hi) / 2

    def record(self, tried: float, cut: bool, observed_s: float | None = None) -> None:
        """A probe with a silence of ``tried`` was cut (or not); ``observed_s`` is how long the
        silence lasted when the cut came (a tighter upper bound)."""
        if not cut:
            if tried >= self.hi:
                self.no_timer = True
            self.lo = max(self.lo, tried)
            return
        self.tested_hi = True
        bound = tried
        if observed_s is not None and observed_s > 0 and observed_s + TIMER_SLACK_S < tried:
            bound = observed_s + TIMER_SLACK_S
            self.probe_below = True
        self.hi = max(self.lo, min(self.hi, bound))

    @property
    def estimate(self) -> float:
        return (self.lo + self.hi) / 2

    @property
    def plus_minus(self) -> float:
        return (self.hi - self.lo) / 2


def resolution_for(max_idle_s: float) -> float:
    """Bracket width to stop at: 2 s (±1 s), finer when the search range is small."""
    return min(2.0, max(0.2, max_idle_s / 6))


def pause_cut_silence(o: Outcome) -> float | None:
    """How long the silence lasted before a mid-stream cut."""
    if o.cut_silence_s is not None:
        return o.cut_silence_s
    return None


def header_cut_silence(o: Outcome) -> float | None:
    """How long the wait for headers lasted before the error status or close."""
    if o.status is not None and o.status >= 500 and o.headers_s is not None:
        return o.headers_s
    if o.status is None:
        return o.end_s
    return None


@dataclass(frozen=True, slots=True)
class TimeoutFinding:
    name: str  # "idle_before_headers", "idle_after_headers", "total"
    found: bool
    low_s: float | None
    high_s: float | None
    searched_to_s: float
    complete: bool  # the search finished (not cut short by the budget)
    status: int | None  # the status the cut showed (504, 200, ...)
    evidence: tuple[str, ...]
    likely_cause: str | None = None

    @property
    def estimate_s(self) -> float | None:
        if self.low_s is None or self.high_s is None:
            return None
        return (self.low_s + self.high_s) / 2


def decide_idle(
    name: str, bisection: Bisection, tried: list[tuple[float, Outcome]], searched_to: float
) -> TimeoutFinding:
    """The idle finding from a bisection and its probes (silence tried, outcome)."""
    evidence = tuple(
        f"silence {x:.2f} s: "
        + (
            f"cut (status {o.status}, after {_s(o.cut_silence_s or o.headers_s or o.end_s)})"
            if o.cut
            else f"completed (status {o.status})"
        )
        for x, o in tried
    )
    cuts = [o for _, o in tried if o.cut]
    if not cuts:
        return TimeoutFinding(
            name,
            False,
            None,
            None,
            searched_to,
            bisection.no_timer,
            None,
            (*evidence, f"no cut with silences up to {searched_to:.2f} s"),
        )
    worst = cuts[-1]
    return TimeoutFinding(
        name,
        True,
        bisection.lo,
        bisection.hi,
        searched_to,
        bisection.next_point() is None,
        worst.status,
        evidence,
        _first(worst.likely_causes),
    )


def decide_total(o: Outcome | None, planned_s: float) -> TimeoutFinding:
    """Total timer from a long generation with tokens flowing."""
    if o is None:
        return TimeoutFinding(
            "total", False, None, None, 0.0, False, None, ("not measured: budget exhausted",)
        )
    if o.completed:
        return TimeoutFinding(
            "total",
            False,
            None,
            None,
            planned_s,
            True,
            o.status,
            (f"{o.content_events} events over {_s(o.end_s)} with tokens flowing: completed",),
        )
    at = o.cut_at_s if o.cut_at_s is not None else o.end_s
    silence = o.cut_silence_s
    # Tokens flowed until the timer fired; a silence longer than a few token gaps before the
    # close is the hop holding the connection after its cut (Envoy's delayed_close_timeout,
    # 1 s by default), so the timer fired between the last token and the close.
    fired = at - silence if silence is not None and silence > 3 * TOTAL_ITL_S else at
    held = (
        f"; the timer fired between {_s(fired)} (last token) and {_s(at)} (close): "
        "the hop held the connection after its cut (Envoy: delayed_close_timeout)"
        if fired < at
        else ""
    )
    evidence = (
        f"cut at {_s(at)} (status {o.status}) while tokens flowed every "
        f"{TOTAL_ITL_S:.1f} s; {o.content_events} events"
        + (f", silence before the cut {_s(silence)}" if silence is not None else "")
        + held,
    )
    return TimeoutFinding(
        "total", True, fired, at, planned_s, True, o.status, evidence, _first(o.likely_causes)
    )


@dataclass(frozen=True, slots=True)
class HeartbeatFinding:
    tested: bool
    keeps_alive: bool | None
    evidence: tuple[str, ...]


def decide_heartbeat(o: Outcome | None, pause_s: float, heartbeat_s: float) -> HeartbeatFinding:
    if o is None:
        return HeartbeatFinding(False, None, ("not tested: no idle timeout found after headers",))
    sentence = (
        f"pause {pause_s:.2f} s with an SSE comment every {heartbeat_s:.2f} s: "
        f"{o.comment_events} comments, "
        + ("completed" if o.completed else f"cut (status {o.status}) after {_s(o.end_s)}")
    )
    return HeartbeatFinding(True, o.completed, (sentence,))


@dataclass(frozen=True, slots=True)
class CompressionFinding:
    applied: bool
    encoding: str
    delays_events: bool
    evidence: tuple[str, ...]


def decide_compression(identity: Outcome, gzip: Outcome) -> CompressionFinding:
    applied = bool(gzip.content_encoding) and gzip.content_encoding != "identity"
    held_more = _held(gzip) and not _held(identity)
    slower = (
        gzip.ttft_s is not None
        and identity.ttft_s is not None
        and gzip.ttft_s > identity.ttft_s + 0.25
    )
    delays = applied and (held_more or slower)
    evidence = (
        f"Accept-Encoding: identity → Content-Encoding {identity.content_encoding or '(none)'}, "
        f"{identity.verdict}, TTFT {_s(identity.ttft_s)}",
        f"Accept-Encoding: {gzip.accept_encoding} → Content-Encoding "
        f"{gzip.content_encoding or '(none)'}, {gzip.verdict}, TTFT {_s(gzip.ttft_s)}",
    )
    return CompressionFinding(applied, gzip.content_encoding, delays, evidence)


@dataclass(frozen=True, slots=True)
class FramingFinding:
    changed: bool
    sent_auto: str  # what the client saw for the mock's default framing
    sent_length: str  # what the client saw when the mock sent Content-Length
    evidence: tuple[str, ...]


def decide_framing(auto: Outcome, length: Outcome) -> FramingFinding:
    """The mock sends chunked to an HTTP/1.1 hop (close-delimited to 1.0) and, on request,
    Content-Length; compare with what arrived."""
    changed = auto.framing != "chunked" or length.framing != "length"
    evidence: tuple[str, ...] = (
        f"mock default framing (chunked to an HTTP/1.1 hop, close-delimited to HTTP/1.0): "
        f"client saw {auto.framing or '(none)'}",
        f"mock Content-Length framing: client saw {length.framing or '(none)'}",
    )
    if auto.framing == "close":
        evidence = (
            *evidence,
            "close-delimited at the client: a hop spoke HTTP/1.0 upstream or re-framed the body "
            "(truncation cannot be seen from the framing)",
        )
    return FramingFinding(changed, auto.framing, length.framing, evidence)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    url: str
    budget_s: float
    max_idle_s: float
    elapsed_s: float
    probes: int
    budget_exhausted: bool
    buffering: BufferingFinding | None
    idle_before_headers: TimeoutFinding | None
    idle_after_headers: TimeoutFinding | None
    total: TimeoutFinding | None
    heartbeats: HeartbeatFinding | None
    compression: CompressionFinding | None
    framing: FramingFinding | None

    @property
    def timer_ignores_heartbeats(self) -> bool:
        """The timer found after headers fired although heartbeats flowed: it is not an idle
        timer but a total (request/route) one, whatever the pause search suggested."""
        idle = self.idle_after_headers
        beats = self.heartbeats
        return (
            idle is not None
            and idle.found
            and beats is not None
            and beats.tested
            and beats.keeps_alive is False
        )

    @property
    def likely_cause(self) -> str | None:
        """The first cause named by a finding that found a problem."""
        if self.timer_ignores_heartbeats:
            return (
                "a timer that cuts the stream although heartbeats flow is a total "
                "(request/route) timer, not an idle one: Envoy route timeout (15 s by default), "
                "HTTPRoute timeouts.request, Traefik writeTimeout, GKE timeoutSec; heartbeats "
                "do not help, raise it above the longest generation"
            )
        for finding in (self.idle_before_headers, self.idle_after_headers, self.total):
            if finding is not None and finding.found and finding.likely_cause:
                return finding.likely_cause
        if self.buffering is not None and self.buffering.mode not in (
            Buffering.NONE,
            Buffering.UNKNOWN,
        ):
            return self.buffering.likely_cause
        return None


def _first(items: tuple[str, ...]) -> str | None:
    return items[0] if items else None


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _bytes_list(values: tuple[int, ...]) -> str:
    shown = ", ".join(str(v) for v in values[:6])
    return shown + (", …" if len(values) > 6 else "")
