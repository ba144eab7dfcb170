"""``tokenpath mock``: run the streaming mock LLM server until Ctrl-C."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

import click

from tokenpath.errors import UsageError
from tokenpath.mock.scenarios import DEFAULT_SCENARIO, KEYS, apply_setting, parse_scenario

F = TypeVar("F", bound=Callable[..., object])

_METAVARS = {
    "headers": "DUR",
    "ttft": "DUR",
    "itl": "DUR",
    "heartbeat": "DUR",
    "pause": "N@DUR,..",
    "pad": "BYTES",
    "rate": "TOK/S",
    "jitter": "FRACTION",
    "eol": "lf|crlf|cr",
    "framing": "auto|chunked|length|close",
    "accel": "none|no|yes",
    "usage": "on|off",
    "ctype": "TYPE",
    "status": "CODE",
    "seed": "INT",
}


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _reason(exc: UsageError) -> str:
    """The message without its "scenario key 'x': " prefix (the flag is named instead)."""
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("scenario key ") else text


def _scenario_options(function: F) -> F:
    """One option per scenario key, in the order of ``KEYS`` (click applies them bottom-up)."""
    for doc in reversed(KEYS):
        function = click.option(
            _flag(doc.key),
            doc.key,
            metavar=_METAVARS.get(doc.key, "N"),
            default=None,
            help=f"{doc.meaning} [default: {doc.default}]",
        )(function)
    return function


EPILOG = """\b
Durations: 250ms, 2s, 1.5 (seconds), 1m. Sizes: 512, 4k, 1M.
Each request can override any of these per key, with the header
  X-Tokenpath-Scenario: ttft=2s;pause=5@30s;heartbeat=10s
or the query parameter ?tokenpath-scenario=ttft%3D2s%3Bpause%3D5%4030s
(the header wins key by key). Unknown keys or bad values get a 400.

\b
Endpoints: POST /v1/chat/completions, /v1/completions, /generate_stream,
/api/chat, /api/generate; GET /v1/models, /healthz.

\b
Example:
  tokenpath mock --port 8000 --ttft 200ms --rate 40 --tokens 200
  curl -N localhost:8000/v1/chat/completions -d '{"stream":true}' \\
       -H 'X-Tokenpath-Scenario: fin=5'
"""


@click.command("mock", epilog=EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--scenario",
    "scenario_text",
    metavar="KEY=VAL;..",
    default="",
    help="Default scenario as a string; the flags below override it key by key.",
)
@_scenario_options
def mock(host: str, port: int, scenario_text: str, **settings: str | None) -> int:
    """Run an OpenAI/TGI/Ollama-compatible streaming mock LLM server.

    Text is deterministic, timing is scripted, faults are injected on request, and every
    streamed event carries the server's monotonic send time (tokenpath_send_ns), so a probe
    on the same host measures exactly what the path in between does to each event.
    """
    from tokenpath.mock.server import serve

    defaults = parse_scenario(scenario_text, DEFAULT_SCENARIO)
    for key, value in settings.items():
        if value is None:
            continue
        try:
            defaults = apply_setting(defaults, key, value)
        except UsageError as exc:
            raise UsageError(f"{_flag(key)} {value!r}: {_reason(exc)}") from None

    def ready(url: str) -> None:
        click.echo(f"tokenpath mock listening on {url}", err=True)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop
        serve(host, port, defaults, ready=ready)
    return 0
