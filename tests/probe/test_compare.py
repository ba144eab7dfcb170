"""Direct vs via-path comparison: medians, verdict per side, attribution sentence."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from tokenpath.probe.classify import ProbeResult, VerdictKind, analyse
from tokenpath.probe.compare import compare, side_verdict
from tokenpath.probe.timeline import Arrival, Read, Timeline, TransportEnd
from tokenpath.stream.events import SSEMessage

MS = 1_000_000


def run(
    reads: Sequence[tuple[float, Sequence[str]] | tuple[float, Sequence[str], int]],
    *,
    end_ms: float | None = None,
    end: TransportEnd = TransportEnd.COMPLETE,
    status: int = 200,
    headers_ms: float = 10.0,
) -> ProbeResult:
    read_values: list[Read] = []
    arrivals: list[Arrival] = []
    for index, spec in enumerate(reads):
        t_ns = round(spec[0] * MS)
        size = spec[2] if len(spec) == 3 else sum(len(p) + 8 for p in spec[1])
        read_values.append(Read(index, t_ns, size, size))
        arrivals.extend(Arrival(t_ns, index, SSEMessage(p)) for p in spec[1])
    last = read_values[-1].t_ns if read_values else round(headers_ms * MS)
    return analyse(
        Timeline(
            url="http://x/v1/chat/completions",
            method="POST",
            t_start_ns=0,
            t_headers_ns=round(headers_ms * MS),
            t_end_ns=last if end_ms is None else round(end_ms * MS),
            status=status,
            framing="chunked",
            reads=tuple(read_values),
            arrivals=tuple(arrivals),
            dialect="openai-chat" if status == 200 else "raw",
            transport_end=end,
        )
    )


def chat(i: int) -> str:
    return json.dumps({"choices": [{"delta": {"content": f"t{i} "}}]})


def streaming(start_ms: float = 200.0, every_ms: float = 20.0, count: int = 40) -> ProbeResult:
    reads = [(start_ms + i * every_ms, [chat(i)]) for i in range(count)]
    reads.append((start_ms + count * every_ms, ["[DONE]"]))
    return run(reads)


def buffered(at_ms: float = 4100.0, count: int = 40) -> ProbeResult:
    return run([(at_ms, [*(chat(i) for i in range(count)), "[DONE]"])])


def bursts_4k() -> ProbeResult:
    reads: list[tuple[float, Sequence[str], int]] = [
        (900.0 + b * 800, [chat(i) for i in range(b * 38, b * 38 + 38)], 4096) for b in range(3)
    ]
    reads.append((3200.0, ["[DONE]"], 14))
    return run(reads)


def test_buffering_is_attributed_to_the_path() -> None:
    result = compare([streaming(), streaming()], [buffered(), buffered()])
    assert result.direct_verdict is VerdictKind.STREAMING
    assert result.via_verdict is VerdictKind.BUFFERED
    assert result.path_at_fault
    assert result.attribution == (
        "the path holds content until the end: direct TTFT 200 ms, via path 4.10 s = end of stream"
    )
    ttft = result.delta("ttft_s")
    assert (ttft.direct, ttft.via) == pytest.approx((0.2, 4.1))
    assert ttft.delta == pytest.approx(3.9)


def test_bursts_are_attributed_with_their_size() -> None:
    result = compare([streaming()], [bursts_4k()])
    assert result.via_verdict is VerdictKind.BURSTY
    assert result.attribution == (
        "the path coalesces tokens into bursts of ~4.0 KiB (max 38 events per read via the path, "
        "1 direct)"
    )


def test_lower_itl_via_the_path_is_named_a_buffering_tell() -> None:
    result = compare([streaming()], [bursts_4k()])
    assert any("a buffering tell" in note for note in result.notes)


def test_a_cut_is_attributed_to_the_path() -> None:
    cut = run(
        [(50.0 + i * 50, [chat(i)]) for i in range(300)], end_ms=15_000, end=TransportEnd.TRUNCATED
    )
    result = compare([streaming()], [cut])
    assert result.via_verdict is VerdictKind.CUT
    assert result.attribution == (
        "the path cuts the stream at 15.00 s (total timer) while the direct stream completes"
    )
    assert result.path_at_fault


def test_a_504_via_the_path_is_attributed() -> None:
    error = run([], status=504, headers_ms=60_000)
    result = compare([streaming()], [error])
    assert result.attribution == "the path answers 504 at 60.00 s while the direct server streams"


def test_both_cut_blames_the_server_side() -> None:
    cut = run([(50.0, [chat(0)])], end_ms=5_000, end=TransportEnd.TRUNCATED)
    result = compare([cut], [cut])
    assert result.attribution.startswith("both streams are cut")
    assert not result.path_at_fault


def test_a_small_ttft_difference_is_named() -> None:
    result = compare([streaming(200)], [streaming(235)])
    assert result.attribution == "the path adds 35 ms to TTFT; delivery is otherwise the same"


def test_no_material_difference() -> None:
    result = compare([streaming(200), streaming(201)], [streaming(202), streaming(203)])
    assert result.attribution == "no material difference"
    assert not result.path_at_fault
    assert result.delta("ttft_s").via == pytest.approx(0.2025)


def test_a_bursty_server_is_not_blamed_on_the_path() -> None:
    result = compare([bursts_4k()], [bursts_4k()])
    assert result.attribution.startswith("the direct stream is already BURSTY")
    assert not result.path_at_fault


def test_different_output_lengths_are_flagged() -> None:
    result = compare([streaming(count=40)], [streaming(count=10)])
    assert any("different amounts of content" in note for note in result.notes)


def test_side_verdict_is_the_most_common_then_the_worst() -> None:
    assert side_verdict([streaming(), buffered(), streaming()]) is VerdictKind.STREAMING
    assert side_verdict([streaming(), buffered()]) is VerdictKind.BUFFERED
    assert side_verdict([]) is None


def test_key_metric_names_are_stable() -> None:
    names = [d.name for d in compare([streaming()], [streaming()]).deltas]
    assert names == [
        "ttfb_headers_s",
        "ttft_s",
        "e2e_last_token_s",
        "e2e_stream_s",
        "itl_p50_s",
        "max_burst_events",
        "content_events",
    ]
