"""Where a probe URL points: the host and port to connect to, the Host header, the request
target, and Basic credentials taken from the userinfo. Parsing only; no I/O.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from tokenpath.errors import UsageError
from tokenpath.probe.messages import reason_of
from tokenpath.probe.request import display_url

_SAFE = "/%?=&:@!$'()*+,;~[]"  # kept as is in the request target; the rest is %-encoded


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed probe URL. ``shown`` is the URL as it may be displayed (``display_url``)."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: str  # request target: path and query
    shown: str
    basic_auth: str | None  # the Authorization value for the URL's userinfo, if any

    @classmethod
    def parse(cls, url: str) -> Target:
        """The target of ``url``; a ``UsageError`` unless it is an http(s) URL with a host."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise UsageError(f"invalid URL {display_url(url)!r}: {reason_of(exc)}") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"invalid URL {display_url(url)!r}: use http://HOST[:PORT]/PATH or https://..."
            )
        default_port = 443 if parts.scheme == "https" else 80
        host = parts.hostname
        shown_host = f"[{host}]" if ":" in host else host
        auth = None
        if parts.username is not None:
            creds = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = "Basic " + base64.b64encode(creds.encode()).decode()
        return cls(
            scheme=parts.scheme,
            host=host,
            port=port or default_port,
            host_header=shown_host if port in (None, default_port) else f"{shown_host}:{port}",
            path=quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), _SAFE),
            shown=display_url(url),
            basic_auth=auth,
        )
