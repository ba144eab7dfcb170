"""Timing fidelity of the probe: how exactly does a receive stamp reflect arrival?

The mock runs in a separate process on loopback and stamps each event right before its
socket write (CLOCK_MONOTONIC, shared by both processes). The probe stamps each socket read
right after it returns. For every content event, (receive - send) is the whole error budget:
kernel loopback delivery + scheduling + the probe's own overhead. Reported as p50/p99 at
concurrency 1 (sequential probes) and 64 (64 probes in threads at once).

Side by side: time to first byte (response headers) as measured by the probe and by
``curl -w %{time_starttransfer}`` on the same request, same server.

    python benchmarks/fidelity.py [--runs 20] [--tokens 100]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from tokenpath.probe.classify import ProbeResult, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.request import build_request
from tokenpath.simulate.runtime import free_port
from tokenpath.stream.dialects import Dialect


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def delays_ms(results: list[ProbeResult]) -> list[float]:
    return [
        e.delay_s * 1e3
        for r in results
        for e in r.events
        if e.kind == "content" and e.delay_s is not None
    ]


def start_mock(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokenpath", "mock", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    import socket

    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("mock did not start")


def curl_ttfb(url: str, scenario: str, runs: int) -> list[float] | None:
    curl = shutil.which("curl")
    if curl is None:
        return None
    body = '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}'
    out = []
    for _ in range(runs):
        done = subprocess.run(
            [
                curl,
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{time_starttransfer}",
                "-H",
                "Content-Type: application/json",
                "-H",
                f"X-Tokenpath-Scenario: {scenario}",
                "--data",
                body,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        out.append(float(done.stdout) * 1e3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="sequential probes at concurrency 1")
    parser.add_argument("--tokens", type=int, default=100)
    args = parser.parse_args()
    port = free_port()
    mock = start_mock(port)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    scenario = f"ttft=20ms;itl=10ms;tokens={args.tokens}"
    request = build_request(
        url, dialect=Dialect.OPENAI_CHAT, headers=(f"X-Tokenpath-Scenario: {scenario}",)
    )
    try:
        machine = f"{platform.machine()} {os.cpu_count()} cores"
        print(f"machine: {machine}, Python {platform.python_version()}")
        sequential = [analyse(fetch(request)) for _ in range(args.runs)]
        with ThreadPoolExecutor(max_workers=64) as pool:
            concurrent = list(pool.map(lambda _i: analyse(fetch(request)), range(64)))
        print(f"{'concurrency':>11} {'events':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for label, results in (("1", sequential), ("64", concurrent)):
            values = delays_ms(results)
            print(
                f"{label:>11} {len(values):>7} {percentile(values, 50):>8.3f} "
                f"{percentile(values, 99):>8.3f} {max(values):>8.3f}"
            )
        ours = [r.metrics.ttfb_headers_s * 1e3 for r in sequential if r.metrics.ttfb_headers_s]
        theirs = curl_ttfb(url, scenario, args.runs)
        print(f"TTFB (headers) median: tokenpath {statistics.median(ours):.3f} ms", end="")
        if theirs:
            print(f", curl time_starttransfer {statistics.median(theirs):.3f} ms")
        else:
            print(", curl not installed")
    finally:
        mock.terminate()
        mock.wait(timeout=10)


if __name__ == "__main__":
    main()
