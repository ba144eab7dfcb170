"""``tokenpath lint --show-routes``: every route with its effective streaming settings and
where each value came from, so a user can see *why* a finding fires (or does not).

    chat.example.com/v1/chat/completions
      Ingress/llm/chat  (deploy/ing.yaml:14)
      → Service llm:8000 → Deployment/llm/vllm  [vllm/vllm-openai:v0.6.3]
      controller  ingress-nginx 1.12.1 — ingressClassName "nginx" → IngressClass nginx
      LLM route   image vllm/vllm-openai is an LLM server
        setting            value   from
        buffering          on      default (ingress-nginx default)
        read timeout       60s     key proxy-read-timeout of ConfigMap ... (cm.yaml:7)
                                   overrides: default (ingress-nginx default)
                                   ignored: nginx.ingress.kubernetes.io/proxy-read-timeout
                                     "3600s" at ing.yaml:9 — integer seconds expected

The value column is the effective value, normalised (seconds, bytes, on/off); the JSON form
(``routes_to_json``) also carries the text as written. Manifest text is made terminal-safe.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tokenpath.lint.document import InputError
from tokenpath.lint.model import (
    AnyRoute,
    EnvoyRouteSettings,
    Family,
    Ignored,
    RouteSettings,
    Setting,
    Snippet,
    Source,
    SourceKind,
)
from tokenpath.report.lint_json import (
    SCHEMA_VERSION,
    TOOL,
    error_to_dict,
    sorted_errors,
    source_to_dict,
)
from tokenpath.report.lint_text import Painter, safe

# (attribute of RouteSettings, label): the order in which NGINX-family settings are shown.
SETTINGS = (
    ("buffering", "buffering"),
    ("request_buffering", "request buffering"),
    ("http_version", "upstream HTTP"),
    ("read_timeout", "read timeout"),
    ("send_timeout", "send timeout"),
    ("connect_timeout", "connect timeout"),
    ("gzip", "gzip"),
    ("gzip_types", "gzip types"),
    ("brotli", "brotli"),
    ("brotli_types", "brotli types"),
    ("body_size", "body size"),
    ("modsecurity", "modsecurity"),
)
# The same for EnvoyRouteSettings (Envoy family).
ENVOY_SETTINGS = (
    ("route_timeout", "route timeout"),
    ("idle_timeout", "idle timeout"),
    ("backend_timeout", "per-try timeout"),
    ("per_try_idle_timeout", "per-try idle"),
    ("max_stream_duration", "max stream duration"),
    ("compression", "compression"),
    ("body_buffered", "body buffered"),
    ("request_buffer_limit", "body buffer limit"),
    ("delayed_close", "delayed close"),
)
_SECONDS = {"max_stream_duration", "delayed_close"}
_BYTES = {"body_size", "request_buffer_limit"}
_SOURCE_STYLE = {
    SourceKind.ANNOTATION: "cyan",
    SourceKind.CONFIGMAP: "magenta",
    SourceKind.DEFAULT: "dim",
    SourceKind.TEMPLATE: "dim",
    SourceKind.FIELD: "cyan",
}
_VALUE_WIDTH_MAX = 24
_INDENT = "    "
_SIZE_UNITS = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


@dataclass(frozen=True, slots=True)
class _Row:
    label: str
    value: str
    origin: str
    origin_style: str
    notes: tuple[tuple[str, str], ...] = ()  # (style, text) lines under the origin


def format_setting(name: str, value: object) -> str:
    """The effective value of setting ``name`` (a ``RouteSettings`` field) as short text."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if (name.endswith("_timeout") or name in _SECONDS) and isinstance(value, int | float):
        return _seconds(float(value))
    if name in _BYTES:
        return "unlimited" if value is None else _size(value)
    if name == "http_version":
        return f"HTTP/{value}"
    if name == "compression" and value is None:
        return "off"
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value) if value else "(none)"
    return str(value)


def render_routes_text(routes: Sequence[AnyRoute], *, color: bool = False) -> str:
    paint = Painter(color)
    ordered = sorted_routes(routes)
    if not ordered:
        return "No routes found."
    lines: list[str] = []
    for route in ordered:
        lines += _route_lines(route, paint)
        lines.append("")
    llm = sum(1 for r in ordered if r.is_llm)
    noun = "route" if len(ordered) == 1 else "routes"
    lines.append(f"{len(ordered)} {noun} ({llm} LLM).")
    return "\n".join(lines)


def routes_to_json(routes: Sequence[AnyRoute]) -> list[dict[str, object]]:
    """One object per route (schema in ``docs/lint-output.md``), in display order."""
    return [_route_to_dict(r) for r in sorted_routes(routes)]


