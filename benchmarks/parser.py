"""SSE parsing speed: tokenpath's ``SSEParser`` against httpx-sse's decoder, on the same bytes.

Run: ``python benchmarks/parser.py`` (needs httpx-sse, from the ``bench`` or ``test`` extra).

The body is a few thousand OpenAI chat completion chunks, one ``data: {...}\\n\\n`` event per
token as vLLM and the OpenAI API send them; about one token in eleven is non-ASCII (" é"),
as in real text with accents, curly quotes or dashes. It is cut into reads three ways:

* one event per read: a server flushing every token through a proxy that does not coalesce;
* 16 KiB reads: a client reading whatever has piled up (a buffering proxy, a slow reader);
* 16 KiB reads of the same events with CRLF line ends, as sse-starlette writes them.

Both sides get exactly the same list of ``bytes`` reads, and must produce the same events
(checked before timing). How each side is fed, so that both do the whole bytes -> events job:

* tokenpath: ``parser.feed(read)`` per read, ``parser.close()`` at EOF. UTF-8 decoding, line
  splitting and event assembly all happen inside the parser.
* httpx-sse: what ``EventSource.iter_sse`` does over ``httpx.Response.iter_text``, minus the
  generator plumbing (which would only slow it down): httpx's ``TextDecoder`` (incremental
  UTF-8, errors="replace") turns each read into text, httpx-sse's ``SSELineDecoder`` splits
  the text into lines (httpx's own ``LineDecoder`` for httpx-sse releases before 0.4.2), and
  each line goes through ``line.rstrip("\\n")`` and ``SSEDecoder.decode(line)``; what is left
  at EOF is flushed the same way.

Each run parses the whole body with a fresh parser and keeps the events until the clock has
stopped (freeing them is not parsing). Runs of the two sides alternate, so background load
hits both alike, and the clock is the process's CPU time, so time spent descheduled by other
processes is not counted. Best and median of the runs are printed; the ratio uses medians.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from httpx._decoders import TextDecoder
from httpx_sse._decoders import SSEDecoder

try:  # httpx-sse >= 0.4.2 splits lines itself, with the SSE line-end rules
    from httpx_sse._decoders import SSELineDecoder as LineDecoder
except ImportError:  # older releases use httpx's own line decoder
    from httpx._decoders import LineDecoder  # type: ignore[assignment]

from tokenpath.stream.events import SSEMessage
from tokenpath.stream.sse import SSEParser

EVENTS = 5000
RUNS = 25
READ_SIZE = 16 * 1024
WORDS = ("the", " quick", " brown", " fox", " jumps", " over", " a", " lazy", " dog", ".", " é")

Run = Callable[[Sequence[bytes]], list[Any]]


def make_events(count: int = EVENTS, newline: bytes = b"\n") -> list[bytes]:
    """One encoded SSE event per token, shaped like OpenAI's chat completion chunks."""
    out = []
    for i in range(count):
        chunk = {
            "id": "chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUvW",
            "object": "chat.completion.chunk",
            "created": 1732700000 + i // 50,
            "model": "meta-llama/Llama-3.1-8B-Instruct",
            "system_fingerprint": "fp_44709d6fcb",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": WORDS[i % len(WORDS)]},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        }
        payload = json.dumps(chunk, separators=(",", ":"), ensure_ascii=False)
        out.append(b"data: " + payload.encode() + newline * 2)
    out.append(b"data: [DONE]" + newline * 2)
    return out


def split_reads(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def run_tokenpath(reads: Sequence[bytes]) -> list[Any]:
    parser = SSEParser()
    events = []
    for read in reads:
        events.extend(parser.feed(read))
    events.extend(parser.close())
    return events


def run_httpx_sse(reads: Sequence[bytes]) -> list[Any]:
    text_decoder = TextDecoder(encoding="utf-8")
    line_decoder = LineDecoder()
    decoder = SSEDecoder()
    events = []
    for read in reads:
        for line in line_decoder.decode(text_decoder.decode(read)):
            sse = decoder.decode(line.rstrip("\n"))
            if sse is not None:
                events.append(sse)
    tail = text_decoder.flush()
    for line in (line_decoder.decode(tail) if tail else []) + line_decoder.flush():
        sse = decoder.decode(line.rstrip("\n"))
        if sse is not None:
            events.append(sse)
    return events


def measure(runs: dict[str, Run], reads: Sequence[bytes]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(RUNS):
        for name, run in runs.items():
            start = time.process_time()
            events = run(reads)
            times[name].append(time.process_time() - start)
            del events  # freed after the clock stopped
    return times


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    lf_events = make_events()
    crlf_events = make_events(newline=b"\r\n")
    scenarios = {
        "1 event per read": lf_events,
        f"{READ_SIZE // 1024} KiB reads": split_reads(b"".join(lf_events), READ_SIZE),
        f"{READ_SIZE // 1024} KiB reads, CRLF": split_reads(b"".join(crlf_events), READ_SIZE),
    }
    n_events = len(lf_events)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs: {cpu_model()}")
    print(f"{n_events} events, {len(b''.join(lf_events))} bytes (LF); {RUNS} runs each\n")
    print(
        f"{'reads':<22}{'parser':<11}{'MB/s best':>10}{'MB/s med':>10}"
        f"{'events/s best':>15}{'events/s med':>14}"
    )
    runs: dict[str, Run] = {"tokenpath": run_tokenpath, "httpx-sse": run_httpx_sse}
    ratios = []
    for label, reads in scenarios.items():
        size = sum(map(len, reads))
        expected = [(e.event, e.data) for e in run_httpx_sse(reads)]
        ours = [(e.event, e.data) for e in run_tokenpath(reads) if isinstance(e, SSEMessage)]
        if ours != expected or len(expected) != n_events:
            sys.exit(f"{label}: the parsers disagree on the events; fix that before timing")
        times = measure(runs, reads)
        for name, samples in times.items():
            best, med = min(samples), statistics.median(samples)
            mbps = f"{size / best / 1e6:>10.1f}{size / med / 1e6:>10.1f}"
            eps = f"{n_events / best:>15,.0f}{n_events / med:>14,.0f}"
            print(f"{label:<22}{name:<11}{mbps}{eps}")
        ratio = statistics.median(times["httpx-sse"]) / statistics.median(times["tokenpath"])
        best_ratio = min(times["httpx-sse"]) / min(times["tokenpath"])
        ratios.append(ratio)
        print(
            f"{label:<22}{'ratio':<11}{ratio:.2f}x httpx-sse (median), {best_ratio:.2f}x (best)\n"
        )
    verdict = "met" if min(ratios) >= 2 else "NOT met"
    print(f"target >= 2.0x median in every scenario: {verdict} (worst {min(ratios):.2f}x)")


if __name__ == "__main__":
    main()
