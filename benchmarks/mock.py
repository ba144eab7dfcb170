"""Benchmark of the tokenpath mock: events/s and CPU at 1, 64 and 512 concurrent streams, and
memory per open idle stream.

The mock runs in a subprocess (``tokenpath mock``) pinned to one core when the OS allows;
clients run here, on the other cores, on raw asyncio sockets that read as fast as possible
and count events. Loopback only; the whole run takes well under a minute.

    .venv/bin/python benchmarks/mock.py [--seconds 4] [--idle 500]

Targets: >= 50 000 events/s on one core; <= 64 KB per idle stream.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]  # no stubs in the venv

HOST = "127.0.0.1"
FAST = "ttft=0;itl=0;tokens=10000000"
IDLE = "ttft=120s;tokens=1"
TARGET_EVENTS_PER_S = 50_000
TARGET_KB_PER_STREAM = 64


def request(path: str, scenario: str) -> bytes:
    body = b'{"stream":true,"model":"bench"}'
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"X-Tokenpath-Scenario: {scenario}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class Counter(asyncio.Protocol):
    """Counts SSE events (blank lines) and notes when the response headers arrived."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.events = 0
        self.headers = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self._carry = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.payload)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if not self.headers.done() and b"\r\n\r\n" in data:
            self.headers.set_result(None)
        joined = self._carry + data
        self.events += joined.count(b"\n\n")
        self._carry = joined[-1:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.headers.done():
            self.headers.set_result(None)


@dataclass
class Mock:
    process: subprocess.Popen[str]
    port: int
    pinned: str

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


NO_UVLOOP = False  # --no-uvloop: measure the mock on the standard asyncio loop


def start_mock() -> Mock:
    command = [sys.executable, "-m", "tokenpath", "mock", "--host", HOST, "--port", "0"]
    if NO_UVLOOP:  # a None entry in sys.modules makes ``import uvloop`` fail
        launcher = (
            "import sys; sys.modules['uvloop'] = None; from tokenpath.cli.app import main; "
            "sys.argv = ['tokenpath', *sys.argv[1:]]; main()"
        )
        command = [sys.executable, "-c", launcher, *command[3:]]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r":(\d+)\s*$", line)
    if match is None:
        process.kill()
        raise SystemExit(f"mock did not start: {line!r}")
    pinned = "no (sched_setaffinity unavailable)"
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(process.pid, {cpus[0]})
        if len(cpus) > 1:
            os.sched_setaffinity(0, set(cpus[1:]))
        pinned = f"mock on CPU {cpus[0]}, clients on {cpus[1:] or cpus}"
    return Mock(process, int(match.group(1)), pinned)


async def open_streams(port: int, count: int, payload: bytes) -> list[Counter]:
    loop = asyncio.get_running_loop()
    streams: list[Counter] = []
    for start in range(0, count, 128):  # connect in waves: the backlog is finite
        batch = [
            loop.create_connection(lambda: Counter(payload), HOST, port)
            for _ in range(min(128, count - start))
        ]
        streams += [protocol for _, protocol in await asyncio.gather(*batch)]
    await asyncio.gather(*(stream.headers for stream in streams))
    return streams


def close_streams(streams: list[Counter]) -> None:
    for stream in streams:
        if stream.transport is not None:
            stream.transport.abort()


@dataclass
class Throughput:
    streams: int
    events_per_s: float
    cpu_percent: float
    events_per_cpu_s: float


async def throughput(mock: Mock, count: int, seconds: float) -> Throughput:
    streams = await open_streams(mock.port, count, request("/v1/completions", FAST))
    await asyncio.sleep(0.5)  # warm up
    ps = mock.ps
    cpu0 = sum(ps.cpu_times()[:2])
    events0 = sum(stream.events for stream in streams)
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    events = sum(stream.events for stream in streams) - events0
    cpu = sum(ps.cpu_times()[:2]) - cpu0
    close_streams(streams)
    await asyncio.sleep(0.3)  # let the mock notice the closed connections
    return Throughput(count, events / elapsed, 100 * cpu / elapsed, events / cpu if cpu else 0.0)


async def idle_memory(count: int) -> tuple[float, float]:
    """(KB per idle stream, mock RSS in MB with them open), on a fresh mock process."""
    mock = start_mock()
    try:
        warm = await open_streams(mock.port, 32, request("/v1/chat/completions", "ttft=0;itl=0"))
        await asyncio.sleep(0.5)
        close_streams(warm)
        await asyncio.sleep(0.3)
        before = mock.ps.memory_info().rss
        streams = await open_streams(mock.port, count, request("/v1/chat/completions", IDLE))
        await asyncio.sleep(0.5)
        after = mock.ps.memory_info().rss
        close_streams(streams)
        return (after - before) / count / 1024, after / 1024**2
    finally:
        mock.stop()


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        model = names[0] if names else model
    except OSError:
        pass
    try:
        import uvloop  # noqa: F401  # only to report whether the mock can use it

        loop = "asyncio" if NO_UVLOOP else "uvloop"
    except ImportError:
        loop = "asyncio"
    return (
        f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, mock loop: {loop}"
    )


async def main(seconds: float, idle: int, levels: list[int]) -> int:
    mock = start_mock()
    try:
        print(f"machine: {machine()}")
        print(f"pinning: {mock.pinned}")
        print(f"scenario: {FAST} on /v1/completions, {seconds:.0f} s per row\n")
        print(f"{'streams':>8} {'events/s':>12} {'mock CPU %':>11} {'events/CPU-s':>13}")
        rows = []
        for count in levels:
            row = await throughput(mock, count, seconds)
            rows.append(row)
            print(
                f"{row.streams:>8} {row.events_per_s:>12,.0f} {row.cpu_percent:>11.0f} "
                f"{row.events_per_cpu_s:>13,.0f}"
            )
    finally:
        mock.stop()
    kb, rss = await idle_memory(idle)
    print(f"\nidle streams: {idle} open ({IDLE}): {kb:.1f} KB per stream, mock RSS {rss:.0f} MB")
    best = max(row.events_per_s for row in rows)
    ok = best >= TARGET_EVENTS_PER_S and kb <= TARGET_KB_PER_STREAM
    print(
        f"targets: >= {TARGET_EVENTS_PER_S:,} events/s (best {best:,.0f}), "
        f"<= {TARGET_KB_PER_STREAM} KB/stream ({kb:.1f}): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="measurement per row")
    parser.add_argument("--idle", type=int, default=500, help="idle streams for memory")
    parser.add_argument("--streams", default="1,64,512", help="concurrency levels")
    parser.add_argument("--no-uvloop", action="store_true", help="mock on the asyncio loop")
    args = parser.parse_args()
    NO_UVLOOP = args.no_uvloop
    from tokenpath.mock.server import new_event_loop  # uvloop when installed, as the mock

    levels = [int(level) for level in args.streams.split(",")]
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        sys.exit(runner.run(main(args.seconds, args.idle, levels)))
