"""An annotation that the controller serving this Ingress does not read.

## What it does
Flags an annotation on the Ingress that the owning controller never reads:

* another controller's prefix, such as `nginx.ingress.kubernetes.io/proxy-buffering` on an
  Ingress served by F5 NGINX Ingress Controller (which reads only `nginx.org/`), or the
  other way round;
* a misspelt key, such as `nginx.ingress.kubernetes.io/proxy-read-timout`.

## Why it breaks streaming
Controllers ignore annotations they do not know, silently. An Ingress ported from
ingress-nginx to F5 NGINX Ingress Controller keeps its `nginx.ingress.kubernetes.io/*`
settings on paper but loses all of them. Buffering goes back to F5's default, on, and the
read timeout goes back to 60 s, so the streaming symptoms return without any change to the
manifest. A typo has the same effect on the one setting it names.

## Example
```yaml
metadata:
  annotations:
    # served by F5 NGINX Ingress Controller: ignored
    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"
spec:
  ingressClassName: nginx-inc
```

## Fix
When the annotation maps to a setting that the owning controller has, the fix renames it to
the owner's key and converts the value to the owner's syntax. For example
`nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"` becomes
`nginx.org/proxy-read-timeout: "3600s"`, and `proxy-buffering: "off"` becomes `"False"`. A
misspelt key is renamed to the nearest known key of the owner, with the value kept. The fix
is unsafe: the setting starts to take effect. If the Ingress is still served by the other
controller too, add the owner's key instead of renaming. There is no fix when the owner has
no equivalent setting, when the value's meaning is unclear, or when the owner's key is
already set.

## Source
F5 NGINX Ingress Controller reads only `nginx.org/` annotations and ignores
`nginx.ingress.kubernetes.io/*` (FACTS.md §2, §3). Value syntaxes: FACTS.md §2 (ingress-nginx:
integer seconds, `on`/`off`) and §3 (F5: nginx time, `True`/`False`).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Collection, Iterator

from tokenpath.fix.edit import Edit, Fix, Safety
from tokenpath.fix.yamledit import replace_scalar
from tokenpath.lint.adapters import annotation_key, format_value
from tokenpath.lint.facts import INGRESS_NGINX_ANNOTATIONS, NGINX_INC_ANNOTATIONS
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import Controller, Ignored, NginxRoute, Setting
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import (
    intended_bool,
    intended_bytes,
    intended_whole_seconds,
)

META = RuleMeta(
    code="TP502",
    name="annotation-not-read",
    severity=Severity.WARNING,
    category=Category.IGNORED_SETTING,
    fix=FixAvailability.SOMETIMES,
    references=(
        "https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/advanced-configuration-with-annotations/",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/",
    ),
)

INGRESS_NGINX_PREFIX = "nginx.ingress.kubernetes.io"
NGINX_INC_PREFIX = "nginx.org"
_TYPO_CUTOFF = 0.9
_TYPO_MARGIN = 0.03

# RouteSettings fields that an annotation can set, in the order they are tried.
SETTING_NAMES = (
    "buffering",
    "request_buffering",
    "http_version",
    "read_timeout",
    "send_timeout",
    "connect_timeout",
    "body_size",
    "modsecurity",
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    for ignored in route.settings.unread:
        target = _target(route.owner.controller, ignored.source.key)
        message = f"annotation {ignored.source.key} is not read by {route.owner.controller}"
        message += f" ({ignored.reason})" if ignored.reason else ""
        if target is not None and target[0] not in message:
            owner_key, _, foreign = target
            message += f"; its equivalent is {owner_key}" if foreign else f"; meant {owner_key}?"
        yield ctx.finding(
            META,
            route,
            message,
            setting_name=ignored.source.key,
            setting=Setting(value=ignored.raw, source=ignored.source, raw=ignored.raw),
            fix=_fix(route, ignored, target),
        )


def _target(owner: Controller, key: str) -> tuple[str, str, bool] | None:
    """(owner's key, setting name or "", whether the value is in another controller's
    syntax) for an annotation the owner does not read, or None when nothing maps."""
    known = _known_keys()
    if key in known:
        controller, name = known[key]
        owner_key = _key(owner, name)
        if controller is owner or owner_key is None:
            return None
        return owner_key, name, True
    nearest = _nearest(key, _documented(owner))
    if nearest is None:
        return None
    return nearest, "", False


def _nearest(key: str, candidates: Collection[str]) -> str | None:
    """The one candidate ``key`` is a clear misspelling of: close, and clearly closer than
    the runner-up (``proxy-read-timout`` is near both read and send timeouts)."""
    scored = sorted(
        ((difflib.SequenceMatcher(None, key, c).ratio(), c) for c in candidates), reverse=True
    )
    if not scored or scored[0][0] < _TYPO_CUTOFF:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < _TYPO_MARGIN:
        return None
    return scored[0][1]


def _fix(route: NginxRoute, ignored: Ignored, target: tuple[str, str, bool] | None) -> Fix | None:
    ingress, source = route.obj, ignored.source
    annotations = ingress.node.path("metadata", "annotations") if ingress.node else None
    if target is None or source.node is None or annotations is None:
        return None
    owner_key, name, foreign = target
    key_node = annotations.key_node(source.key)
    if key_node is None or annotations.get(owner_key) is not None:
        return None
    value = ignored.raw
    if foreign:
        meant = _meant(name, ignored.raw)
        if meant is None:
            return None
        value = format_value(route.owner.controller, name, meant)
    edits: list[Edit] = []
    key_edit = replace_scalar(ingress, key_node, owner_key)
    if key_edit is None:
        return None
    edits.append(key_edit)
    if value != ignored.raw:
        value_edit = replace_scalar(ingress, source.node, value)
        if value_edit is None:
            return None
        edits.append(value_edit)
    return Fix(title=f'rename to {owner_key}: "{value}"', edits=tuple(edits), safety=Safety.UNSAFE)


def _meant(name: str, raw: str) -> object | None:
    match name:
        case "buffering" | "request_buffering" | "modsecurity":
            return intended_bool(raw)
        case "http_version":
            return raw.strip() if raw.strip() in ("1.0", "1.1") else None
        case "body_size":
            return intended_bytes(raw) or None  # 0 (unlimited) has no common spelling
        case _:
            return intended_whole_seconds(raw)


@functools.cache
def _documented(owner: Controller) -> frozenset[str]:
    """Every annotation the owner documents, with its prefix."""
    if owner is Controller.INGRESS_NGINX:
        return frozenset(f"{INGRESS_NGINX_PREFIX}/{name}" for name in INGRESS_NGINX_ANNOTATIONS)
    return frozenset(f"{NGINX_INC_PREFIX}/{name}" for name in NGINX_INC_ANNOTATIONS)


@functools.cache
def _known_keys() -> dict[str, tuple[Controller, str]]:
    """annotation key -> (controller, setting name), for every NGINX-family controller."""
    known: dict[str, tuple[Controller, str]] = {}
    for controller in Controller:
        for name in SETTING_NAMES:
            key = _key(controller, name)
            if key is not None:
                known.setdefault(key, (controller, name))
    return known


def _key(controller: Controller, name: str) -> str | None:
    """The controller's annotation for a setting, or None when it has none."""
    try:
        return annotation_key(controller, name)
    except (KeyError, ValueError):
        return None
