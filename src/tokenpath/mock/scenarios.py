"""Mock scenarios: the knobs of one mock response and their text grammar.

A scenario string is ``key=value;key=value`` (see ``KEYS`` for every key, its default and its
meaning). ``tokenpath mock`` flags set the defaults; a request overrides them per key with the
``X-Tokenpath-Scenario`` header or the ``tokenpath-scenario`` query parameter.

``schedule`` turns a scenario into the timed writes of one response.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

from tokenpath.errors import UsageError
from tokenpath.units import parse_duration, parse_size

MAX_TOKENS = 10_000_000  # a bound on ``tokens``: a lazy schedule, but still a bound


class Eol(StrEnum):
    """Line ending of SSE framing."""

    LF = "lf"
    CRLF = "crlf"
    CR = "cr"

    @property
    def bytes(self) -> bytes:
        return {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}[self.value]


class Framing(StrEnum):
    """How the response body is delimited."""

    AUTO = "auto"  # chunked for HTTP/1.1 requests, close-delimited for HTTP/1.0 requests
    CHUNKED = "chunked"
    LENGTH = "length"  # Content-Length computed in advance
    CLOSE = "close"  # no length; the body ends at FIN


class Accel(StrEnum):
    """Whether to send ``X-Accel-Buffering`` (nginx reads it from the upstream)."""

    NONE = "none"
    NO = "no"
    YES = "yes"


@dataclass(frozen=True, slots=True)
class Pause:
    """Extra silence of ``seconds`` after content token number ``after`` (0: before the first)."""

    after: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Scenario:
    """Every knob of one mock response. Durations are seconds; ``None`` means off."""

    seed: int = 0
    tokens: int = 20
    per_event: int = 1
    headers: float = 0.0
    ttft: float = 0.05
    itl: float = 0.02
    rate: float | None = None
    jitter: float = 0.0
    pad: int = 0
    pause: tuple[Pause, ...] = ()
    heartbeat: float | None = None
    eol: Eol = Eol.LF
    framing: Framing = Framing.AUTO
    accel: Accel = Accel.NONE
    ctype: str | None = None
    usage: bool = False
    fin: int | None = None
    rst: int | None = None
    truncate: int | None = None
    status: int | None = None
    error_after: int | None = None
    bad_utf8: int | None = None
    bad_json: int | None = None

    def __post_init__(self) -> None:
        _check(0 <= self.tokens <= MAX_TOKENS, "tokens", f"must be 0..{MAX_TOKENS}")
        _check(self.per_event >= 1, "per_event", "must be at least 1")
        for name in ("headers", "ttft", "itl"):
            _check(getattr(self, name) >= 0, name, "must not be negative")
        _check(self.rate is None or self.rate > 0, "rate", "must be above 0")
        _check(0 <= self.jitter <= 1, "jitter", "must be between 0 and 1")
        _check(self.pad >= 0, "pad", "must not be negative")
        _check(self.heartbeat is None or self.heartbeat > 0, "heartbeat", "must be above 0")
        _check(all(p.after >= 0 and p.seconds >= 0 for p in self.pause), "pause", "negative")
        for name in ("fin", "rst", "truncate", "error_after", "bad_utf8", "bad_json"):
            value = getattr(self, name)
            _check(value is None or value >= 0, name, "must not be negative")
        _check(
            self.status is None or (200 <= self.status <= 599 and self.status not in (204, 304)),
            "status",
            "must be an HTTP status 200..599 that allows a body",
        )

    @property
    def interval(self) -> float:
        """Seconds between content events: ``per_event / rate`` when a rate is set, else ``itl``."""
        return self.per_event / self.rate if self.rate is not None else self.itl

    @property
    def has_fault(self) -> bool:
        """True when the connection is closed, reset or truncated on purpose."""
        return self.fin is not None or self.rst is not None or self.truncate is not None


def _check(ok: bool, key: str, why: str) -> None:
    if not ok:
        raise UsageError(f"scenario key {key!r}: {why}")


DEFAULT_SCENARIO = Scenario()


# ---------------------------------------------------------------------------- the grammar


@dataclass(frozen=True, slots=True)
class KeyDoc:
    """One scenario key: its default as written in the grammar, and what it does."""

    key: str
    default: str
    meaning: str


KEYS: tuple[KeyDoc, ...] = (
    KeyDoc("seed", "0", "seed of the generated text and of the jitter"),
    KeyDoc("tokens", "20", "number of content tokens (a request's max_tokens bounds it)"),
    KeyDoc("per_event", "1", "tokens per content event"),
    KeyDoc("headers", "0", "delay from request received to response headers sent"),
    KeyDoc("ttft", "50ms", "delay from headers sent to the first content event"),
    KeyDoc("itl", "20ms", "gap between content events"),
    KeyDoc("rate", "off", "tokens per second; sets the gap to per_event/rate (instead of itl)"),
    KeyDoc("jitter", "0", "uniform ± fraction of the gap (0..1), seeded"),
    KeyDoc("pad", "0", "pad every content event to at least this many body bytes (e.g. 4k)"),
    KeyDoc("pause", "off", "N@DUR[,N@DUR...]: extra silence of DUR after content token N"),
    KeyDoc("heartbeat", "off", "SSE comment every DUR while the body is silent longer than DUR"),
    KeyDoc("eol", "lf", "SSE line ending: lf, crlf or cr"),
    KeyDoc("framing", "auto", "auto (chunked for 1.1, close for 1.0), chunked, length, close"),
    KeyDoc("accel", "none", "send X-Accel-Buffering: no or yes (none: no header)"),
    KeyDoc("ctype", "dialect's", "override the Content-Type (escape ';' as %3B)"),
    KeyDoc("usage", "off", "on: usage-only chunk before [DONE] (OpenAI endpoints)"),
    KeyDoc("fin", "off", "after N content events, close with FIN (no terminator)"),
    KeyDoc("rst", "off", "after N content events, reset the connection (RST)"),
    KeyDoc("truncate", "off", "after N content events, send a partial chunk and close"),
    KeyDoc("status", "off", "reply with this HTTP status and a JSON error instead of a stream"),
    KeyDoc("error_after", "off", "after N content tokens, an in-stream error event; no [DONE]"),
    KeyDoc("bad_utf8", "off", "content event N carries invalid UTF-8 inside its JSON string"),
    KeyDoc("bad_json", "off", "content event N is not valid JSON"),
)

_OFF = frozenset({"off", "none", "no", "false", ""})
_ON = frozenset({"on", "yes", "true", "1"})


def _int(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"scenario key {key!r}: {value!r} is not an integer") from None


def _optional_int(key: str, value: str) -> int | None:
    return None if value.lower() in _OFF else _int(key, value)


def _float(key: str, value: str) -> float:
    try:
        result = float(value)
    except ValueError:
        raise UsageError(f"scenario key {key!r}: {value!r} is not a number") from None
    if not math.isfinite(result):
        raise UsageError(f"scenario key {key!r}: {value!r} is not a finite number")
    return result


def _duration(key: str, value: str) -> float:
    try:
        return parse_duration(value)
    except UsageError as exc:
        raise UsageError(f"scenario key {key!r}: {exc}") from None


def _choice(key: str, value: str, enum: type[StrEnum]) -> str:
    lowered = value.lower()
    choices = [member.value for member in enum]
    if lowered not in choices:
        raise UsageError(f"scenario key {key!r}: {value!r} is not one of {', '.join(choices)}")
    return lowered


def _pauses(key: str, value: str) -> tuple[Pause, ...]:
    if value.lower() in _OFF:
        return ()
    pauses = []
    for item in value.split(","):
        after, sep, duration = item.partition("@")
        if not sep:
            raise UsageError(f"scenario key {key!r}: {item!r} is not N@DURATION (e.g. 5@2s)")
        pauses.append(Pause(_int(key, after.strip()), _duration(key, duration)))
    return tuple(pauses)


def _switch(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _ON:
        return True
    if lowered in _OFF or lowered == "0":
        return False
    raise UsageError(f"scenario key {key!r}: {value!r} is not on or off")


def _size(key: str, value: str) -> int:
    try:
        return parse_size(value)
    except UsageError as exc:
        raise UsageError(f"scenario key {key!r}: {exc}") from None


_Setter = Callable[[str, str], dict[str, object]]

_SETTERS: dict[str, _Setter] = {
    "seed": lambda k, v: {"seed": _int(k, v)},
    "tokens": lambda k, v: {"tokens": _int(k, v)},
    "per_event": lambda k, v: {"per_event": _int(k, v)},
    "headers": lambda k, v: {"headers": _duration(k, v)},
    "ttft": lambda k, v: {"ttft": _duration(k, v)},
    # itl and rate are two spellings of one knob: the last one given wins.
    "itl": lambda k, v: {"itl": _duration(k, v), "rate": None},
    "rate": lambda k, v: {"rate": None if v.lower() in _OFF else _float(k, v)},
    "jitter": lambda k, v: {"jitter": _float(k, v)},
    "pad": lambda k, v: {"pad": _size(k, v)},
    "pause": lambda k, v: {"pause": _pauses(k, v)},
    "heartbeat": lambda k, v: {
        "heartbeat": None if v.lower() in _OFF or v == "0" else _duration(k, v)
    },
    "eol": lambda k, v: {"eol": Eol(_choice(k, v, Eol))},
    "framing": lambda k, v: {"framing": Framing(_choice(k, v, Framing))},
    "accel": lambda k, v: {"accel": Accel(_choice(k, v, Accel))},
    "ctype": lambda k, v: {"ctype": unquote(v) if v and v.lower() not in _OFF else None},
    "usage": lambda k, v: {"usage": _switch(k, v)},
    "fin": lambda k, v: {"fin": _optional_int(k, v)},
    "rst": lambda k, v: {"rst": _optional_int(k, v)},
    "truncate": lambda k, v: {"truncate": _optional_int(k, v)},
    "status": lambda k, v: {"status": _optional_int(k, v)},
    "error_after": lambda k, v: {"error_after": _optional_int(k, v)},
    "bad_utf8": lambda k, v: {"bad_utf8": _optional_int(k, v)},
    "bad_json": lambda k, v: {"bad_json": _optional_int(k, v)},
}
assert tuple(_SETTERS) == tuple(doc.key for doc in KEYS)


def apply_setting(base: Scenario, key: str, value: str) -> Scenario:
    """``base`` with one key set from its text form. Raises ``UsageError`` naming the key.

    Keys are case-insensitive and accept ``-`` for ``_`` (``error-after``). ``off`` clears an
    optional key (a fault, ``rate``, ``heartbeat``, ``pause``).
    """
    name = key.strip().lower().replace("-", "_")
    setter = _SETTERS.get(name)
    if setter is None:
        raise UsageError(f"unknown scenario key {key.strip()!r}; known keys: {', '.join(_SETTERS)}")
    changes = setter(name, value.strip())
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]  # values typed per key


def parse_scenario(text: str, base: Scenario) -> Scenario:
    """``base`` with the ``key=value;key=value`` settings of ``text`` applied left to right."""
    scenario = base
    for item in text.split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"scenario item {item.strip()!r} is not key=value")
        scenario = apply_setting(scenario, key, value)
    return scenario


def _format_seconds(seconds: float) -> str:
    text = repr(seconds)
    return f"{seconds:.9f}" if "e" in text else text


def _format_value(name: str, value: object) -> str:
    if value is None:
        return "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return _format_seconds(value) if name != "rate" and name != "jitter" else repr(value)
    if name == "pause":
        assert isinstance(value, tuple)
        return ",".join(f"{p.after}@{_format_seconds(p.seconds)}" for p in value) or "off"
    if name == "ctype":
        return str(value).replace("%", "%25").replace(";", "%3B")
    return str(value)


def format_scenario(scenario: Scenario, base: Scenario | None = None) -> str:
    """The scenario string that turns ``base`` (default: ``Scenario()``) into ``scenario``."""
    reference = Scenario() if base is None else base
    items: list[str] = []
    for doc in KEYS:
        value = getattr(scenario, doc.key)
        changed = value != getattr(reference, doc.key)
        # ``itl=`` clears ``rate``, so a rate must follow any itl that was written.
        if doc.key == "rate" and value is not None and any(i.startswith("itl=") for i in items):
            changed = True
        if changed:
            items.append(f"{doc.key}={_format_value(doc.key, value)}")
    return ";".join(items)
