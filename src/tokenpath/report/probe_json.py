"""Probe results as JSON (one document) and JSON Lines (one line per event, then a summary).

The schema is versioned by ``SCHEMA_VERSION`` and documented in ``docs/probe.md``; keys are
stable, absent values are ``null``. Everything that came from the server was sanitised when
it was recorded, and ``json.dumps`` escapes the rest (ASCII output).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence

from tokenpath.probe.classify import ProbeResult
from tokenpath.probe.compare import Comparison
from tokenpath.probe.metrics import Metrics
from tokenpath.probe.verdict import PRIORITY, CutInfo, VerdictKind

SCHEMA_VERSION = 1
TOOL = "tokenpath"
_DIGITS = 6  # microseconds

# Top-level keys that mirror one run (the only one, or the worst of several).
MIRRORED_KEYS = ("status", "verdict", "cut", "end_state", "metrics", "evidence")


def probe_to_dict(result: ProbeResult) -> dict[str, object]:
    """One run: the ``runs[]`` entry of the document."""
    tl, verdict = result.timeline, result.verdict
    cut = verdict.cut
    burst = verdict.burst
    return {
        "url": tl.url,
        "status": tl.status,
        "dialect": tl.dialect,
        "verdict": verdict.kind.value,
        "pattern": verdict.pattern,
        "certain": verdict.certain,
        "cut": cut_to_dict(cut),
        "burst": None
        if burst is None
        else {
            "reads": burst.reads,
            "max_events": burst.max_events,
            "size_bytes": burst.size_bytes,
            "period_s": num(burst.period_s),
        },
        "end_state": result.end_state.value,
        "metrics": metrics_to_dict(result.metrics),
        "evidence": list(verdict.evidence),
        "notes": list(verdict.notes),
        "likely_causes": list(verdict.likely_causes),
        "hops": [{"name": hop.name, "evidence": hop.evidence} for hop in result.hops],
        "error": tl.error or None,
    }


def cut_to_dict(cut: CutInfo | None) -> dict[str, object] | None:
    """The ``cut`` object of every JSON output that reports a verdict."""
    if cut is None:
        return None
    return {
        "kind": cut.kind.value,
        "at_s": num(cut.at_s),
        "status": cut.status,
        "silence_s": num(cut.silence_s),
    }


def metrics_to_dict(metrics: Metrics) -> dict[str, object]:
    return {key: num(value) for key, value in dataclasses.asdict(metrics).items()}


def comparison_to_dict(comparison: Comparison) -> dict[str, object]:
    return {
        "direct_verdict": _kind(comparison.direct_verdict),
        "via_verdict": _kind(comparison.via_verdict),
        "attribution": comparison.attribution,
        "path_at_fault": comparison.path_at_fault,
        "metrics": [
            {"name": d.name, "direct": num(d.direct), "via": num(d.via), "delta": num(d.delta)}
            for d in comparison.deltas
        ],
        "notes": list(comparison.notes),
        "direct_runs": [probe_to_dict(r) for r in comparison.direct],
    }


def render_probe_json(results: Sequence[ProbeResult], comparison: Comparison | None = None) -> str:
    """The whole document. ``results`` are the runs through the path; with ``comparison``
    the direct runs are under ``comparison.direct_runs``."""
    runs = [probe_to_dict(r) for r in results]
    document: dict[str, object] = {"schema_version": SCHEMA_VERSION, "tool": TOOL}
    representative = _representative(results, runs)
    for key in MIRRORED_KEYS:
        document[key] = representative.get(key)
    document["runs"] = runs
    document["comparison"] = None if comparison is None else comparison_to_dict(comparison)
    return json.dumps(document, indent=2)


def render_probe_jsonl(result: ProbeResult) -> Iterator[str]:
    """One line per event, then ``{"type": "summary", ...}`` with the ``runs[]`` entry."""
    for event in result.events:
        yield json.dumps(
            {
                "type": "event",
                "t_s": num(event.t_s),
                "read": event.read_index,
                "kind": event.kind,
                "bytes": event.bytes,
                "delay_s": num(event.delay_s),
                "send_s": num(event.send_s),
                "text": event.text,
            }
        )
    yield json.dumps({"type": "summary", "schema_version": SCHEMA_VERSION, **probe_to_dict(result)})


def _representative(
    results: Sequence[ProbeResult], runs: list[dict[str, object]]
) -> dict[str, object]:
    if not runs:
        return {"metrics": {}, "evidence": []}
    worst = min(range(len(results)), key=lambda i: PRIORITY[results[i].verdict.kind])
    return runs[0] if len(runs) == 1 else runs[worst]


def num(value: object) -> object:
    """Floats rounded to microseconds, so JSON output stays short and stable."""
    return round(value, _DIGITS) if isinstance(value, float) else value


def _kind(kind: VerdictKind | None) -> str | None:
    return None if kind is None else kind.value
