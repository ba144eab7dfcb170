"""One rule of a Gateway API route as its implementation serves it (``RuleContext``), and
reading its own timeouts: a Gateway API duration (GEP-2257) whose ``0s`` means "no timer"
(FACTS.md §4, §6); one that does not parse is an ``Ignored`` with the reason."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tokenpath.lint.envoy.gwcore import BackendRef, Raw, Rule, XRoute
from tokenpath.lint.envoy.policies import Layer
from tokenpath.lint.envoy.values import (
    field_source,
    parse_gateway_duration,
    with_ignored,
    written,
)
from tokenpath.lint.model import Controller, Ignored, Setting, Source


@dataclass(frozen=True, slots=True)
class RuleContext:
    """One rule of an xRoute, as its implementation serves it."""

    controller: Controller
    route: XRoute
    rule: Rule
    where: str  # "spec.rules[0]"
    btp: Layer  # route-level BTPs before Gateway-level ones
    ctp: Layer  # listener CTPs before Gateway-wide ones
    pool: BackendRef | None  # an InferencePool backendRef of the rule


def timer_seconds(value: float) -> float:
    """0 disables a Gateway API / Envoy Gateway timer: "no timer" (FACTS.md §4, §6)."""
    return math.inf if value == 0 else value


def own_source(ctx: RuleContext, key: str, raw: Raw) -> Source:
    return field_source(ctx.route.ref, f"{ctx.where}.{key}", raw.node)


def parse_raw(raw: Raw, parse: Callable[[str], float]) -> tuple[float | None, str]:
    try:
        return parse(raw.text), ""
    except ValueError as error:
        return None, str(error)


def rule_timeout(ctx: RuleContext, previous: Setting[float], key: str, raw: Raw) -> Setting[float]:
    value, why = parse_raw(raw, parse_gateway_duration)
    if value is None:
        return with_ignored(previous, Ignored(own_source(ctx, key, raw), raw.text, why))
    return written(previous, timer_seconds(value), own_source(ctx, key, raw), raw.text)
