"""The tokenpath mock: an OpenAI/TGI/Ollama-compatible streaming server with timing control,
per-request scenarios and fault injection. Every event carries its monotonic send time.

Pure: ``scenarios`` (knobs and their grammar), ``text`` (the generated words), ``schedule``
(timed steps), ``wire`` (the send stamp), ``framing`` (streamed events as bytes),
``responses`` (heads and whole bodies) and ``endpoints`` (request handling). I/O: ``server``
(socket, loop, threads), ``connection`` (one client) and ``responder`` (one timed response);
they are imported lazily, so code that only builds scenario strings does not pay for asyncio
and h11.

    from tokenpath.mock import Scenario, run_in_thread

    with run_in_thread(defaults=Scenario(ttft=0.2)) as mock:
        ...  # POST f"{mock.url}/v1/chat/completions"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenpath.mock.scenarios import (
    DEFAULT_SCENARIO,
    KEYS,
    Accel,
    Eol,
    Framing,
    Pause,
    Scenario,
    apply_setting,
    format_scenario,
    parse_scenario,
)
from tokenpath.mock.schedule import Step, StepKind, build_schedule, iter_schedule
from tokenpath.mock.text import generate_text, token_text

if TYPE_CHECKING:
    from tokenpath.mock.server import MockHandle, MockServer, run_in_thread, serve

SCENARIO_HEADER = "X-Tokenpath-Scenario"
SCENARIO_QUERY = "tokenpath-scenario"

_LAZY = frozenset({"MockHandle", "MockServer", "run_in_thread", "serve"})

__all__ = [
    "DEFAULT_SCENARIO",
    "KEYS",
    "SCENARIO_HEADER",
    "SCENARIO_QUERY",
    "Accel",
    "Eol",
    "Framing",
    "MockHandle",
    "MockServer",
    "Pause",
    "Scenario",
    "Step",
    "StepKind",
    "apply_setting",
    "build_schedule",
    "format_scenario",
    "generate_text",
    "iter_schedule",
    "parse_scenario",
    "run_in_thread",
    "serve",
    "token_text",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from tokenpath.mock import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
