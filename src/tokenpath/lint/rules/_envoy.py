"""What the Envoy-family rules share: how values and their origins read in messages, which
timer fires first, and fixes that set a route's own field. The duration syntaxes fixes write:
``_envoy_durations``.

Pure, like every rule: the helpers work on a route's typed settings and the nodes the
adapters attached to them (``EnvoyRouteSettings.fix_target``, ``Source.node``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from tokenpath.fix.edit import Edit, Fix, Safety
from tokenpath.fix.yamledit import replace_scalar, set_path_value
from tokenpath.lint.envoy.values import ENVOY_ROUTE_TIMEOUT_S
from tokenpath.lint.finding import Finding, RuleMeta
from tokenpath.lint.model import (
    Controller,
    EnvoyRoute,
    FixTarget,
    Ignored,
    Setting,
    Source,
    SourceKind,
)
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._envoy_durations import meant
from tokenpath.lint.rules._shared import advice, intended_seconds, origin, seconds
from tokenpath.lint.yamlnode import YNode

# Human names of EnvoyRouteSettings fields, for messages.
LABELS = {
    "route_timeout": "route timeout",
    "idle_timeout": "stream idle timeout",
    "backend_timeout": "per-try timeout",
    "per_try_idle_timeout": "per-try idle timeout",
    "max_stream_duration": "max stream duration",
    "compression": "compression",
    "body_buffered": "request body buffering",
    "request_buffer_limit": "request buffer limit",
    "delayed_close": "delayed close timeout",
}


def route_finding(
    ctx: RuleContext,
    meta: RuleMeta,
    route: EnvoyRoute,
    message: str,
    name: str,
    setting: Setting[Any],
    fix: Fix | None,
) -> Finding:
    """A finding about ``setting`` of ``route``. A value written in a manifest is pointed
    at; a default points at the route's rule (or match) rather than the object's first line, so
    the rules of one HTTPRoute stay apart."""
    finding = ctx.finding(meta, route, message, setting_name=name, setting=setting, fix=fix)
    if setting.source.line == 0 and route.line:
        return dataclasses.replace(finding, line=route.line)
    return finding


def duration_text(value: float) -> str:
    """Seconds as a message shows them: "15 s", or "no timeout" for ``math.inf``."""
    return "no timeout" if math.isinf(value) else seconds(value)


def binding(route: EnvoyRoute, names: tuple[str, ...]) -> tuple[str, Setting[float]]:
    """The setting among ``names`` with the lowest value: the one that fires first (the first
    listed wins a tie, so the route's own timer is named before a cap)."""
    pairs = [(name, getattr(route.settings, name)) for name in names]
    return min(pairs, key=lambda pair: pair[1].value)


def default_phrase(route: EnvoyRoute, name: str, setting: Setting[Any]) -> str:
    """What applies when nothing is written, in words: "Envoy's 15 s route timeout", "the
    Envoy AI Gateway default of 60 s", "the default of 300 s (<detail>)"."""
    value = setting.value
    if name == "route_timeout" and isinstance(value, float) and not math.isinf(value):
        if route.owner.controller is Controller.ENVOY_AI_GATEWAY:
            return f"the Envoy AI Gateway default of {seconds(value)}"
        if value == ENVOY_ROUTE_TIMEOUT_S:
            return f"Envoy's {seconds(value)} route timeout"
    shown = duration_text(value) if isinstance(value, float) else str(value)
    detail = setting.source.detail
    return f"the default of {shown} ({detail})" if detail else f"the default of {shown}"


def stated(route: EnvoyRoute, name: str, setting: Setting[float]) -> str:
    """A clause saying the value and where it came from, explicit about implicit defaults:
    "no route timeout is set, so Envoy's 15 s route timeout applies", or "the route timeout
    is 60 s (timeouts.request of HTTPRoute/ai/llm)"."""
    label = LABELS[name]
    if setting.source.kind is SourceKind.DEFAULT and setting.ignored:
        return f"no {label} written for this route takes effect (TP207), so " + (
            f"{default_phrase(route, name, setting)} applies"
        )
    if setting.source.kind is SourceKind.DEFAULT:
        return f"no {label} is set, so {default_phrase(route, name, setting)} applies"
    return f"the {label} is {duration_text(setting.value)} ({origin(setting.source)})"


def instead(route: EnvoyRoute, name: str, setting: Setting[Any]) -> str:
    """What applies in place of an ignored value: "Envoy's 15 s route timeout applies"."""
    if setting.source.kind is SourceKind.DEFAULT:
        return f"{default_phrase(route, name, setting)} applies"
    shown = duration_text(setting.value) if isinstance(setting.value, float) else setting.value
    return f"{shown} applies ({origin(setting.source)})"


def read_as_default(route: EnvoyRoute, setting: Setting[float]) -> tuple[Ignored, ...]:
    """The values written for this setting that do not take effect while a default timer
    applies instead (TP207's findings). Not when the default is "no timer" (nothing is cut
    for it), and not when the controller or Envoy refuses the whole object for it (TP508's)."""
    if setting.source.kind is not SourceKind.DEFAULT or math.isinf(setting.value):
        return ()
    refused = {r.source for r in route.settings.refused}
    return tuple(i for i in setting.ignored if i.source not in refused)


def deferred(route: EnvoyRoute, setting: Setting[float]) -> bool:
    """True when TP207 rewrites a value written for this setting (a syntax slip such as
    Contour `0s` or `1.5s` on a Gateway API route): the rules about the effective value wait
    for that fix rather than offer a second edit of the same field."""
    return any(meant(route, i) is not None for i in read_as_default(route, setting))


def short_timer(
    route: EnvoyRoute, names: tuple[str, ...], limit: float
) -> tuple[str, Setting[float]] | None:
    """The timer among ``names`` that fires first (``binding``) when it fires before
    ``limit``. None also when TP207 rewrites a value written for it: its fix may be enough."""
    name, setting = binding(route, names)
    if setting.value >= limit or deferred(route, setting):
        return None
    return name, setting


# --- fixes ---------------------------------------------------------------------------------


def route_field_fix(
    route: EnvoyRoute, name: str, setting: Setting[float], text: str, safety: Safety
) -> Fix | None:
    """Set the route's own field for ``name`` to ``text`` (creating missing maps), at the key
    path the adapter gave in ``fix_target``. When the effective value came from another field
    of the same map (Envoy Gateway lets ``timeouts.backendRequest`` overwrite ``request``,
    FACTS.md §6), that field is rewritten instead, and the field at the path only when it is
    shorter than ``text`` (a longer or disabled one stays as written). None when the route has
    no such field or the editor refuses."""
    target = route.settings.fix_target
    keys = target.path(name) if target is not None else None
    if target is None or keys is None:
        return None
    source, at_path = setting.source, target.node.path(*keys)
    other = _other_field(target, source, at_path)
    edits: tuple[Edit, ...] = ()
    fields: list[str] = []
    if other is None or at_path is None or _shorter(at_path, text):
        found = set_path_value(target.obj, target.node, keys, text)
        if found is None:
            return None
        edits, fields = found, [".".join(keys)] if found else []
    if other is not None:
        extra = replace_scalar(target.obj, other[1], text)
        if extra is None:
            return None
        if extra.replacement != target.obj.text[extra.start : extra.end]:
            edits, fields = (*edits, extra), [*fields, ".".join(other[0])]
    if not edits:
        return None  # already written, yet not in effect: nothing an edit here can change
    where = " and ".join(fields)
    return Fix(title=f'set {where} to "{text}" on {target.obj}', edits=edits, safety=safety)


def _other_field(
    target: FixTarget, source: Source, at_path: YNode | None
) -> tuple[tuple[str, ...], YNode] | None:
    """(key path below the target's map, value node) of the field the value came from, when
    that is another field of the same map than the fix path's."""
    if (
        source.kind is not SourceKind.FIELD
        or source.obj != target.obj
        or source.node is None
        or source.node is at_path
    ):
        return None
    keys = _keys_to(target.node, source.node)
    return None if keys is None else (keys, source.node)


def _keys_to(node: YNode, wanted: YNode) -> tuple[str, ...] | None:
    """The map keys from ``node`` down to ``wanted`` (by identity), or None."""
    for key, value in node.items:
        if value is wanted:
            return (key.value,)
        below = _keys_to(value, wanted)
        if below is not None:
            return (key.value, *below)
    return None


def _shorter(node: YNode, text: str) -> bool:
    """Whether the duration written at ``node`` is shorter than ``text`` (zero and
    "infinity" mean "no timer"; an unclear value counts as shorter, so it is replaced)."""
    if node.value.strip().lower() in ("infinity", "infinite"):
        return False
    have, want = intended_seconds(node.value), intended_seconds(text)
    return have is None or want is None or 0 < have < want


def on_own_object(route: EnvoyRoute, setting: Setting[Any]) -> bool:
    """Whether ``setting`` is a default or was written on the object the route's fix edits."""
    target = route.settings.fix_target
    return target is not None and setting.source.obj in (None, target.obj)


def raise_timer_fix(
    route: EnvoyRoute, name: str, setting: Setting[float], text: str, *, on_route: bool
) -> Fix | None:
    """Raise a timer to ``text`` (unsafe: a hung upstream is held longer): the route's own
    field when ``on_route``, else (or when it has none) the value where it was written on the
    route's object. None when neither can be edited."""
    if on_route:
        fix = route_field_fix(route, name, setting, text, Safety.UNSAFE)
        if fix is not None:
            return fix
    return written_value_fix(route, setting, text, Safety.UNSAFE)


def written_value_fix(
    route: EnvoyRoute, setting: Setting[float], text: str, safety: Safety
) -> Fix | None:
    """Rewrite the value where it was written, when that is the route's own object (a field
    the adapter gave no fix path for, such as an Istio ``retries.perTryTimeout``)."""
    source = setting.source
    if source.kind is not SourceKind.FIELD or source.obj != route.obj or source.node is None:
        return None
    edit = replace_scalar(source.obj, source.node, text)
    if edit is None or edit.replacement == source.obj.text[edit.start : edit.end]:
        return None
    return Fix(title=f'set {source.key} to "{text}" on {source.obj}', edits=(edit,), safety=safety)


def raise_advice(setting: Setting[Any], text: str, knob: str) -> Fix:
    """Display-only advice to raise a value: at its source when written, else ``knob``."""
    if setting.source.kind is SourceKind.FIELD:
        return advice(f'raise {origin(setting.source)} to "{text}" or more')
    return advice(f'set {knob} to "{text}" or more')


def rewrite_fix(ignored: Ignored, text: str) -> Fix | None:
    """Rewrite an ignored value as ``text`` where it was written (safe: same intent)."""
    node, obj = ignored.source.node, ignored.source.obj
    if node is None or obj is None or text == ignored.raw:
        return None
    edit: Edit | None = replace_scalar(obj, node, text)
    if edit is None:
        return None
    return Fix(
        title=f'write "{text}" instead of "{ignored.raw}"', edits=(edit,), safety=Safety.SAFE
    )
