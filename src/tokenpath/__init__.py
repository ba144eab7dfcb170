"""tokenpath: find out what the path between an LLM server and its users does to the stream."""

from tokenpath.errors import (
    FixConflictError,
    ManifestError,
    ProbeConnectError,
    ProbeError,
    ProbeTimeout,
    ProxyError,
    StreamProtocolError,
    TokenpathError,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    "FixConflictError",
    "ManifestError",
    "ProbeConnectError",
    "ProbeError",
    "ProbeTimeout",
    "ProxyError",
    "StreamProtocolError",
    "TokenpathError",
    "UsageError",
    "__version__",
]
