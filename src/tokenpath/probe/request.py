"""Build the probe's request from user options: URL, dialect-appropriate default body, headers,
API key from an environment variable. No I/O except reading ``--data @FILE`` and the
environment; every bad value is a ``UsageError`` that never quotes a secret.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tokenpath.errors import UsageError
from tokenpath.stream.dialects import Dialect, detect_dialect

DEFAULT_MODEL = "tokenpath-mock"
DEFAULT_PROMPT = "Count from 1 to 20, one number per line."
DEFAULT_TGI_MAX_NEW_TOKENS = 64

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 field-name
_BAD_VALUE = re.compile(r"[\x00\r\n]")

REDACTED = "<redacted>"
_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SENSITIVE_PARTS = ("auth", "key", "token", "secret", "password", "cookie", "session")


def is_sensitive_header(name: str) -> bool:
    """Whether a header's value must never be shown (credentials, cookies, API keys)."""
    lname = name.strip().lower()
    return lname in _SENSITIVE_HEADERS or any(part in lname for part in _SENSITIVE_PARTS)


def display_url(url: str) -> str:
    """``url`` without userinfo and with sensitive query values (``?key=...``) redacted."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_sensitive_header(name) for name, _ in pairs):
            query = urlencode(
                [(n, REDACTED if is_sensitive_header(n) else v) for n, v in pairs], safe="<>"
            )
    return parts._replace(netloc=netloc, query=query).geturl()


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """One request to probe. Sizes are bytes, times seconds; ``timeout_s`` is the idle bound
    (no bytes for this long ends it), ``max_time_s`` the total one."""

    url: str
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    dialect: Dialect = Dialect.AUTO
    timeout_s: float = 30.0
    max_time_s: float = 300.0
    connect_timeout_s: float = 10.0
    max_bytes: int = 64 * 1024 * 1024
    max_event_bytes: int = 1024 * 1024
    insecure: bool = False
    cacert: str | None = None
    accept_encoding: str = "gzip, deflate"  # what the OpenAI SDK sends: compression shows

    def display_headers(self) -> tuple[tuple[str, str], ...]:
        """The headers with credential values replaced by ``<redacted>``."""
        return tuple((n, REDACTED if is_sensitive_header(n) else v) for n, v in self.headers)

    def secrets(self) -> tuple[str, ...]:
        """Values that must never be printed: sensitive header values, the URL password."""
        values = [v for n, v in self.headers if is_sensitive_header(n) and v]
        password = urlsplit(self.url).password
        if password:
            values.append(password)
        return tuple(values)

    def __repr__(self) -> str:
        return (
            f"ProbeRequest(url={display_url(self.url)!r}, method={self.method!r}, "
            f"headers={self.display_headers()!r}, body=<{len(self.body)} bytes>, "
            f"dialect={self.dialect.value!r}, timeout_s={self.timeout_s!r}, "
            f"max_time_s={self.max_time_s!r}, connect_timeout_s={self.connect_timeout_s!r}, "
            f"max_bytes={self.max_bytes!r}, max_event_bytes={self.max_event_bytes!r}, "
            f"insecure={self.insecure!r}, cacert={self.cacert!r}, "
            f"accept_encoding={self.accept_encoding!r})"
        )


def build_request(
    url: str,
    *,
    dialect: Dialect = Dialect.AUTO,
    model: str | None = None,
    prompt: str | None = None,
    data: str | None = None,
    headers: Iterable[str] = (),
    api_key_env: str | None = None,
    max_tokens: int | None = None,
    stream: bool = True,
    method: str | None = None,
    timeout_s: float = 30.0,
    max_time_s: float = 300.0,
    connect_timeout_s: float = 10.0,
    max_bytes: int = 64 * 1024 * 1024,
    max_event_bytes: int = 1024 * 1024,
    insecure: bool = False,
    cacert: str | None = None,
    accept_encoding: str = "gzip, deflate",
    environ: Mapping[str, str] | None = None,
) -> ProbeRequest:
    """The ``ProbeRequest`` for these options.

    ``data`` is a raw body (JSON unless the dialect is raw) or ``@FILE``; without it the body
    is the dialect's default for ``model``, ``prompt`` and ``max_tokens``. ``Dialect.AUTO``
    is guessed from the URL path. ``headers`` are ``"Name: value"`` strings; ``api_key_env``
    names an environment variable whose value is sent as ``Authorization: Bearer ...``.
    """
    path = _check_url(url)
    _check_bounds(timeout_s, max_time_s, connect_timeout_s, max_bytes, max_event_bytes)
    if cacert is not None and not Path(cacert).is_file():
        raise UsageError(f"--cacert {cacert!r}: no such file")
    body_dialect = detect_dialect(path, "") if dialect is Dialect.AUTO else dialect
    if data is not None:
        body = _data_body(data, check_json=body_dialect is not Dialect.RAW)
    elif body_dialect is Dialect.RAW:
        body = b""
    else:
        payload = default_body(
            body_dialect, path, model or DEFAULT_MODEL, prompt or DEFAULT_PROMPT, max_tokens, stream
        )
        body = json.dumps(payload).encode()
    parsed = [parse_header(text) for text in headers]
    given = {name.lower() for name, _ in parsed}
    extra: list[tuple[str, str]] = []
    if body and "content-type" not in given:
        extra.append(("Content-Type", "application/json"))
    if api_key_env is not None:
        if "authorization" in given:
            raise UsageError("both --api-key-env and an Authorization header given: use one")
        extra.append(("Authorization", f"Bearer {_api_key(api_key_env, environ)}"))
    return ProbeRequest(
        url=url,
        method=(method or ("POST" if body else "GET")).upper(),
        headers=(*extra, *parsed),
        body=body,
        dialect=dialect,
        timeout_s=timeout_s,
        max_time_s=max_time_s,
        connect_timeout_s=connect_timeout_s,
        max_bytes=max_bytes,
        max_event_bytes=max_event_bytes,
        insecure=insecure,
        cacert=cacert,
        accept_encoding=accept_encoding,
    )


def default_body(
    dialect: Dialect, path: str, model: str, prompt: str, max_tokens: int | None, stream: bool
) -> dict[str, Any]:
    """The default JSON body of a streaming request in ``dialect`` (not RAW or AUTO)."""
    body: dict[str, Any]
    match dialect:
        case Dialect.OPENAI_CHAT | Dialect.OPENAI_COMPLETIONS:
            body = {"model": model}
            if dialect is Dialect.OPENAI_CHAT:
                body["messages"] = [{"role": "user", "content": prompt}]
            else:
                body["prompt"] = prompt
            body["stream"] = stream
            if stream:
                body["stream_options"] = {"include_usage": True}
            if max_tokens is not None:
                body["max_tokens"] = max_tokens
        case Dialect.TGI:
            new_tokens = max_tokens if max_tokens is not None else DEFAULT_TGI_MAX_NEW_TOKENS
            body = {"inputs": prompt, "parameters": {"max_new_tokens": new_tokens}}
        case Dialect.OLLAMA:
            body = {"model": model}
            if path.rstrip("/").endswith("/generate"):
                body["prompt"] = prompt
            else:
                body["messages"] = [{"role": "user", "content": prompt}]
            body["stream"] = stream
            if max_tokens is not None:
                body["options"] = {"num_predict": max_tokens}
        case Dialect.RAW | Dialect.AUTO:
            raise ValueError(f"no default body for dialect {dialect.value}")
    return body


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` -> ``("Name", "value")``. The value is never quoted in errors."""
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not _TOKEN.match(name):
        shown = name if _TOKEN.match(name) else "..."
        raise UsageError(f"invalid header {shown!r}: use 'Name: value' (e.g. 'X-Team: ml')")
    if _BAD_VALUE.search(value):
        raise UsageError(f"invalid value for header {name!r}: it contains a line break or NUL")
    return name, value.strip()


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``<redacted>``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _check_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise UsageError(f"invalid URL {display_url(url)!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"invalid URL {display_url(url)!r}: use http://HOST[:PORT]/PATH or https://..."
        )
    return parts.path or "/"


