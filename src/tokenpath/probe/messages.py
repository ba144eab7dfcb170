"""One-line user messages for errors from below the probe: OS, TLS and h11.

Each says what failed and what to try next. None quotes a header value: h11's messages can,
so ``h11_reason`` keeps only the words before the quoted bytes.
"""

from __future__ import annotations

import re
import socket
import ssl

import h11

from tokenpath.units import format_seconds

_H11_DETAIL = re.compile(r":\s*(?:bytearray\(|b['\"]).*$", re.DOTALL)


def reason_of(exc: BaseException) -> str:
    """One line saying why an OS, TLS or parsing error happened."""
    if isinstance(exc, ssl.SSLError):
        detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None)
        if detail:
            return str(detail).lower().replace("_", " ")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def h11_reason(exc: h11.RemoteProtocolError) -> str:
    """h11's complaint without the offending bytes it quotes (maybe a header value)."""
    return _H11_DETAIL.sub("", str(exc)).strip() or "protocol error"


def connect_message(url: str, exc: OSError, budget_s: float) -> str:
    """Why connecting to ``url`` failed, and what to check."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host of {url} ({reason_of(exc)}): check the host name"
    if isinstance(exc, TimeoutError):
        return (
            f"connecting to {url} timed out after {format_seconds(budget_s)}: check the host "
            "and port, a firewall, or raise --connect-timeout"
        )
    if isinstance(exc, ConnectionRefusedError):
        return f"connection to {url} refused: is the server running and listening on that port?"
    return f"cannot connect to {url} ({reason_of(exc)}): check the host, port and network"


def tls_message(url: str, exc: OSError) -> str:
    """Why the TLS handshake with ``url`` failed, and what to try."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate of {url} not trusted ({reason_of(exc)}): pass the CA with "
            "--cacert FILE, or skip verification with --insecure"
        )
    if isinstance(exc, TimeoutError):
        return (
            f"TLS handshake with {url} timed out: check that the port speaks TLS "
            "(use http:// if not), or try --insecure or --cacert FILE"
        )
    return (
        f"TLS handshake with {url} failed ({reason_of(exc)}): check that the port speaks TLS "
        "(use http:// if not), or try --insecure or --cacert FILE"
    )
