"""``probe --diagnose`` output: text for people, one JSON document for machines."""

from __future__ import annotations

import json

from tokenpath.probe.diagnosis import (
    Buffering,
    BufferingFinding,
    CompressionFinding,
    Diagnosis,
    FramingFinding,
    HeartbeatFinding,
    TimeoutFinding,
)
from tokenpath.probe.request import display_url

SCHEMA_VERSION = 1


def _timeout_line(label: str, f: TimeoutFinding | None) -> str:
    if f is None:
        return f"{label}: not measured (budget exhausted)"
    if not f.found:
        if f.name == "total":
            return f"{label}: none within {f.searched_to_s:.1f} s of flowing tokens"
        return f"{label}: none up to {f.searched_to_s:.1f} s"
    if f.name == "total":
        assert f.low_s is not None
        assert f.high_s is not None
        fired = f"{f.low_s:.1f} s" if f.low_s == f.high_s else f"{f.low_s:.1f}-{f.high_s:.1f} s"
        return f"{label}: cut at {fired} while tokens flowed (status {f.status})"
    assert f.low_s is not None
    assert f.high_s is not None
    est = (f.low_s + f.high_s) / 2
    done = "" if f.complete else " (search cut short by the budget)"
    return (
        f"{label}: {est:.1f} s ± {(f.high_s - f.low_s) / 2:.1f} s "
        f"(between {f.low_s:.2f} and {f.high_s:.2f} s; status {f.status}){done}"
    )


def _buffering_line(f: BufferingFinding | None) -> str:
    if f is None:
        return "buffering: not measured (budget exhausted)"
    match f.mode:
        case Buffering.BY_SIZE:
            return f"buffering: by size, released every ≈{f.threshold_bytes} B"
        case Buffering.BY_TIME:
            return f"buffering: by time, a burst every {f.period_s or 0:.2f} s"
        case Buffering.UNTIL_END:
            return "buffering: until the end (the whole response is held)"
        case Buffering.NONE:
            return "buffering: none"
        case _:
            return "buffering: unknown"


def _heartbeat_line(f: HeartbeatFinding | None) -> str:
    if f is None or not f.tested:
        return "heartbeats: not tested"
    return "heartbeats: keep a silent stream alive" if f.keeps_alive else "heartbeats: do NOT help"


def _compression_line(f: CompressionFinding | None) -> str:
    if f is None:
        return "compression: not measured"
    if not f.applied:
        return "compression: not applied"
    return f"compression: {f.encoding} applied" + (
        ", and it delays events" if f.delays_events else ", events not delayed"
    )


def _framing_line(f: FramingFinding | None) -> str:
    if f is None:
        return "framing: not measured"
    text = f"framing: chunked → {f.sent_auto or '-'}, length → {f.sent_length or '-'}"
    return text + (" (changed by the path)" if f.changed else " (unchanged)")


def render_diagnosis_text(d: Diagnosis) -> str:
    lines = [
        f"diagnose {display_url(d.url)}: {d.probes} probes in {d.elapsed_s:.1f} s "
        f"(budget {d.budget_s:.0f} s, idle search up to {d.max_idle_s:.1f} s)"
        + ("; budget exhausted, some findings missing" if d.budget_exhausted else "")
    ]
    sections: list[tuple[str, tuple[str, ...]]] = [
        (_buffering_line(d.buffering), d.buffering.evidence if d.buffering else ()),
        (
            _timeout_line("idle timeout before headers", d.idle_before_headers),
            d.idle_before_headers.evidence if d.idle_before_headers else (),
        ),
        (
            _timeout_line("idle timeout after headers", d.idle_after_headers),
            d.idle_after_headers.evidence if d.idle_after_headers else (),
        ),
        (_timeout_line("total timeout", d.total), d.total.evidence if d.total else ()),
        (_heartbeat_line(d.heartbeats), d.heartbeats.evidence if d.heartbeats else ()),
        (_compression_line(d.compression), d.compression.evidence if d.compression else ()),
        (_framing_line(d.framing), d.framing.evidence if d.framing else ()),
    ]
    for headline, evidence in sections:
        lines.append(f"  {headline}")
        lines.extend(f"      {e}" for e in evidence)
    cause = d.likely_cause
    lines.append(f"  likely cause: {cause}" if cause else "  likely cause: none identified")
    return "\n".join(lines)


def _timeout_dict(f: TimeoutFinding | None) -> dict[str, object] | None:
    if f is None:
        return None
    return {
        "found": f.found,
        "seconds": f.estimate_s,
        "low_s": f.low_s,
        "high_s": f.high_s,
        "searched_to_s": f.searched_to_s,
        "complete": f.complete,
        "status": f.status,
        "likely_cause": f.likely_cause,
        "evidence": list(f.evidence),
    }


def diagnosis_to_dict(d: Diagnosis) -> dict[str, object]:
    b, h, c, fr = d.buffering, d.heartbeats, d.compression, d.framing
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "tokenpath",
        "url": display_url(d.url),
        "budget_s": d.budget_s,
        "max_idle_s": d.max_idle_s,
        "elapsed_s": round(d.elapsed_s, 3),
        "probes": d.probes,
        "budget_exhausted": d.budget_exhausted,
        "buffering": None
        if b is None
        else {
            "mode": b.mode.value,
            "threshold_bytes": b.threshold_bytes,
            "period_s": b.period_s,
            "likely_cause": b.likely_cause,
            "evidence": list(b.evidence),
        },
        "idle_timeout_before_headers": _timeout_dict(d.idle_before_headers),
        "idle_timeout_after_headers": _timeout_dict(d.idle_after_headers),
        "total_timeout": _timeout_dict(d.total),
        "heartbeats": None
        if h is None
        else {"tested": h.tested, "keep_alive": h.keeps_alive, "evidence": list(h.evidence)},
        "compression": None
        if c is None
        else {
            "applied": c.applied,
            "encoding": c.encoding or None,
            "delays_events": c.delays_events,
            "evidence": list(c.evidence),
        },
        "framing": None
        if fr is None
        else {
            "changed": fr.changed,
            "default": fr.sent_auto or None,
            "length": fr.sent_length or None,
            "evidence": list(fr.evidence),
        },
        "likely_cause": d.likely_cause,
    }


def render_diagnosis_json(d: Diagnosis) -> str:
    return json.dumps(diagnosis_to_dict(d), indent=2, ensure_ascii=False)
