"""The probe's terminal report: what came back, read by read, then the numbers and the verdict.

One timeline row per socket read, so a burst (many events in one read) is one visible row
with a bar. Long timelines keep their first and last rows and every anomaly (bursts, long
silences, terminators, errors) and elide the rest. Colour is plain ANSI; every string that
came from the network is made terminal-safe first.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from tokenpath.probe.classify import EventRecord, ProbeResult
from tokenpath.probe.compare import Comparison, MetricDelta
from tokenpath.probe.metrics import Metrics, diffs_s
from tokenpath.probe.verdict import VerdictKind
from tokenpath.units import format_bytes, format_seconds, format_seconds_or_dash

_RESET = "\x1b[0m"
_STYLES = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "red": "\x1b[1;31m",
    "green": "\x1b[1;32m",
    "yellow": "\x1b[1;33m",
    "cyan": "\x1b[36m",
}
_VERDICT_STYLE = {
    VerdictKind.STREAMING: "green",
    VerdictKind.CUT: "red",
    VerdictKind.INVALID: "red",
}
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_BAR_MAX = 20
_TEXT_WIDTH = 32
_ANOMALY_KINDS = frozenset({"done", "error", "invalid", "usage"})


def render_probe_text(result: ProbeResult, *, color: bool = False, max_rows: int = 60) -> str:
    paint = _Painter(color)
    lines = [*_header(result, paint), "", *_timeline(result, paint, max_rows), ""]
    lines += _metrics(result.metrics, paint)
    lines += ["", *_verdict(result, paint)]
    return "\n".join(lines)


def render_compare_text(comparison: Comparison, *, color: bool = False) -> str:
    paint = _Painter(color)
    lines = [
        paint("bold", "tokenpath compare")
        + f": direct vs via the path ({len(comparison.direct)} + {len(comparison.via)} runs, "
        "medians)",
        f"  {'metric':<20}{'direct':>12}{'via path':>12}{'delta':>12}",
    ]
    for delta in comparison.deltas:
        lines.append(
            f"  {delta.name:<20}{_value(delta, delta.direct):>12}{_value(delta, delta.via):>12}"
            f"{_value(delta, delta.delta, signed=True):>12}"
        )
    direct = comparison.direct_verdict.value if comparison.direct_verdict else "—"
    via = comparison.via_verdict.value if comparison.via_verdict else "—"
    lines.append(f"  {'verdict':<20}{direct:>12}{via:>12}")
    style = "red" if comparison.path_at_fault else "green"
    lines += ["", paint(style, "ATTRIBUTION: ") + _safe(comparison.attribution)]
    lines += [f"  note: {_safe(note)}" for note in comparison.notes]
    return "\n".join(lines)


# --- header ---------------------------------------------------------------------------------


def _header(result: ProbeResult, paint: _Painter) -> list[str]:
    tl = result.timeline
    status = f"{tl.status} {_safe(tl.reason)}".strip() if tl.status is not None else "no response"
    parts = [
        f"HTTP/{_safe(tl.http_version)} {status}" if tl.http_version else status,
        _safe(tl.dialect),
        _safe(tl.framing) or "no body",
    ]
    if tl.content_encoding:
        parts.append(_safe(tl.content_encoding))
    hops = ", ".join(f"{_safe(h.name)} ({_safe(h.evidence)})" for h in result.hops)
    parts.append(f"hops: {hops or 'none seen'}")
    return [
        paint("bold", "tokenpath probe") + f" {_safe(tl.method)} {_safe(tl.url)}",
        "  " + " · ".join(parts),
        f"  end: {result.end_state.value}" + (f" ({_safe(tl.error)})" if tl.error else ""),
    ]


# --- timeline -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    t_s: float
    text: str
    keep: bool  # an anomaly: never elided
    events: int = 0
    is_read: bool = True


def _timeline(result: ProbeResult, paint: _Painter, max_rows: int) -> list[str]:
    rows = _rows(result, paint)
    head = f"  {'t (ms)':>10}  {'read#':>5}  {'events':>6}  {'bytes':>7}  {'delay':>8}  what"
    return [paint("dim", head), *_elide(rows, max_rows, paint)]


def _rows(result: ProbeResult, paint: _Painter) -> list[_Row]:
    tl, metrics = result.timeline, result.metrics
    by_read: dict[int, list[EventRecord]] = defaultdict(list)
    for event in result.events:
        by_read[event.read_index].append(event)
    rows: list[_Row] = []
    if metrics.ttfb_headers_s is not None:
        rows.append(_pseudo(metrics.ttfb_headers_s, f"headers ({tl.status})", paint, "cyan"))
    read_times = [r.t_ns for r in tl.reads]
    gaps = diffs_s(read_times)
    slow = max(0.25, 5 * statistics.median(gaps)) if gaps else float("inf")
    first_content = next(
        (e.read_index for e in result.events if e.kind in ("content", "raw")), None
    )
    for position, read in enumerate(tl.reads):
        events = by_read.get(read.index, [])
        content = sum(1 for e in events if e.kind in ("content", "raw"))
        gap = gaps[position - 1] if position else 0.0
        anomaly = (
            content >= 2
            or gap >= slow
            or read.index == first_content
            or any(e.kind in _ANOMALY_KINDS for e in events)
        )
        t_s = (read.t_ns - tl.t_start_ns) / 1e9
        delays = [e.delay_s for e in events if e.delay_s is not None]
        delay = format_seconds(max(delays)) if delays else "—"
        what = _what(events, content, paint)
        if gap >= slow:
            what = paint("yellow", f"after {format_seconds(gap)} silence ") + what
        line = (
            f"  {t_s * 1e3:>10.1f}  {read.index:>5}  {len(events):>6}  {read.body_bytes:>7}  "
            f"{delay:>8}  {what}"
        )
        rows.append(_Row(t_s, line, anomaly, len(events)))
    cut = result.verdict.cut
    end_style = "red" if cut is not None else "cyan"
    end = f"end: {result.end_state.value}"
    if read_times:
        silence = (tl.t_end_ns - read_times[-1]) / 1e9
        if silence >= min(slow, 0.25):
            end = f"after {format_seconds(silence)} silence {end}"
    rows.append(_pseudo(metrics.e2e_stream_s, end, paint, end_style))
    return rows


def _pseudo(t_s: float, text: str, paint: _Painter, style: str) -> _Row:
    line = f"  {t_s * 1e3:>10.1f}  {'-':>5}  {'-':>6}  {'-':>7}  {'-':>8}  {paint(style, text)}"
    return _Row(t_s, line, True, is_read=False)


def _what(events: list[EventRecord], content: int, paint: _Painter) -> str:
    if not events:
        return paint("dim", "(part of an event)")
    counts = Counter(e.kind for e in events)
    summary = " ".join(f"{kind}×{n}" if n > 1 else kind for kind, n in counts.items())
    preview = next((e for e in events if e.text and e.kind != "done"), None)
    text = ""
    if preview is not None:
        clipped = (
            preview.text if len(preview.text) <= _TEXT_WIDTH else preview.text[:_TEXT_WIDTH] + "…"
        )
        text = f' "{_safe(clipped)}"'
    if content >= 2:
        bar = "█" * min(content, _BAR_MAX) + ("+" if content > _BAR_MAX else "")
        return paint("yellow", bar) + f" {summary}{text}"
    return summary + text


def _elide(rows: list[_Row], max_rows: int, paint: _Painter) -> list[str]:
    if len(rows) <= max_rows:
        return [r.text for r in rows]
    edge = max(1, max_rows // 4)
    keep = {i for i in range(len(rows)) if i < edge or i >= len(rows) - edge}
    for i, row in enumerate(rows):
        if len(keep) >= max_rows:
            break
        if row.keep:
            keep.add(i)
    lines: list[str] = []
    skipped: list[_Row] = []
    for i, row in enumerate(rows):
        if i in keep:
            if skipped:
                lines.append(_elision(skipped, paint))
                skipped = []
            lines.append(row.text)
        else:
            skipped.append(row)
    if skipped:
        lines.append(_elision(skipped, paint))
    return lines


def _elision(skipped: list[_Row], paint: _Painter) -> str:
    reads = sum(1 for r in skipped if r.is_read)
    events = sum(r.events for r in skipped)
    return paint("dim", f"  {'…':>10}  {reads} reads ({events} events) elided")


# --- metrics and verdict --------------------------------------------------------------------


def _metrics(m: Metrics, paint: _Painter) -> list[str]:
    s = format_seconds_or_dash
    itl = f"ITL p50/p90/max {s(m.itl_p50_s)} / {s(m.itl_p90_s)} / {s(m.itl_max_s)}"
    if m.itl_basis:
        itl += f" ({m.itl_basis.replace('_', ' ')})"
    lines = [
        paint("bold", "metrics") + "  (from the start of connect)",
        f"  connect {s(m.connect_s)} · TLS {s(m.tls_s)} · headers {s(m.ttfb_headers_s)} · "
        f"first byte {s(m.ttfb_body_s)} · first event {s(m.ttf_event_s)} · "
        f"first data {s(m.ttf_data_s)}",
        f"  TTFT {s(m.ttft_s)} · last token {s(m.e2e_last_token_s)} · stream end "
        f"{s(m.e2e_stream_s)} · tail {s(m.tail_s)}",
        f"  gaps p50/p90/max {s(m.gap_p50_s)} / {s(m.gap_p90_s)} / {s(m.gap_max_s)} · {itl}",
        f"  events/read mean {_float(m.events_per_read_mean)} max {m.events_per_read_max} · "
        f"max burst {_count(m.max_burst_events, 'event')} / {format_bytes(m.max_burst_bytes)}",
        f"  content events {m.content_events} · events {m.total_events} "
        f"({m.comment_events} comments) · body {format_bytes(m.body_bytes)} · wire "
        f"{format_bytes(m.wire_bytes)} · reads {m.reads} · server tokens "
        f"{'—' if m.server_tokens is None else m.server_tokens}",
    ]
    if m.stamped:
        lines.append(
            f"  delivery delay p50/p90/p99/max {s(m.delay_p50_s)} / {s(m.delay_p90_s)} / "
            f"{s(m.delay_p99_s)} / {s(m.delay_max_s)} ({m.stamped} stamped events)"
        )
    return lines


def _verdict(result: ProbeResult, paint: _Painter) -> list[str]:
    verdict = result.verdict
    title = verdict.kind.value
    if verdict.cut is not None:
        status = f", status {verdict.cut.status}" if verdict.cut.status is not None else ""
        title += f" ({verdict.cut.kind.value} at {format_seconds(verdict.cut.at_s)}{status})"
    if verdict.certain:
        how = "  [certain: mock send stamps]"
    elif verdict.kind in (VerdictKind.CUT, VerdictKind.INVALID):
        how = ""  # seen directly
    else:
        how = "  [inferred from read structure]"
    lines = [paint(_VERDICT_STYLE.get(verdict.kind, "yellow"), f"VERDICT: {title}") + how]
    lines += [f"  - {_safe(e)}" for e in verdict.evidence]
    if verdict.likely_causes:
        lines.append(paint("bold", "likely causes:"))
        lines += [f"  - {_safe(c)}" for c in verdict.likely_causes]
    if verdict.notes:
        lines.append(paint("bold", "notes:"))
        lines += [f"  - {_safe(n)}" for n in verdict.notes]
    return lines


# --- helpers --------------------------------------------------------------------------------


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.color else text


def _safe(text: str) -> str:
    """Terminal-safe: control characters (ESC included), DEL, C1 and bidi overrides escaped.
    Already-escaped record text passes unchanged."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _float(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _value(delta: MetricDelta, value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    if not delta.name.endswith("_s"):
        return f"{value:+g}" if signed else f"{value:g}"
    text = format_seconds(abs(value))
    return ("+" if value >= 0 else "-") + text if signed else text
