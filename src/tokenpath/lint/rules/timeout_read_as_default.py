"""A written timeout does not take effect, so a default applies instead.

## What it does
Flags a route timeout, idle timeout, per-try timeout, per-try idle timeout or max stream
duration that an Envoy-family controller does not take as written, so that another value
(usually a short default) applies:
* Contour reads `0s` in an HTTPProxy `timeoutPolicy` as "not set": the response timeout stays
  at Envoy's 15 s. Contour's way to turn it off is `infinity`.
* A Gateway API duration (HTTPRoute, AIGatewayRoute, Envoy Gateway policies) follows GEP-2257:
  up to four `<1-5 digits><h|m|s|ms>` parts. `1.5s`, `1d`, `100000s` and `30` are invalid;
  Envoy Gateway then leaves Envoy's 15 s route timeout.
* A valid policy value that Envoy Gateway does not apply: a Gateway-level
  BackendTrafficPolicy shadowed by a route-level one, or a `requestTimeout` for an
  AIGatewayRoute (whose 60 s default wins).

It reports only values in place of which a default timer applies; one whose default is "no
timer" cuts nothing.

## Why it breaks streaming
The manifest looks like it allows long generations, but the default total timer still cuts
every stream that runs longer (see TP204): a 200 without `data: [DONE]`, or a 504 before the
headers. It is one of the most common wrong fixes for 15 s cuts.

## Example
```yaml
kind: HTTPProxy
spec:
  routes:
    - timeoutPolicy:
        response: 0s   # counts as unset: 15 s; write "infinity"
```

## Fix
The fix rewrites the value where it was written, keeping what it was meant to say, and is
safe: Contour `0s` becomes `infinity`; an invalid Gateway API duration becomes the same
duration in valid syntax (`1.5s` → `1500ms`, `1d` → `24h`, `100000s` → `27h46m40s`); Istio
and Envoy values become protobuf durations (`15s`, `1.5s`). A value whose duration is unclear,
or that the syntax cannot express exactly, gets no fix; a valid value ignored for another
reason gets the advice to set it where it takes effect (TP204 offers the route-level edit).

## Source
Contour `0s` (FACTS.md §8, §17); GEP-2257 syntax and Envoy Gateway's fallback to 15 s for an
invalid duration (FACTS.md §4, §6); Envoy Gateway policy precedence (FACTS.md §6); the
AIGatewayRoute default (FACTS.md §9); Envoy's 15 s default (FACTS.md §5).
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import EnvoyRoute, Family, Ignored, Setting
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._envoy import (
    LABELS,
    instead,
    read_as_default,
    rewrite_fix,
)
from tokenpath.lint.rules._envoy_durations import is_valid, meant, syntax_of
from tokenpath.lint.rules._shared import advice, ignored_as_setting

META = RuleMeta(
    code="TP207",
    name="timeout-read-as-default",
    severity=Severity.ERROR,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://gateway-api.sigs.k8s.io/geps/gep-2257/",
        "https://github.com/envoyproxy/gateway/blob/main/internal/gatewayapi/route.go",
        "https://github.com/projectcontour/contour/blob/main/apis/projectcontour/v1/httpproxy.go",
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto",
    ),
    proven_on="Envoy 1.40.0 (tests/proxy/test_rule_proofs.py)",
    family=Family.ENVOY,
)

_TIMEOUTS = (
    "route_timeout",
    "idle_timeout",
    "backend_timeout",
    "max_stream_duration",
    "per_try_idle_timeout",
)

_SYNTAX_HELP = {
    "contour": 'a Go duration such as "300s", or "infinity" for no timeout',
    "proto": 'a protobuf duration such as "300s" or "0.5s"',
    "gateway": 'a Gateway API duration such as "300s" or "1h30m" (GEP-2257)',
}


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    for name in _TIMEOUTS:
        setting = getattr(route.settings, name)
        for ignored in read_as_default(route, setting):
            yield ctx.finding(
                META,
                route,
                _message(route, name, setting, ignored),
                setting_name=name,
                setting=ignored_as_setting(setting, ignored),
                fix=_fix(route, ignored),
            )


def _message(route: EnvoyRoute, name: str, setting: Setting[float], ignored: Ignored) -> str:
    head = f'{LABELS[name]} "{ignored.raw}" does not take effect ({ignored.reason})'
    reason = ignored.reason.lower()
    if "refuse" in reason:
        return head  # the object is refused: saying what applies instead would be a guess
    if "applies" in reason or "stays" in reason:
        return head  # the reason already says what applies instead
    return f"{head}; {instead(route, name, setting)} instead"


def _fix(route: EnvoyRoute, ignored: Ignored) -> Fix:
    text = meant(route, ignored)
    fix = None if text is None else rewrite_fix(ignored, text)
    if fix is not None:
        return fix
    if is_valid(route, ignored):
        # Valid syntax, ignored for another reason (a shadowed policy, say): the value has
        # to move, which only the user can decide.
        return advice(f'set "{ignored.raw}" where it takes effect, such as on the route itself')
    return advice(f'write {_SYNTAX_HELP[syntax_of(route, ignored)]} instead of "{ignored.raw}"')
