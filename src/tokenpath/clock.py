"""Monotonic clocks. Durations in tokenpath always come from one of these, never wall time.

The mock and the probe on one host share ``time.monotonic_ns`` (CLOCK_MONOTONIC), which is
why a send stamp from the mock and a receive stamp from the probe can be subtracted.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic_ns(self) -> int: ...


class MonotonicClock:
    """The system monotonic clock."""

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()


class FakeClock:
    """A clock for tests: time moves only when told to."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def monotonic_ns(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += round(seconds * 1e9)


NS_PER_S = 1_000_000_000