def render_routes_json(routes: Sequence[AnyRoute], errors: Sequence[InputError] = ()) -> str:
    """``--show-routes --format json``: ``{"schema_version", "tool", "routes", "errors"}``."""
    document: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "tool": TOOL,
        "routes": routes_to_json(routes),
        "errors": [error_to_dict(e) for e in sorted_errors(errors)],
    }
    return json.dumps(document, indent=2)


def sorted_routes(routes: Sequence[AnyRoute]) -> list[AnyRoute]:
    return sorted(
        routes,
        key=lambda r: (r.obj.file, r.line or r.obj.line, str(r.obj), r.host, r.path),
    )


# --- text -----------------------------------------------------------------------------------


def _route_lines(route: AnyRoute, paint: Painter) -> list[str]:
    ingress = route.obj
    where = f"{ingress.file}:{route.line or ingress.line}"
    lines = [
        paint("bold", safe(route.label())),
        f"  {safe(str(ingress))}  " + paint("dim", f"({safe(where)})"),
        "  " + _backend(route, paint),
        *_labelled("controller", _controller(route), paint),
    ]
    if route.owner.configmap is not None:
        cm = route.owner.configmap
        lines += _labelled("configmap", f"{cm} ({cm.file}:{cm.line})", paint)
    if route.is_llm:
        lines += _labelled("LLM route", route.llm_reason, paint)
    else:
        lines += _labelled("LLM route", "no (linted only with --all-routes)", paint)
    lines += _table(_rows(route.settings), paint)
    return lines


def _backend(route: AnyRoute, paint: Painter) -> str:
    text = f"→ Service {safe(route.service)}:{safe(route.port)} → "
    if route.workload is None:
        text += paint("dim", "no workload found")
    else:
        text += safe(str(route.workload))
    if route.images:
        text += "  " + paint("dim", "[" + ", ".join(safe(i) for i in route.images) + "]")
    return text


def _controller(route: AnyRoute) -> str:
    owner = route.owner
    text = owner.controller.value
    if owner.version:
        text += f" {owner.version}"
    elif route.family is Family.NGINX:
        text += " version unknown (latest defaults)"
    return f"{text} — {owner.reason}" if owner.reason else text


def _labelled(label: str, text: str, paint: Painter) -> list[str]:
    return [f"  {paint('bold', f'{label:<11}')} {safe(text)}"]


def _rows(settings: RouteSettings | EnvoyRouteSettings) -> list[_Row]:
    rows = [_setting_row(label, name, getattr(settings, name)) for name, label in _shown(settings)]
    if isinstance(settings, EnvoyRouteSettings):
        rows += [_note_row("not read", "uninterpreted", u) for u in settings.uninterpreted]
        rows += [_note_row("rejected", "rejected", r) for r in settings.refused]
        return rows
    rows += [_snippet_row(s) for s in settings.snippets]
    rows += [_note_row("unread", "not read", u) for u in settings.unread]
    return rows


def _shown(settings: RouteSettings | EnvoyRouteSettings) -> tuple[tuple[str, str], ...]:
    return ENVOY_SETTINGS if isinstance(settings, EnvoyRouteSettings) else SETTINGS


def _setting_row(label: str, name: str, setting: Setting[Any]) -> _Row:
    notes = [("dim", f"overrides: {o.describe()}") for o in setting.overridden]
    notes += [("yellow", _ignored(i)) for i in setting.ignored]
    return _Row(
        label=label,
        value=format_setting(name, setting.value),
        origin=setting.source.describe(),
        origin_style=_SOURCE_STYLE[setting.source.kind],
        notes=tuple(notes),
    )


def _snippet_row(snippet: Snippet) -> _Row:
    notes: list[tuple[str, str]] = []
    if snippet.reason:
        notes.append(("yellow" if not snippet.applied else "dim", f"why: {snippet.reason}"))
    first = snippet.text.strip().splitlines()[0] if snippet.text.strip() else ""
    if first:
        more = " …" if len(snippet.text.strip().splitlines()) > 1 or len(first) > 60 else ""
        notes.append(("dim", f"text: {first[:60]}{more}"))
    return _Row(
        label="snippet",
        value="applied" if snippet.applied else "not applied",
        origin=snippet.source.describe(),
        origin_style=_SOURCE_STYLE[snippet.source.kind],
        notes=tuple(notes),
    )


