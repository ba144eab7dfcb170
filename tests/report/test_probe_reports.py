"""Probe reports: the JSON schema is stable, JSON Lines parse, the terminal text is readable,
elides long timelines and never passes server-controlled control characters through."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence

import pytest

from tokenpath.probe.classify import Metrics, ProbeResult, analyse
from tokenpath.probe.compare import compare
from tokenpath.probe.timeline import Arrival, Read, Timeline, TransportEnd
from tokenpath.report.probe_json import (
    SCHEMA_VERSION,
    probe_to_dict,
    render_probe_json,
    render_probe_jsonl,
)
from tokenpath.report.probe_text import render_compare_text, render_probe_text
from tokenpath.stream.events import SSEComment, SSEMessage, StreamEvent

MS = 1_000_000

RUN_KEYS = {
    "url",
    "status",
    "dialect",
    "verdict",
    "pattern",
    "certain",
    "cut",
    "burst",
    "end_state",
    "metrics",
    "evidence",
    "notes",
    "likely_causes",
    "hops",
    "error",
}
TOP_KEYS = {
    "schema_version",
    "tool",
    "status",
    "verdict",
    "cut",
    "end_state",
    "metrics",
    "evidence",
    "runs",
    "comparison",
}
METRIC_KEYS = {f.name for f in dataclasses.fields(Metrics)}
HOSTILE = "\x1b]0;pwned\x07\x1b[2J<script>alert(1)</script>[bold red]x[/]\u202eevil\x9b31m"


def chat(text: str, send_ms: float | None = None) -> str:
    chunk: dict[str, object] = {"choices": [{"delta": {"content": text}}]}
    if send_ms is not None:
        chunk["tokenpath_send_ns"] = round(send_ms * MS)
    return json.dumps(chunk)


def run(
    reads: Sequence[tuple[float, Sequence[str | StreamEvent]]],
    *,
    end_ms: float | None = None,
    end: TransportEnd = TransportEnd.COMPLETE,
    status: int = 200,
    reason: str = "OK",
    headers: tuple[tuple[str, str], ...] = (("server", "nginx/1.22.1"),),
    error: str = "",
    preview: str = "",
) -> ProbeResult:
    read_values: list[Read] = []
    arrivals: list[Arrival] = []
    for index, (t_ms, payloads) in enumerate(reads):
        t_ns = round(t_ms * MS)
        events = [SSEMessage(p) if isinstance(p, str) else p for p in payloads]
        size = sum(len(e.data) + 8 for e in events if isinstance(e, SSEMessage))
        read_values.append(Read(index, t_ns, size + 10, size))
        arrivals.extend(Arrival(t_ns, index, e) for e in events)
    last = read_values[-1].t_ns if read_values else 10 * MS
    return analyse(
        Timeline(
            url="http://127.0.0.1:8000/v1/chat/completions",
            method="POST",
            t_start_ns=0,
            t_connected_ns=MS // 2,
            t_request_sent_ns=MS,
            t_headers_ns=10 * MS,
            t_end_ns=last if end_ms is None else round(end_ms * MS),
            status=status,
            reason=reason,
            http_version="1.1",
            headers=headers,
            framing="chunked",
            reads=tuple(read_values),
            arrivals=tuple(arrivals),
            dialect="openai-chat" if status == 200 else "raw",
            transport_end=end,
            error=error,
            body_preview=preview,
        )
    )


def streaming(count: int = 40, stamped: bool = True) -> ProbeResult:
    reads: list[tuple[float, Sequence[str | StreamEvent]]] = [
        (151.0 + i * 20, [chat(f"tok{i} ", 150 + i * 20 if stamped else None)])
        for i in range(count)
    ]
    reads.append((151.0 + count * 20, ["[DONE]"]))
    return run(reads)


def buffered() -> ProbeResult:
    events = [chat(f"t{i}", 150 + i * 100) for i in range(40)]
    return run([(4100.0, [*events, "[DONE]"])])


def cut() -> ProbeResult:
    reads = [(150.0 + i * 30, [chat(f"t{i}")]) for i in range(10)]
    return run(reads, end_ms=5420, end=TransportEnd.TRUNCATED, error="connection closed")


# --- JSON -----------------------------------------------------------------------------------


def test_single_run_document_has_stable_keys_and_mirrors_the_run() -> None:
    document = json.loads(render_probe_json([cut()]))
    assert set(document) == TOP_KEYS
    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert document["tool"] == "tokenpath"
    (entry,) = document["runs"]
    assert set(entry) == RUN_KEYS
    assert set(entry["metrics"]) == METRIC_KEYS
    assert set(entry["cut"]) == {"kind", "at_s", "status", "silence_s"}
    assert entry["hops"] == [{"name": "nginx", "evidence": "server: nginx/1.22.1"}]
    for key in ("status", "verdict", "cut", "end_state", "metrics", "evidence"):
        assert document[key] == entry[key]
    assert document["verdict"] == "CUT"
    assert document["cut"]["kind"] == "idle"
    assert document["end_state"] == "truncated_chunked"
    assert document["comparison"] is None
    assert entry["error"] == "connection closed"


def test_streaming_run_has_null_cut_and_burst() -> None:
    entry = probe_to_dict(streaming())
    assert entry["cut"] is None
    assert entry["burst"] is None
    assert entry["verdict"] == "STREAMING"
    assert entry["certain"] is True
    assert entry["error"] is None
    metrics = entry["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["ttft_s"] == pytest.approx(0.151)
    assert metrics["content_events"] == 40


def test_several_runs_mirror_the_worst() -> None:
    document = json.loads(render_probe_json([streaming(), cut(), buffered()]))
    assert set(document) == TOP_KEYS
    assert len(document["runs"]) == 3
    assert document["verdict"] == "CUT"
    assert document["metrics"] == document["runs"][1]["metrics"]


def test_no_runs_still_has_every_key() -> None:
    document = json.loads(render_probe_json([]))
    assert set(document) == TOP_KEYS
    assert document["verdict"] is None
    assert document["metrics"] == {}


def test_comparison_section_has_stable_keys() -> None:
    comparison = compare([streaming()], [buffered()])
    document = json.loads(render_probe_json([buffered()], comparison))
    section = document["comparison"]
    assert set(section) == {
        "direct_verdict",
        "via_verdict",
        "attribution",
        "path_at_fault",
        "metrics",
        "notes",
        "direct_runs",
    }
    assert section["via_verdict"] == "BUFFERED"
    assert section["path_at_fault"] is True
    assert {tuple(sorted(m)) for m in section["metrics"]} == {("delta", "direct", "name", "via")}
    assert set(section["direct_runs"][0]) == RUN_KEYS


def test_jsonl_is_one_event_per_line_then_a_summary() -> None:
    result = streaming(count=5)
    lines = list(render_probe_jsonl(result))
    parsed = [json.loads(line) for line in lines]
    assert len(parsed) == len(result.events) + 1
    for event in parsed[:-1]:
        assert set(event) == {"type", "t_s", "read", "kind", "bytes", "delay_s", "send_s", "text"}
        assert event["type"] == "event"
    assert parsed[0]["kind"] == "content"
    assert parsed[0]["text"] == "tok0 "
    assert parsed[0]["delay_s"] == pytest.approx(0.001)
    assert parsed[-1]["type"] == "summary"
    assert set(parsed[-1]) == RUN_KEYS | {"type", "schema_version"}
    assert all("\n" not in line for line in lines)


def test_json_output_is_ascii_and_escapes_server_text() -> None:
    result = run([(100.0, [chat(HOSTILE)]), (120.0, ["[DONE]"])])
    text = render_probe_json([result]) + "\n".join(render_probe_jsonl(result))
    assert text.isascii()
    assert "\x1b" not in text
    assert "\x07" not in text


# --- text -----------------------------------------------------------------------------------


def test_text_report_shows_header_timeline_metrics_and_verdict() -> None:
    text = render_probe_text(buffered())
    assert "tokenpath probe POST http://127.0.0.1:8000/v1/chat/completions" in text
    assert "HTTP/1.1 200 OK · openai-chat · chunked · hops: nginx (server: nginx/1.22.1)" in text
    assert "t (ms)" in text
    assert "read#" in text
    assert "delay" in text
    assert "████████████████████+ content×40" in text  # the burst is one visible row
    assert "TTFT 4.10 s" in text
    assert "VERDICT: BUFFERED  [certain: mock send stamps]" in text
    assert "likely causes:" in text
    assert "nginx hop seen" in text


def test_text_report_of_a_cut_names_kind_time_and_the_silence() -> None:
    text = render_probe_text(cut())
    assert "VERDICT: CUT (idle at 5.42 s, status 200)" in text
    assert "after 5.00 s silence end: truncated_chunked" in text
    assert "end: truncated_chunked (connection closed)" in text


def test_long_timelines_are_elided_but_keep_anomalies() -> None:
    reads: list[tuple[float, Sequence[str | StreamEvent]]] = [
        (150.0 + i * 20, [chat(f"t{i}")]) for i in range(200)
    ]
    reads[100] = (2150.0, [chat("burst-a"), chat("burst-b"), chat("burst-c")])
    reads.append((5000.0, ["[DONE]"]))
    text = render_probe_text(run(reads), max_rows=20)
    assert "reads (" in text
    assert "elided" in text
    assert "content×3" in text  # the burst survives elision
    assert '"t0"' in text
    assert "done" in text
    timeline_rows = [line for line in text.splitlines() if re.match(r"\s+\d+\.\d\s", line)]
    assert len(timeline_rows) <= 20


def test_short_timelines_are_not_elided() -> None:
    assert "elided" not in render_probe_text(streaming(count=10))


def test_server_text_cannot_drive_the_terminal() -> None:
    result = run(
        [(100.0, [chat(HOSTILE), SSEComment(HOSTILE)]), (120.0, ["[DONE]"])],
        reason=HOSTILE,
        headers=(("server", "nginx" + HOSTILE),),
    )
    for color in (False, True):
        text = render_probe_text(result, color=color)
        assert "\x07" not in text
        assert "\x9b" not in text
        assert "\u202e" not in text
        assert "\\x1b" in text  # escaped, visible
        escapes = re.findall(r"\x1b.{0,8}", text)
        if color:
            assert escapes
            assert all(re.match(r"\x1b\[[0-9;]*m", e) for e in escapes)
        else:
            assert escapes == []
    plain = render_probe_text(result)
    assert "<script>alert(1)</script>[bold red]x[/]" in plain  # literal, inert in a terminal


def test_http_error_body_is_shown_escaped() -> None:
    result = run([], status=502, reason="Bad Gateway", preview="upstream \x1b[31mreset\x1b[0m")
    text = render_probe_text(result)
    assert "VERDICT: CUT (before_headers at 10 ms, status 502)" in text
    assert "\\x1b[31mreset" in text
    assert "\x1b" not in text


def test_color_output_uses_ansi_and_plain_output_none() -> None:
    assert "\x1b[1;32mVERDICT: STREAMING" in render_probe_text(streaming(), color=True)
    assert "\x1b" not in render_probe_text(streaming(), color=False)


def test_compare_text_shows_both_sides_and_the_attribution() -> None:
    text = render_compare_text(compare([streaming()], [buffered()]))
    assert "direct vs via the path (1 + 1 runs, medians)" in text
    assert "ttft_s" in text
    assert "+3.95 s" in text
    assert "STREAMING" in text
    assert "BUFFERED" in text
    assert "ATTRIBUTION: the path holds content until the end" in text
