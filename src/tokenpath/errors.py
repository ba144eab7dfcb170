"""The one exception tree of tokenpath.

Every error a user can see is a ``TokenpathError``; its message says what failed, where,
and what to try next. The CLI maps them to exit code 2 and prints one line.

::

    TokenpathError
    ├── UsageError             bad flag value, bad scenario string, bad duration
    ├── ConfigError            a policy file (.tokenpath.yaml) has an unknown key or bad value
    ├── StreamProtocolError    a stream broke the SSE/NDJSON rules or a size cap
    ├── ProbeError             the probe could not get an answer
    │   ├── ProbeConnectError  DNS, refused, unreachable, TLS handshake
    │   └── ProbeTimeout       no answer within the probe's bounds
    ├── ProxyError             a real proxy binary is missing, rejects its config or won't start
    ├── ManifestError          an input file cannot be read or parsed at all
    └── FixConflictError       two fixes edit overlapping text

Lower-layer errors (``OSError``, ``ssl.SSLError``, ``h11`` errors) are translated into these
at the module that talks to the outside world, never further up.
"""

from __future__ import annotations


class TokenpathError(Exception):
    """Root of every error tokenpath reports to a user."""


class UsageError(TokenpathError):
    """A value given by the user cannot be used (flag, scenario string, duration)."""


class ConfigError(TokenpathError):
    """A configuration file (the ``.tokenpath.yaml`` policy) cannot be used: "file:line: why"."""


class StreamProtocolError(TokenpathError):
    """The byte stream broke the SSE or NDJSON rules, or exceeded a size cap."""


class ProbeError(TokenpathError):
    """The probe could not complete a request."""


class ProbeConnectError(ProbeError):
    """No connection: DNS failure, refused, unreachable, or a failed TLS handshake."""


class ProbeTimeout(ProbeError):
    """No answer within the probe's time bounds."""


class ProxyError(TokenpathError):
    """A real proxy could not be run: binary missing, config rejected, or it did not start."""


class ManifestError(TokenpathError):
    """An input file cannot be read or parsed at all (not found, binary, not UTF-8)."""


class FixConflictError(TokenpathError):
    """Two fixes edit overlapping text of the same file."""
