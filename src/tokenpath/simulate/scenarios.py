"""The standard scenarios ``simulate`` runs through a proxy, as data.

Each one is a tokenpath mock recipe (the ``X-Tokenpath-Scenario`` grammar of
``tokenpath.mock.scenarios``) written at real time (scale 1), what it probes, and the client's
``Accept-Encoding``. ``simulate`` scales the recipe with ``simulate.scale`` before sending it.
The durations of the ladders straddle nginx's 60 s default read timeout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tokenpath.errors import UsageError
from tokenpath.mock.scenarios import DEFAULT_SCENARIO, parse_scenario

GZIP = "gzip, deflate"  # what the OpenAI SDK sends, and the probe's default
IDENTITY = "identity"
_SLACK_S = 2.0  # on top of twice the recipe's own length: start-up, a proxy holding the end


@dataclass(frozen=True, slots=True)
class Scenario:
    """One standard scenario: ``mock`` is the recipe at scale 1."""

    name: str
    mock: str
    probes: str
    accept_encoding: str = GZIP

    @property
    def duration_s(self) -> float:
        return expected_duration_s(self.mock)

    @property
    def max_time_s(self) -> float:
        """This scenario's own bound at scale 1 (see ``max_time_s``)."""
        return max_time_s(self.mock)


def expected_duration_s(mock: str) -> float:
    """How long the mock takes to send the whole recipe: headers, TTFT, gaps and pauses."""
    s = parse_scenario(mock, DEFAULT_SCENARIO)
    events = -(-s.tokens // s.per_event)
    return s.headers + s.ttft + max(0, events - 1) * s.interval + sum(p.seconds for p in s.pause)


def max_time_s(mock: str) -> float:
    """The probe's bound for one run of ``mock``: twice its length plus 2 s, so a proxy that
    holds the stream to the end still fits, and nothing runs away."""
    return 2 * expected_duration_s(mock) + _SLACK_S


# Short enough that, with token gaps floored at 20 ms when scaled, it still ends before
# Envoy's scaled 15 s route timeout at the default scale (0.75 s).
_BASE = "ttft=200ms;itl=20ms;tokens=20"
_SHORT = "ttft=100ms;itl=20ms;tokens=20"
_LADDER_S = (5, 30, 75)


def _sizes() -> tuple[Scenario, ...]:
    return tuple(
        Scenario(
            f"event-{kb}k",
            f"ttft=100ms;itl=4s;tokens=6;pad={kb}k",
            # Slow events, so a proxy that holds each one for an interval shows as a lag.
            f"{kb} KB events every 4 s against proxy buffer sizes (nginx: one 4 KB page)",
        )
        for kb in (1, 4, 8, 32)
    )


def _ttft_ladder() -> tuple[Scenario, ...]:
    return tuple(
        Scenario(
            f"ttft-{s}s",
            f"ttft={s}s;itl=20ms;tokens=10",
            f"{s} s before the first token: an idle/read timeout before any data",
        )
        for s in _LADDER_S
    )


def _pause_ladder() -> tuple[Scenario, ...]:
    return tuple(
        Scenario(
            f"pause-{s}s",
            f"ttft=100ms;itl=20ms;tokens=20;pause=10@{s}s",
            f"{s} s of silence after token 10: an idle/read timeout mid-stream",
        )
        for s in _LADDER_S
    )


STANDARD: tuple[Scenario, ...] = (
    Scenario("fast-small", _BASE, "small events every 20 ms: response buffering"),
    *_sizes(),
    *_ttft_ladder(),
    *_pause_ladder(),
    Scenario(
        "long-generation",
        "ttft=200ms;itl=400ms;tokens=150",
        "60 s of steady tokens: a total/route timeout cutting a live stream",
    ),
    Scenario(
        "heartbeat-pause",
        "ttft=100ms;itl=20ms;tokens=20;pause=10@75s;heartbeat=15s",
        "75 s silence with an SSE comment every 15 s: do heartbeats keep it alive",
    ),
    Scenario("gzip", _SHORT, "client sends Accept-Encoding: gzip: compression of SSE"),
    Scenario(
        "identity",
        _SHORT,
        "client sends Accept-Encoding: identity: the same stream uncompressed",
        IDENTITY,
    ),
    Scenario(
        "content-length",
        _SHORT + ";framing=length",
        "upstream answers with Content-Length instead of chunked",
    ),
    Scenario("crlf", _SHORT + ";eol=crlf", "SSE lines ending in CRLF"),
    Scenario(
        "header-delay",
        "headers=30s;ttft=100ms;itl=20ms;tokens=20",
        "30 s before the response headers: a timeout before headers (504)",
    ),
)

BY_NAME: dict[str, Scenario] = {s.name: s for s in STANDARD}


def select(names: Iterable[str]) -> tuple[Scenario, ...]:
    """The named standard scenarios in the order given; none named: all of them."""
    wanted = tuple(names)
    if not wanted:
        return STANDARD
    unknown = [n for n in wanted if n not in BY_NAME]
    if unknown:
        raise UsageError(f"unknown scenario {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return tuple(BY_NAME[n] for n in dict.fromkeys(wanted))
