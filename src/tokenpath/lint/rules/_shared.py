"""What several rules share: fixes that set a route's setting, severity escalation, the
readings of values the controllers reject, and how values are shown in messages.

Rules stay pure: every helper here works on the route's typed settings and the nodes the
adapters attached to them; none reads a file or decides ownership.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tokenpath.fix.edit import Fix, Safety
from tokenpath.fix.yamledit import replace_scalar, set_annotation
from tokenpath.lint.adapters import annotation_key, format_value, has_annotation
from tokenpath.lint.finding import Finding, RuleMeta, Severity
from tokenpath.lint.model import Ignored, NginxRoute, Setting, Source, SourceKind
from tokenpath.lint.rule import RuleContext

# Media types of LLM token streams: SSE (OpenAI, TGI, vLLM, ...) and NDJSON (Ollama).
STREAM_TYPES = ("text/event-stream", "application/x-ndjson")
# nginx ``gzip_types *`` matches every type; "*/*" is how people write it by mistake.
WILDCARD_TYPES = ("*", "*/*")

# Human names of RouteSettings fields, for messages.
LABELS = {
    "buffering": "response buffering",
    "request_buffering": "request buffering",
    "http_version": "upstream HTTP version",
    "read_timeout": "read timeout",
    "send_timeout": "send timeout",
    "connect_timeout": "connect timeout",
    "gzip": "gzip",
    "gzip_types": "gzip types",
    "brotli": "brotli",
    "brotli_types": "brotli types",
    "body_size": "request body limit",
    "modsecurity": "ModSecurity",
}


def escalate(ctx: RuleContext, meta: RuleMeta, finding: Finding) -> Finding:
    """``finding`` raised to error, unless the policy overrides the rule's severity."""
    return dataclasses.replace(finding, severity=ctx.policy.severity_for(meta.code, Severity.ERROR))


def at_object(finding: Finding) -> Finding:
    """``finding`` pointing at its object's first line rather than one path of it, so the
    engine folds the paths of one Ingress into one finding."""
    return dataclasses.replace(finding, line=finding.object.line)


def ignored_as_setting(setting: Setting[Any], ignored: Ignored) -> Setting[Any]:
    """A setting whose provenance is the ignored value, so a finding points at what was
    written (the typo) rather than at the default that applies instead."""
    return Setting(value=setting.value, source=ignored.source, raw=ignored.raw)


def has_ignored_annotation(setting: Setting[Any]) -> bool:
    """True when an annotation for this setting was written but ignored: the rule about the
    ignored value reports it (and fixes it), so rules about the effective value stay quiet
    until that is fixed, rather than offering a second, overlapping edit."""
    return any(i.source.kind is SourceKind.ANNOTATION for i in setting.ignored)


def set_value_fix(
    route: NginxRoute,
    setting: Setting[Any],
    name: str,
    value: object,
    safety: Safety,
) -> Fix | None:
    """Set ``name`` to ``value`` for this route, in the owning controller's syntax.

    An annotation on this Ingress is edited in place. A value from the controller's ConfigMap
    or default is overridden by an annotation on this Ingress: the ConfigMap is global and
    editing it would change every other Ingress too. None when the edit is refused (a shared
    YAML anchor, a flow mapping the editor cannot extend, ...).
    """
    controller = route.owner.controller
    text = format_value(controller, name, value)
    source = setting.source
    if (
        source.kind is SourceKind.ANNOTATION
        and source.obj is not None
        and source.obj == route.obj
        and source.node is not None
    ):
        edit = replace_scalar(source.obj, source.node, text)
        if edit is None:
            return None
        return Fix(title=f'set {source.key} to "{text}"', edits=(edit,), safety=safety)
    if not has_annotation(controller, name):
        return None
    key = annotation_key(controller, name, route.owner)
    edits = set_annotation(route.obj, key, text)
    if edits is None:
        return None
    return Fix(title=f'set annotation {key}: "{text}" on this Ingress', edits=edits, safety=safety)