def _note_row(label: str, why: str, ignored: Ignored) -> _Row:
    """A value written but without effect (or one that makes the config rejected)."""
    return _Row(
        label=label,
        value=f'"{ignored.raw}"',
        origin=ignored.source.describe(),
        origin_style="yellow",
        notes=(("yellow", f"{why}: {ignored.reason}"),),
    )


def _ignored(ignored: Ignored) -> str:
    """'ignored: <key> "3600s" at ing.yaml:9 — integer seconds expected'."""
    source = ignored.source
    where = _where(source)
    at = f" at {where}" if where else f" ({source.describe()})"
    return f'ignored: {source.key} "{ignored.raw}"{at} — {ignored.reason}'


def _where(source: Source) -> str:
    if source.obj is None or not source.line:
        return ""
    return f"{source.obj.file}:{source.line}"


def _table(rows: list[_Row], paint: Painter) -> list[str]:
    label_width = max(len("setting"), *(len(r.label) for r in rows))
    fitting = [len(safe(r.value)) for r in rows if len(safe(r.value)) <= _VALUE_WIDTH_MAX]
    value_width = max(len("value"), *fitting) if fitting else len("value")
    pad = " " * (len(_INDENT) + label_width + 2 + value_width + 2)
    header = f"{'setting':<{label_width}}  {'value':<{value_width}}  from"
    lines = [_INDENT + paint("dim", header)]
    for row in rows:
        value = safe(row.value)
        origin = paint(row.origin_style, safe(row.origin))
        if len(value) > value_width:  # too long for the column: the origin goes below it
            lines.append(f"{_INDENT}{row.label:<{label_width}}  {value}")
            lines.append(pad + origin)
        else:
            lines.append(f"{_INDENT}{row.label:<{label_width}}  {value:<{value_width}}  {origin}")
        lines += [pad + paint(style, safe(note)) for style, note in row.notes]
    return lines


# --- JSON -----------------------------------------------------------------------------------


def _route_to_dict(route: AnyRoute) -> dict[str, object]:
    owner = route.owner
    settings = route.settings
    document: dict[str, object] = {
        "route": route.label(),
        "host": route.host or None,
        "path": route.path,
        "object": str(route.obj),
        "ingress": str(route.obj),  # schema 1 name of "object", kept for compatibility
        "family": route.family.value,
        "file": route.obj.file,
        "line": route.line or route.obj.line,
        "service": route.service,
        "port": route.port,
        "workload": None if route.workload is None else str(route.workload),
        "images": list(route.images),
        "controller": {
            "name": owner.controller.value,
            "version": owner.version or None,
            "reason": owner.reason,
            "class_name": owner.class_name or None,
            "configmap": None if owner.configmap is None else str(owner.configmap),
        },
        "llm": route.is_llm,
        "llm_reason": route.llm_reason or None,
        "settings": {
            name: _setting_to_dict(name, getattr(settings, name)) for name, _ in _shown(settings)
        },
    }
    if isinstance(settings, EnvoyRouteSettings):
        document["uninterpreted"] = [_ignored_to_dict(u) for u in settings.uninterpreted]
        document["rejected"] = [_ignored_to_dict(r) for r in settings.refused]
        return document
    document["snippets"] = [
        {
            "text": s.text,
            "applied": s.applied,
            "reason": s.reason or None,
            "source": source_to_dict(s.source),
        }
        for s in settings.snippets
    ]
    document["unread"] = [_ignored_to_dict(u) for u in settings.unread]
    return document


def _setting_to_dict(name: str, setting: Setting[Any]) -> dict[str, object]:
    value = setting.value
    if isinstance(value, tuple):
        value = list(value)
    elif isinstance(value, float) and not math.isfinite(value):
        value = None  # JSON has no infinity; "text" says "unlimited"
    return {
        "value": value,
        "text": format_setting(name, value),
        "raw": setting.raw,
        "source": source_to_dict(setting.source),
        "overridden": [source_to_dict(s) for s in setting.overridden],
        "ignored": [_ignored_to_dict(i) for i in setting.ignored],
    }


def _ignored_to_dict(ignored: Ignored) -> dict[str, object]:
    return {"raw": ignored.raw, "reason": ignored.reason, "source": source_to_dict(ignored.source)}


# --- formatting -----------------------------------------------------------------------------


def _seconds(value: float) -> str:
    if not math.isfinite(value):
        return "none"
    return f"{int(value)}s" if value == int(value) else f"{value:g}s"


def _size(value: object) -> str:
    if not isinstance(value, int):
        return str(value)
    for unit, factor in _SIZE_UNITS:
        if value >= factor and value % factor == 0:
            return f"{value // factor} {unit}"
    return f"{value} B"
