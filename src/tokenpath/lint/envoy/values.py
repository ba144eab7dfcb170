"""Values shared by the Envoy-family adapters: duration and quantity syntaxes, the Envoy
defaults a route starts from (with their FACTS.md source) and sources for fields of objects.

Every duration parser returns seconds (``math.inf`` for "no timer") or raises ``ValueError``
with the reason in words, which the adapters turn into ``Ignored`` entries.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import TypeVar

from tokenpath.lint.facts import fact
from tokenpath.lint.model import (
    Controller,
    EnvoyRouteSettings,
    Ignored,
    ObjectRef,
    Setting,
    Source,
    SourceKind,
)
from tokenpath.lint.yamlnode import YNode
from tokenpath.units import parse_duration

T = TypeVar("T")

_GEP_2257 = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")
_GO_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
    "h": 3600.0,
}  # fmt: skip
_PROTO = re.compile(r"^(-?[0-9]+)(\.[0-9]{1,9})?s$")
_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[kMGTPEm]|[eE][+-]?[0-9]+)?$"
)
_SUFFIX = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "m": 1e-3,
}  # fmt: skip

ENVOY_ROUTE = (
    "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto"
)
ENVOY_HCM = (
    "https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/"
    "http_connection_manager/v3/http_connection_manager.proto"
)


# Defaults, read from the one facts table (``tokenpath.lint.facts``; FACTS.md §5, §6).
ENVOY_ROUTE_TIMEOUT_S = parse_duration(fact(Controller.ENVOY, "route.timeout").default)
ENVOY_STREAM_IDLE_S = parse_duration(fact(Controller.ENVOY, "hcm.stream_idle_timeout").default)
ENVOY_DELAYED_CLOSE_S = parse_duration(fact(Controller.ENVOY, "hcm.delayed_close_timeout").default)
ENVOY_CONNECTION_BUFFER = int(fact(Controller.ENVOY, "per_connection_buffer_limit_bytes").default)
EG_BUFFER_LIMIT = int(fact(Controller.ENVOY_GATEWAY, "connection.bufferLimit").default)
# Content types Envoy's compressor filter compresses when none are listed: SSE and NDJSON are
# not among them.
ENVOY_COMPRESSOR_DEFAULT_TYPES = tuple(
    fact(Controller.ENVOY, "compressor.content_type").default.split()
)


def parse_gateway_duration(text: str) -> float:
    """A Gateway API Duration (GEP-2257): ``300s``, ``1h30m``, ``500ms``, ``0s``. ``0s`` is
    returned as 0; what it means is up to the implementation."""
    if not _GEP_2257.match(text):
        raise ValueError(
            f'"{text}" is not a Gateway API duration (GEP-2257: up to four <1-5 digits><h|m|s|ms> '
            'parts, such as "300s" or "1h30m"; no decimals, no days)'
        )
    return _sum_parts(text)


def parse_go_duration(text: str) -> float:
    """A Go ``time.ParseDuration`` string: ``1.5s``, ``2m30s``, ``300ms``; ``0`` alone too."""
    if text == "0":
        return 0.0
    total, at = 0.0, 0
    for match in _GO_PART.finditer(text):
        if match.start() != at:
            break
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        at = match.end()
    if at != len(text) or not text:
        raise ValueError(f'"{text}" is not a Go duration (such as "300s", "1h30m" or "1.5s")')
    return total


def parse_proto_duration(text: str) -> float:
    """A protobuf JSON Duration as Envoy reads it: ``15s``, ``0.5s``, ``0s``."""
    match = _PROTO.match(text)
    if match is None or text.startswith("-"):
        raise ValueError(
            f'"{text}" is not a protobuf duration (seconds with an "s" suffix, such as "15s" '
            'or "0.5s")'
        )
    return float(match.group(1) + (match.group(2) or ""))


def parse_quantity(text: str) -> int:
    """A Kubernetes resource.Quantity as a whole number of bytes: ``32768``, ``32Ki``,
    ``50Mi``, ``1M``, ``1.5Gi``, ``1e3``. Raises ``ValueError`` with the reason."""
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise ValueError(
            f'"{text}" is not a Kubernetes quantity (such as "32768", "32Ki" or "50Mi")'
        )
    number, suffix = float(match.group(1)), match.group(2) or ""
    scale = float(10 ** int(suffix[1:])) if suffix[:1] in ("e", "E") else _SUFFIX.get(suffix, 1)
    value = number * scale
    if value < 0:
        raise ValueError(f'"{text}" is negative')
    return math.ceil(value)


def _sum_parts(text: str) -> float:
    return sum(float(m.group(1)) * _GO_UNITS[m.group(2)] for m in _GO_PART.finditer(text))


def default(value: T, detail: str) -> Setting[T]:
    return Setting(value=value, source=Source(SourceKind.DEFAULT, key="", detail=detail))


def fact_detail(controller: Controller, key: str, prefix: str = "") -> str:
    """The provenance text of a default from the facts table, after ``prefix``."""
    row = fact(controller, key)
    text = row.detail("")
    if row.note:
        text = f"{text}; {row.note}"
    return f"{prefix}{text}"


def fact_seconds(controller: Controller, key: str) -> float:
    """A duration default of the facts table, in seconds."""
    return parse_duration(fact(controller, key).default)


def envoy_route_default(who: str) -> Setting[float]:
    """Envoy's own route timeout, for a route ``who`` sets no timeout on."""
    return default(
        ENVOY_ROUTE_TIMEOUT_S, fact_detail(Controller.ENVOY, "route.timeout", f"{who} sets none: ")
    )