def timeout_below_silence(
    meta: RuleMeta, route: NginxRoute, ctx: RuleContext, name: str, consequence: str
) -> Iterator[Finding]:
    """The shape TP201 and TP202 share: the timeout ``name`` (a RouteSettings field) is
    shorter than the policy's longest silence; the fix raises it to that (unsafe)."""
    setting: Setting[float] = getattr(route.settings, name)
    limit = ctx.policy.max_silence_s
    # A written but ignored value ("3600s") is TP203's; its fix may already be enough.
    if setting.value >= limit or has_ignored_annotation(setting):
        return
    label = name.replace("_", " ")
    yield ctx.finding(
        meta,
        route,
        f"{label} {seconds(setting.value)} is shorter than the longest expected silence "
        f"({seconds(limit)}, policy max_silence_s): {consequence}",
        setting_name=name,
        setting=setting,
        fix=set_value_fix(route, setting, name, ceil_seconds(limit), Safety.UNSAFE),
    )


def ignored_values(
    meta: RuleMeta,
    route: NginxRoute,
    ctx: RuleContext,
    names: Sequence[str],
    meant: Callable[[str, str], object | None],
) -> Iterator[Finding]:
    """The shape TP104, TP203 and TP505 share: one finding per written value of the settings
    ``names`` that the controller ignores, pointing at that value; the fix rewrites it to
    ``meant(name, raw)`` when the intent is clear."""
    for name in names:
        setting: Setting[Any] = getattr(route.settings, name)
        for ignored in setting.ignored:
            yield ctx.finding(
                meta,
                route,
                ignored_message(route, name, setting, ignored),
                setting_name=name,
                setting=ignored_as_setting(setting, ignored),
                fix=rewrite_ignored_fix(route, name, ignored, meant(name, ignored.raw)),
            )


def origin(source: Source) -> str:
    """Where a value came from, in a few words for a message (the finding's ``source`` carries
    the full provenance, links included)."""
    match source.kind:
        case SourceKind.ANNOTATION:
            return f"annotation {source.key}"
        case SourceKind.CONFIGMAP:
            return f"{source.obj} key {source.key}" if source.obj else f"ConfigMap key {source.key}"
        case SourceKind.DEFAULT:
            return "the controller's default"
        case SourceKind.TEMPLATE:
            return "fixed by the controller's template"
        case SourceKind.FIELD:
            return f"{source.key} of {source.obj}" if source.obj else source.key


def ignored_message(route: NginxRoute, name: str, setting: Setting[Any], ignored: Ignored) -> str:
    """'read timeout "3600s" does not take effect (<why>); 60 s applies (<origin>)', or, when
    the controller refuses the Ingress for it, says that instead of what applies."""
    head = f'{LABELS[name]} "{ignored.raw}" does not take effect ({ignored.reason})'
    if rejected_whole_ingress(route, ignored):
        said = "reject" in ignored.reason.lower()
        return head if said else f"{head}; the controller rejects this whole Ingress"
    return f"{head}; {value_text(name, setting.value)} applies ({origin(setting.source)})"


def advice(title: str) -> Fix:
    """Advice shown with a finding and never applied."""
    return Fix(title=title, edits=(), safety=Safety.DISPLAY_ONLY)


def seconds(value: float) -> str:
    """``60.0`` -> ``"60 s"``; ``0.5`` -> ``"0.5 s"``."""
    return f"{value:g} s"


def value_text(name: str, value: object) -> str:
    """An effective value of setting ``name`` as a message shows it: "60 s", "1 MiB", "on"."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if name == "body_size" and (value is None or isinstance(value, int)):
        return size(value)
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value) or "(none)"
    if isinstance(value, float):
        return seconds(value)
    return str(value)


def ceil_seconds(value: float) -> float:
    return float(math.ceil(value))


def size(value: int | None) -> str:
    if value is None:
        return "unlimited"
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= factor and value % factor == 0:
            return f"{value // factor} {unit}"
    return f"{value} bytes"


def stream_types_in(types: tuple[str, ...]) -> tuple[str, ...]:
    """The entries of a compression type list that match a token stream's media type."""
    return tuple(t for t in types if t.lower() in STREAM_TYPES or t in WILDCARD_TYPES)