def _check_bounds(
    timeout_s: float, max_time_s: float, connect_s: float, max_bytes: int, max_event: int
) -> None:
    for flag, value in (
        ("--timeout", timeout_s),
        ("--max-time", max_time_s),
        ("--connect-timeout", connect_s),
        ("--max-bytes", max_bytes),
        ("--max-event-bytes", max_event),
    ):
        if not value > 0:
            raise UsageError(f"{flag} must be greater than 0 (got {value})")


def _data_body(data: str, *, check_json: bool) -> bytes:
    if data.startswith("@"):
        path = Path(data[1:])
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read --data file {str(path)!r}: {exc.strerror}") from exc
    else:
        body = data.encode()
    if check_json:
        try:
            json.loads(body)
        except ValueError as exc:
            raise UsageError(
                f"--data is not valid JSON ({exc}); use --dialect raw to send it as is"
            ) from exc
    return body


def _api_key(var: str, environ: Mapping[str, str] | None) -> str:
    env = os.environ if environ is None else environ
    value = env.get(var, "").strip()
    if not value:
        raise UsageError(f"--api-key-env {var}: the environment variable is not set or empty")
    if _BAD_VALUE.search(value):
        raise UsageError(f"--api-key-env {var}: the value contains a line break or NUL")
    return value