def envoy_idle_default(prefix: str = "") -> Setting[float]:
    """The listener's stream idle timeout, Envoy's default."""
    return default(
        ENVOY_STREAM_IDLE_S, fact_detail(Controller.ENVOY, "hcm.stream_idle_timeout", prefix)
    )


def envoy_defaults(who: str) -> EnvoyRouteSettings:
    """The settings of an Envoy route nobody configured, as ``who`` (e.g. "Envoy Gateway")
    leaves them: Envoy's own defaults (FACTS.md §5). Adapters replace what is set."""
    return EnvoyRouteSettings(
        route_timeout=envoy_route_default(who),
        idle_timeout=envoy_idle_default(),
        backend_timeout=default(math.inf, "no per-try timeout"),
        per_try_idle_timeout=default(math.inf, "no per-try idle timeout"),
        max_stream_duration=default(math.inf, "no max_stream_duration"),
        compression=default(None, "no compressor filter"),
        body_buffered=default(False, "no filter buffers the request body"),
        request_buffer_limit=default(
            ENVOY_CONNECTION_BUFFER,
            fact_detail(Controller.ENVOY, "per_connection_buffer_limit_bytes"),
        ),
        delayed_close=default(
            ENVOY_DELAYED_CLOSE_S, fact_detail(Controller.ENVOY, "hcm.delayed_close_timeout")
        ),
    )


def field_source(obj: ObjectRef, key: str, node: YNode | None, detail: str = "") -> Source:
    """The source of a value written at ``key`` (a dotted field path) of ``obj``."""
    return Source(
        SourceKind.FIELD,
        key=key,
        obj=obj,
        line=node.span.line if node is not None else obj.line,
        detail=detail,
        node=node,
    )


def written(
    previous: Setting[T],
    value: T,
    source: Source,
    raw: str | None,
    ignored: tuple[Ignored, ...] = (),
) -> Setting[T]:
    """A value that replaces ``previous`` (which it overrides, keeping its history)."""
    return Setting(
        value=value,
        source=source,
        raw=raw,
        overridden=(*previous.overridden, previous.source),
        ignored=(*previous.ignored, *ignored),
    )


def with_ignored(previous: Setting[T], ignored: Ignored) -> Setting[T]:
    """``previous`` still applies; ``ignored`` was written but does not take effect."""
    return replace(previous, ignored=(*previous.ignored, ignored))