# --- what a written value meant ------------------------------------------------------------
# Readings of the user's intent, used only to offer a fix for a value the controller rejects.
# They are deliberately lenient ("1h", "3600 s", "32Mi") and never decide what a controller
# accepts: the adapters do that.

_TIME_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|y|M|w|d|h|m|s)?", re.ASCII)
_TIME_FACTORS = {
    "ms": 0.001,
    "s": 1.0,
    None: 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
    "M": 30 * 86400.0,
    "y": 365 * 86400.0,
}
_TIME_WORDS = {
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
}
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg])?(ib|i|b)?\s*$", re.IGNORECASE)


def intended_seconds(raw: str) -> float | None:
    """The duration ``raw`` was meant to say, in seconds: nginx time syntax ("1h30m",
    "3600s", "3600"), plus a decimal number or a spelt-out unit ("1.5h", "90 seconds").
    None when the intent is unclear."""
    text = raw.strip().strip("\"'")
    words = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)", text)
    if words is not None and words.group(2).lower() in _TIME_WORDS:
        text = words.group(1) + _TIME_WORDS[words.group(2).lower()]
    pos, total, parts = 0, 0.0, 0
    while pos < len(text):
        match = _TIME_PART.match(text, pos)
        if match is None or match.end() == pos:
            return None
        total += float(match.group(1)) * _TIME_FACTORS[match.group(2)]
        pos = match.end()
        parts += 1
        while pos < len(text) and text[pos] == " ":
            pos += 1
    if parts == 0:
        return None
    return total


def intended_whole_seconds(raw: str) -> float | None:
    """``intended_seconds`` when it is a whole, positive number of seconds (what every
    NGINX-family timeout can express), else None."""
    value = intended_seconds(raw)
    if value is None or value <= 0 or value != int(value):
        return None
    return value


def intended_bool(raw: str) -> bool | None:
    """on/off in any spelling the user may have meant: "false", "On", "no", "0", ..."""
    word = raw.strip().strip("\"'").lower()
    if word in ("on", "true", "yes", "y", "1", "t", "enabled", "enable"):
        return True
    if word in ("off", "false", "no", "n", "0", "f", "disabled", "disable"):
        return False
    return None


def intended_bytes(raw: str) -> int | None:
    """A size as meant: nginx "32m", Kubernetes "32Mi", "32MB" -> bytes (binary multiples,
    as nginx counts them). None when unclear."""
    match = _SIZE.match(raw.strip().strip("\"'"))
    if match is None:
        return None
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[(match.group(2) or "").lower()]
    return int(match.group(1)) * factor


def rewrite_ignored_fix(
    route: NginxRoute, name: str, ignored: Ignored, meant: object
) -> Fix | None:
    """Rewrite a value the controller ignored (or rejects) as ``meant``, in the owning
    controller's syntax. Safe on an annotation of this Ingress (it does what the value already
    says); unsafe on the controller ConfigMap, whose change reaches every Ingress. None when
    the meaning is unclear (``meant`` None) or the editor refuses."""
    node = ignored.source.node
    if meant is None or node is None or ignored.source.obj is None:
        return None
    text = format_value(route.owner.controller, name, meant)
    if text == ignored.raw:
        return None
    edit = replace_scalar(ignored.source.obj, node, text)
    if edit is None:
        return None
    safety = Safety.SAFE if ignored.source.kind is SourceKind.ANNOTATION else Safety.UNSAFE
    return Fix(title=f'write "{text}" instead of "{ignored.raw}"', edits=(edit,), safety=safety)


def rejected_whole_ingress(route: NginxRoute, ignored: Ignored) -> bool:
    """Whether this value makes the controller refuse the whole Ingress (F5 NGINX Ingress
    Controller on an invalid annotation, FACTS.md §3), rather than fall back to another value
    (ingress-nginx, FACTS.md §2). The adapters list such values in ``refused``."""
    return any(r.source == ignored.source for r in route.settings.refused)
