"""HTTP headers on both sides of the probe: the defaults it adds to a request, and lookups in
the response's (one value, the body framing).
"""

from __future__ import annotations

import h11

from tokenpath import __version__
from tokenpath.probe.request import ProbeRequest
from tokenpath.probe.target import Target


def request_headers(request: ProbeRequest, target: Target) -> list[tuple[str, str]]:
    """The headers to send: defaults the user did not give, then the user's own, then the
    body's length. The user's framing headers are dropped: h11 frames the body."""
    given = {name.strip().lower() for name, _ in request.headers}
    headers: list[tuple[str, str]] = []
    if "host" not in given:
        headers.append(("Host", target.host_header))
    if "user-agent" not in given:
        headers.append(("User-Agent", f"tokenpath/{__version__}"))
    if "accept" not in given:
        headers.append(("Accept", "*/*"))
    if request.accept_encoding and "accept-encoding" not in given:
        headers.append(("Accept-Encoding", request.accept_encoding))
    if target.basic_auth and "authorization" not in given:
        headers.append(("Authorization", target.basic_auth))
    framing = ("content-length", "transfer-encoding")
    headers.extend((n, v) for n, v in request.headers if n.strip().lower() not in framing)
    if request.body or request.method.upper() in ("POST", "PUT", "PATCH"):
        headers.append(("Content-Length", str(len(request.body))))
    return headers


def framing(response: h11.Response, method: str) -> str:
    """How the body is delimited: "chunked", "length", "close", or "" when there is none."""
    if response.status_code in (204, 304) or method.upper() == "HEAD":
        return ""
    if header(response, b"transfer-encoding"):
        return "chunked"  # h11 accepts only "chunked"; it beats Content-Length
    if header(response, b"content-length"):
        return "length"
    return "close"


def header(response: h11.Response, name: bytes) -> str:
    """The first value of header ``name`` (lower case), or ""."""
    for key, value in response.headers:
        if key == name:
            return text(value)
    return ""


def text(value: bytes) -> str:
    return value.decode("latin-1")
