"""The verdict: ``decide`` applies every rule and keeps the highest-priority finding.

Priority when several apply: CUT > INVALID > BUFFERED/COMPRESSED > BURSTY > SLOW_START >
STREAMING. A compressed response turns a BUFFERED or BURSTY finding into COMPRESSED. Notes
explain what the chosen finding does not: other findings behind a CUT or INVALID, the stamp
clock, an abnormal end after the terminator, a server-side slow start.

With mock send stamps every content event's delivery delay (receive - send) is known, and the
verdict is certain. Without them, bursts and holding are inferred from how events were grouped
into socket reads, and the evidence says so.
"""

from __future__ import annotations

from collections.abc import Callable

from tokenpath.probe.bursts import find_bursts
from tokenpath.probe.failures import find_cut, find_invalid
from tokenpath.probe.holding import find_held, find_slow_start
from tokenpath.probe.hops import Hop
from tokenpath.probe.measurement import EndState, Measurement, StampClock
from tokenpath.probe.safe_text import sanitize
from tokenpath.probe.timeline import Timeline, TransportEnd
from tokenpath.probe.verdict import (
    PRIORITY,
    Finding,
    Stream,
    Thresholds,
    Verdict,
    VerdictKind,
    prepare,
)
from tokenpath.stream.dialects import Dialect, Kind
from tokenpath.units import format_seconds_or_dash

UNCERTAIN = (
    "without send stamps this is inferred from read structure; use --compare DIRECT_URL or "
    "the tokenpath mock to be certain"
)
RULES: tuple[Callable[[Stream], Finding | None], ...] = (
    find_cut,
    find_invalid,
    find_held,
    find_bursts,
    find_slow_start,
)
_SELF_EXPLAINED = frozenset({"no_content", "slow_ttft"})
_INFERRED = frozenset(
    {VerdictKind.BUFFERED, VerdictKind.BURSTY, VerdictKind.COMPRESSED, VerdictKind.SLOW_START}
)


def decide(timeline: Timeline, m: Measurement, hops: tuple[Hop, ...], th: Thresholds) -> Verdict:
    """Apply every rule, keep the highest-priority finding, and explain the rest in notes."""
    stream = prepare(timeline, m, hops, th)
    findings = [f for f in (rule(stream) for rule in RULES) if f is not None]
    findings.sort(key=lambda f: PRIORITY[f.kind])
    notes = _notes(stream)
    if not findings:
        chosen = Finding(VerdictKind.STREAMING, "streaming", _streaming_evidence(stream))
    else:
        chosen = findings[0]
        if chosen.kind in (VerdictKind.CUT, VerdictKind.INVALID):
            notes += [f"also {f.kind.value}: {f.evidence[0]}" for f in findings[1:]]
    chosen = _with_compression(stream, chosen, notes)
    evidence = chosen.evidence
    if not stream.stamps and chosen.kind in _INFERRED and chosen.pattern not in _SELF_EXPLAINED:
        evidence += (UNCERTAIN,)
    return Verdict(
        kind=chosen.kind,
        cut=chosen.cut,
        evidence=evidence,
        certain=stream.stamps,
        notes=tuple(notes),
        pattern=chosen.pattern,
        burst=chosen.burst,
    )


def _streaming_evidence(st: Stream) -> tuple[str, ...]:
    metrics = st.m.metrics
    if not st.content:
        return (
            f"the stream ended properly but carried no content ({metrics.total_events} events)",
        )
    reads = len(st.per_read)
    sentence = (
        f"{st.n} content events arrived in {reads} reads (at most {metrics.max_burst_events} per "
        f"read), first at {format_seconds_or_dash(metrics.ttft_s)}, last at "
        f"{format_seconds_or_dash(metrics.e2e_last_token_s)}"
    )
    if st.stamps and metrics.delay_p90_s is not None:
        sentence += f"; delivery delay p90 {format_seconds_or_dash(metrics.delay_p90_s)}"
    return (sentence,)


def _with_compression(st: Stream, finding: Finding, notes: list[str]) -> Finding:
    encoding = st.timeline.content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return finding
    if finding.kind in (VerdictKind.BUFFERED, VerdictKind.BURSTY):
        lead = (
            f"the response was compressed ({sanitize(encoding, 20)}) and the content was held: "
            "a compressor (or the hop running it) waits for its buffer to fill"
        )
        return Finding(
            VerdictKind.COMPRESSED,
            finding.pattern,
            (lead, *finding.evidence),
            cut=finding.cut,
            burst=finding.burst,
        )
    if finding.kind is VerdictKind.STREAMING:
        notes.append(f"compressed ({sanitize(encoding, 20)}) per event: harmless here")
    else:
        notes.append(f"the response was compressed ({sanitize(encoding, 20)})")
    return finding


def _notes(st: Stream) -> list[str]:
    tl, m = st.timeline, st.m
    notes: list[str] = []
    if m.stamp_clock is StampClock.OFFSET:
        notes.append(
            "send stamps come from another host's clock: delays are relative to the fastest event"
        )
    if m.dialect is Dialect.RAW and m.end_state is not EndState.HTTP_ERROR:
        notes.append("raw dialect: no end marker to check, so a clean close counts as done")
    if m.end_state is EndState.DONE and tl.transport_end is not TransportEnd.COMPLETE:
        notes.append(
            "the terminator arrived, then the transport ended abnormally "
            f"({tl.transport_end.value})"
        )
    if m.end_state is EndState.CLIENT_TIMEOUT and st.content:
        notes.append(
            "the probe's own timeout ended the stream at "
            f"{format_seconds_or_dash(st.s(tl.t_end_ns))} before it finished; raise --timeout / "
            "--max-time to see its end"
        )
    errors = [o for o in m.observed if o.info.kind is Kind.ERROR]
    if errors and m.end_state is EndState.DONE:
        notes.append(
            f"the server sent an error event at {format_seconds_or_dash(st.s(errors[0].t_ns))}: "
            f"'{sanitize(errors[0].info.error, 80)}'"
        )
    server_ttft = m.metrics.server_ttft_s
    if st.stamps and server_ttft is not None and server_ttft >= st.th.slow_ttft_s:
        notes.append(
            f"the server itself sent its first content at {format_seconds_or_dash(server_ttft)} "
            "(send stamp): the model or its queue, not the path"
        )
    return notes
