"""One-line timeline strips, so several probes can be compared at a glance (the demo).

' '  before the response headers
'·'  connection open, nothing arriving
'▌'  content arrived, one event per read
'█'  a burst: a read that carried several content events at once
'x'  the stream was cut here
"""

from __future__ import annotations

from collections import Counter

from tokenpath.probe.classify import ProbeResult


def render_strip(result: ProbeResult, span_s: float, width: int = 48) -> str:
    """``result`` drawn over ``width`` cells covering 0..``span_s`` seconds."""
    span_s = max(span_s, 1e-3)

    def cell(t_s: float) -> int:
        return min(width - 1, max(0, int(t_s / span_s * width)))

    cells = [" "] * width
    headers = result.metrics.ttfb_headers_s
    end = result.metrics.e2e_stream_s or span_s
    if headers is not None:
        for i in range(cell(headers), cell(end) + 1):
            cells[i] = "·"
    content = [e for e in result.events if e.kind in ("content", "raw")]
    per_read = Counter(e.read_index for e in content)
    for event in content:
        index = cell(event.t_s)
        cells[index] = "█" if per_read[event.read_index] > 1 or cells[index] == "█" else "▌"
    if result.verdict.cut is not None:
        cells[cell(end)] = "x"
    return "".join(cells)
