"""The demo: the mock LLM server and a real nginx on loopback, probed direct and through
nginx with its stock proxy defaults, the streaming-safe config, and a short read timeout.

Returns plain values; the CLI draws them. Everything started here is stopped on return,
on error and on Ctrl-C (context managers all the way down).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from tokenpath.mock.server import run_in_thread
from tokenpath.probe.classify import ProbeResult, VerdictKind, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.request import build_request
from tokenpath.simulate.renderers.nginx import STREAMING_SAFE, with_directives
from tokenpath.simulate.runtime import RunningProxy, run_nginx
from tokenpath.stream.dialects import Dialect

Progress = Callable[[str], None]

BUFFERING_SCENARIO = "ttft=200ms;itl=40ms;tokens=30"
PAUSE_SCENARIO = "ttft=100ms;itl=30ms;tokens=20;pause=8@2s"
HEARTBEAT_SCENARIO = PAUSE_SCENARIO + ";heartbeat=300ms"
SHORT_READ_TIMEOUT = with_directives(STREAMING_SAFE, (("proxy_read_timeout", "1s"),))
LONGER_READ_TIMEOUT = with_directives(STREAMING_SAFE, (("proxy_read_timeout", "5s"),))


@dataclass(frozen=True, slots=True)
class DemoRow:
    label: str
    setup: str  # what differs on this row, in the proxy's own words
    expected: tuple[VerdictKind, ...]
    result: ProbeResult

    @property
    def as_expected(self) -> bool:
        return self.result.verdict.kind in self.expected


@dataclass(frozen=True, slots=True)
class DemoSection:
    title: str
    scenario: str
    rows: tuple[DemoRow, ...]
    lesson: str


@dataclass(frozen=True, slots=True)
class DemoReport:
    nginx_version: str
    sections: tuple[DemoSection, ...]

    @property
    def as_expected(self) -> bool:
        return all(row.as_expected for section in self.sections for row in section.rows)


def run_demo(progress: Progress = lambda _message: None) -> DemoReport:
    progress("starting the mock LLM server on 127.0.0.1")
    with run_in_thread() as mock, contextlib.ExitStack() as stack:

        def nginx(directives: tuple[tuple[str, str], ...]) -> RunningProxy:
            return stack.enter_context(run_nginx(mock.host, mock.port, directives))

        progress("starting nginx twice: stock proxy defaults, and streaming-safe")
        stock, safe = nginx(()), nginx(STREAMING_SAFE)
        progress("probing: direct, through stock nginx, through streaming-safe nginx")
        buffering = DemoSection(
            title="Buffering: 30 tokens, one every 40 ms",
            scenario=BUFFERING_SCENARIO,
            rows=(
                _row("direct", "no proxy", mock.url, BUFFERING_SCENARIO, (VerdictKind.STREAMING,)),
                _row(
                    "nginx stock",
                    "proxy_pass only",
                    stock.url,
                    BUFFERING_SCENARIO,
                    (VerdictKind.BUFFERED, VerdictKind.BURSTY),
                ),
                _row(
                    "nginx fixed",
                    _describe(STREAMING_SAFE),
                    safe.url,
                    BUFFERING_SCENARIO,
                    (VerdictKind.STREAMING,),
                ),
            ),
            lesson=(
                "nginx's own defaults (proxy_buffering on, proxy_http_version 1.0) make the "
                "upstream answer close-delimited, and nginx then releases the body only in "
                "full 4 KB buffers: tokens arrive in bursts, and the last partial buffer (or a "
                "whole short answer) waits for the end. proxy_buffering off, or an HTTP/1.1 "
                "(chunked) upstream, delivers each token as it is produced."
            ),
        )
        progress("starting nginx with proxy_read_timeout 1s and 5s")
        short, longer = (
            nginx(SHORT_READ_TIMEOUT),
            nginx(LONGER_READ_TIMEOUT),
        )
        progress("probing: a 2 s pause in the stream, with and without heartbeats")
        timeout = DemoSection(
            title="Read timeout: the model goes silent for 2 s after token 8",
            scenario=PAUSE_SCENARIO,
            rows=(
                _row(
                    "timeout 1s",
                    "proxy_read_timeout 1s",
                    short.url,
                    PAUSE_SCENARIO,
                    (VerdictKind.CUT,),
                ),
                _row(
                    "heartbeats",
                    "proxy_read_timeout 1s; mock sends ': ' every 300 ms",
                    short.url,
                    HEARTBEAT_SCENARIO,
                    (VerdictKind.STREAMING,),
                ),
                _row(
                    "timeout 5s",
                    "proxy_read_timeout 5s",
                    longer.url,
                    PAUSE_SCENARIO,
                    (VerdictKind.STREAMING,),
                ),
            ),
            lesson=(
                "proxy_read_timeout bounds the silence between two reads from the upstream, not "
                "the length of the answer. After the headers a 200 is already sent, so the client "
                "sees a stream that just stops, with no error and no [DONE]. SSE comment "
                "heartbeats shorter than the timeout, or a timeout above the longest silence, "
                "keep it alive."
            ),
        )
        return DemoReport(stock.version, (buffering, timeout))


def _row(
    label: str, setup: str, base_url: str, scenario: str, expected: tuple[VerdictKind, ...]
) -> DemoRow:
    request = build_request(
        f"{base_url}/v1/chat/completions",
        dialect=Dialect.OPENAI_CHAT,
        headers=(f"X-Tokenpath-Scenario: {scenario}",),
    )
    return DemoRow(label, setup, expected, analyse(fetch(request)))


def _describe(directives: tuple[tuple[str, str], ...]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives)
