"""What the mock answers to a request: routing, request bodies, scenario overrides. Pure.

The server turns bytes into a ``Request`` and acts on the ``Reply`` (a complete response) or
``Generation`` (a timed, streamed or not, generation) that ``route`` returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tokenpath.errors import UsageError
from tokenpath.mock.framing import DEFAULT_MODEL, Endpoint
from tokenpath.mock.responses import error_body, models_body
from tokenpath.mock.scenarios import Scenario, parse_scenario

SCENARIO_HEADER = "x-tokenpath-scenario"
SCENARIO_QUERY = "tokenpath-scenario"

GENERATION_PATHS: dict[str, Endpoint] = {
    "/v1/chat/completions": Endpoint.CHAT,
    "/v1/completions": Endpoint.COMPLETIONS,
    "/generate_stream": Endpoint.TGI,
    "/api/chat": Endpoint.OLLAMA_CHAT,
    "/api/generate": Endpoint.OLLAMA_GENERATE,
}
OTHER_PATHS: dict[str, tuple[str, ...]] = {"/healthz": ("GET", "HEAD"), "/v1/models": ("GET",)}


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    http_version: str  # "1.0" or "1.1"
    headers: tuple[tuple[str, str], ...]  # names lower-case
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """All values of header ``name`` joined with ``;`` (None when absent)."""
        values = [value for key, value in self.headers if key == name]
        return ";".join(values) if values else None

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete response with Content-Length, sent ``delay`` seconds after the request."""

    status: int
    body: bytes
    content_type: str = "application/json"
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Generation:
    endpoint: Endpoint
    scenario: Scenario
    stream: bool
    model: str = DEFAULT_MODEL
    max_tokens: int | None = None
    usage: bool = False  # a usage-only chunk before the terminator (OpenAI endpoints)
    prompt_tokens: int = 1


def error(status: int, message: str) -> Reply:
    return Reply(status, error_body(status, message))


def request_scenario(request: Request, defaults: Scenario) -> Scenario:
    """``defaults`` overridden by the query parameter, then key by key by the header."""
    scenario = defaults
    query = urlsplit(request.target).query
    if query:
        for text in parse_qs(query, keep_blank_values=True).get(SCENARIO_QUERY, ()):
            scenario = parse_scenario(text, scenario)
    header = request.header(SCENARIO_HEADER)
    if header is not None:
        scenario = parse_scenario(header, scenario)
    return scenario


def route(request: Request, defaults: Scenario, *, created: int = 0) -> Reply | Generation:
    """Decide the answer to ``request``. ``created``: unix time for ``/v1/models``."""
    path = request.path
    endpoint = GENERATION_PATHS.get(path)
    if endpoint is None:
        methods = OTHER_PATHS.get(path)
        if methods is None:
            return error(404, f"no route for {request.method} {path}")
        if request.method not in methods:
            return error(405, f"{path} accepts {', '.join(methods)}, not {request.method}")
        if path == "/healthz":
            return Reply(200, b"ok", "text/plain; charset=utf-8")
        return Reply(200, models_body(DEFAULT_MODEL, created))
    if request.method != "POST":
        return error(405, f"{path} accepts POST, not {request.method}")
    try:
        scenario = request_scenario(request, defaults)
    except UsageError as exc:
        return error(400, str(exc))
    try:
        body = json.loads(request.body) if request.body.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        return error(400, f"request body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return error(400, "request body must be a JSON object")
    if scenario.status is not None:
        message = f"tokenpath mock: injected HTTP {scenario.status}"
        return Reply(scenario.status, error_body(scenario.status, message), delay=scenario.headers)
    return _generation(endpoint, scenario, body)


def _generation(endpoint: Endpoint, scenario: Scenario, body: dict[str, object]) -> Generation:
    model = body.get("model")
    options = body.get("options")
    parameters = body.get("parameters")
    stream_options = body.get("stream_options")
    if endpoint.openai:
        stream = body.get("stream") is True
        limit = _count(body.get("max_completion_tokens"), body.get("max_tokens"))
    elif endpoint is Endpoint.TGI:
        stream = True
        limit = _count(parameters.get("max_new_tokens") if isinstance(parameters, dict) else None)
    else:
        stream = body.get("stream") is not False
        limit = _count(options.get("num_predict") if isinstance(options, dict) else None)
    include_usage = isinstance(stream_options, dict) and stream_options.get("include_usage") is True
    return Generation(
        endpoint=endpoint,
        scenario=scenario,
        stream=stream,
        model=model if isinstance(model, str) and model else DEFAULT_MODEL,
        max_tokens=limit,
        usage=endpoint.openai and (scenario.usage or include_usage),
        prompt_tokens=_prompt_tokens(body),
    )


def _count(*values: object) -> int | None:
    """The first non-negative integer among ``values`` (Ollama's -1 means unbounded)."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _prompt_tokens(body: dict[str, object]) -> int:
    """A rough prompt size: whitespace-separated words of the prompt or messages."""
    words = 0
    for key in ("prompt", "inputs"):
        words += _words(body.get(key))
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if isinstance(message, dict):
            words += _words(message.get("content"))
    return max(1, words)


def _words(value: object) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(part.get("text") if isinstance(part, dict) else part) for part in value)
    return 0
