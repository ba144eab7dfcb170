"""The duration syntaxes Envoy-family fixes write, and what an ignored duration meant: a
Gateway API duration (GEP-2257, FACTS.md §4), a Go duration (Contour, FACTS.md §8) or a
protobuf JSON duration (Istio and raw Envoy, FACTS.md §5, §7), each checked against the
parser the adapters read it with."""

from __future__ import annotations

import math

from tokenpath.lint.envoy.values import (
    parse_gateway_duration,
    parse_go_duration,
    parse_proto_duration,
)
from tokenpath.lint.model import Controller, EnvoyRoute, Ignored
from tokenpath.lint.rules._shared import intended_seconds

# GEP-2257 allows at most 5 digits per part (FACTS.md §4).
_GEP_MAX = 99999
_GEP_UNITS = (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def gateway_duration(value: float) -> str | None:
    """``value`` seconds as the shortest exact Gateway API duration (GEP-2257: up to four
    <1-5 digits><h|m|s|ms> parts): 1.5 -> "1500ms", 86400 -> "24h", 100000 -> "27h46m40s".
    Also valid Go duration syntax. None when not exactly representable."""
    if math.isinf(value) or value < 0:
        return None
    millis = round(value * 1000)
    if abs(millis - value * 1000) > 1e-6:
        return None
    if millis == 0:
        return "0s"
    candidates = [
        f"{millis // factor}{unit}"
        for unit, factor in _GEP_UNITS
        if millis % factor == 0 and millis // factor <= _GEP_MAX
    ]
    parts, rest = [], millis
    for unit, factor in _GEP_UNITS:
        count, rest = divmod(rest, factor)
        if count:
            parts.append(f"{count}{unit}")
    candidates.append("".join(parts))
    for text in sorted(candidates, key=len):  # stable: larger units first on a tie
        try:
            if parse_gateway_duration(text) == value:
                return text
        except ValueError:
            continue
    return None


def go_duration(value: float) -> str | None:
    """``value`` seconds in Go ``time.ParseDuration`` syntax (Contour HTTPProxy)."""
    text = gateway_duration(value) or f"{value:g}s"
    try:
        return text if parse_go_duration(text) == value else None
    except ValueError:
        return None


def proto_duration(value: float) -> str | None:
    """``value`` seconds as a protobuf JSON Duration ("15s", "1.5s"): Istio, raw Envoy."""
    if math.isinf(value) or value < 0:
        return None
    text = f"{value:.9f}".rstrip("0").rstrip(".") + "s"
    return text if parse_proto_duration(text) == value else None


def whole_seconds(value: float) -> str | None:
    """``ceil(value)`` as "900s": valid in GEP-2257, Go, Istio and protobuf syntax alike,
    up to GEP-2257's 99999 s; None above that."""
    text = f"{math.ceil(value)}s"
    try:
        parse_gateway_duration(text)
    except ValueError:
        return None
    return text


# Kinds whose durations are protobuf JSON durations (also valid Go durations, which Istio
# accepts); every other object kind of the family (HTTPRoute, AIGatewayRoute, Envoy Gateway
# policies) takes Gateway API durations, and Contour's HTTPProxy Go durations or "infinity".
_PROTO_KINDS = frozenset({"VirtualService", "DestinationRule", "EnvoyFilter"})


def syntax_of(route: EnvoyRoute, ignored: Ignored) -> str:
    """ "contour", "proto" or "gateway": the duration syntax where ``ignored`` was written."""
    kind = ignored.source.obj.kind if ignored.source.obj is not None else ""
    if kind == "HTTPProxy":
        return "contour"
    if kind in _PROTO_KINDS or (route.owner.controller is Controller.ENVOY and kind != "HTTPRoute"):
        return "proto"
    return "gateway"


_PARSERS = {
    "contour": parse_go_duration,
    "proto": parse_proto_duration,
    "gateway": parse_gateway_duration,
}


def is_valid(route: EnvoyRoute, ignored: Ignored) -> bool:
    """Whether an ignored duration is valid in the syntax where it was written."""
    try:
        _PARSERS[syntax_of(route, ignored)](ignored.raw)
    except ValueError:
        return False
    return True


def meant(route: EnvoyRoute, ignored: Ignored) -> str | None:
    """An ignored duration rewritten in the syntax of the object it was written in, keeping
    what it says. None when the value is already valid there (it is ignored for another
    reason: a policy shadowed by another), or its duration is unclear or not exactly
    expressible."""
    syntax = syntax_of(route, ignored)
    value = intended_seconds(ignored.raw)
    if value is None:
        return None
    if syntax == "contour" and value == 0:
        return "infinity"  # Contour reads 0s as unset; "infinity" turns it off (FACTS.md §8)
    if is_valid(route, ignored):
        return None
    match syntax:
        case "contour":
            return go_duration(value)
        case "proto":
            return proto_duration(value)
        case _:
            return gateway_duration(value)
