"""What the NGINX-family adapters share: value parsers with each controller's exact syntax,
the annotation > ConfigMap > default precedence with provenance, and a small nginx directive
reader for snippets.

Parsers return the value in code units (seconds, bytes, bool) and raise ``ValueError`` with a
user-facing reason when the controller would reject the text; :func:`resolve` turns that into
an :class:`~tokenpath.lint.model.Ignored` entry, so the exception never leaves this package.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tokenpath.lint.facts import fact
from tokenpath.lint.model import Controller, Ignored, Setting, Snippet, Source, SourceKind
from tokenpath.lint.objects import ConfigMap, Entry, Ingress

T = TypeVar("T")

# --- value parsers ---------------------------------------------------------------------------

# Go strconv.Atoi: optional sign, ASCII digits, nothing else (no spaces, no unit).
_GO_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_INT64_MAX = 2**63 - 1
# nginx time syntax as F5 NIC's ParseTime checks it (parsing_helpers.go): units in decreasing
# order, a bare number means seconds. nginx itself reads the same forms.
_NGINX_TIME = re.compile(
    r"^(\d+y)??\s*(\d+M)??\s*(\d+w)??\s*(\d+d)??\s*(\d+h)??\s*(\d+m)??\s*(\d+s?)??\s*(\d+ms)??$",
    re.ASCII,
)
_TIME_FACTORS = (365 * 86400.0, 30 * 86400.0, 7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0, 0.001)
# nginx size / offset: a number with an optional k, m or g (binary multiples).
_NGINX_SIZE = re.compile(r"([0-9]+)([kKmMgG]?)", re.ASCII)
_SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
# Go strconv.ParseBool.
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_go_int(text: str) -> int:
    """Go ``strconv.Atoi``: ``"60"`` -> 60; ``"60s"``, ``" 60"``, ``"1h"`` are errors."""
    if not _GO_INT.fullmatch(text) or abs(int(text)) > _INT64_MAX:
        raise ValueError(f"an integer is expected; {text!r} does not parse")
    return int(text)


def parse_int_seconds(text: str) -> float:
    """ingress-nginx timeouts: integer seconds without a unit (the template appends ``s``)."""
    try:
        seconds = parse_go_int(text)
    except ValueError:
        raise ValueError(
            f"integer seconds without a unit are expected; {text!r} does not parse"
        ) from None
    if seconds < 0:
        raise ValueError(f"{text!r} is negative; nginx rejects a negative time")
    return float(seconds)


def parse_nginx_time(text: str) -> float:
    """nginx time: ``"60s"``, ``"1h"``, ``"1m30s"``, ``"500ms"``, bare ``"60"`` (seconds)."""
    match = _NGINX_TIME.match(text) if text.strip() else None
    if match is None:
        raise ValueError(f'an nginx time ("60s", "1h", "500ms") is expected; {text!r} is not')
    total = 0.0
    for part, factor in zip(match.groups(), _TIME_FACTORS, strict=True):
        if part:
            total += int(part.rstrip("yMwdhms")) * factor
    return total


def parse_nginx_size(text: str) -> int | None:
    """nginx size: ``"1m"``, ``"8k"``, ``"1024"`` -> bytes; ``"0"`` -> None (unlimited)."""
    match = _NGINX_SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f'an nginx size ("1m", "64m", "0" for unlimited) is expected; {text!r}')
    count = int(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()]
    return None if count == 0 else count


def parse_on_off(text: str, *, case_sensitive: bool = True) -> bool:
    """``on``/``off`` after trimming spaces; ``case_sensitive`` as ingress-nginx validates."""
    word = text.strip() if case_sensitive else text.strip().lower()
    if word == "on":
        return True
    if word == "off":
        return False
    if case_sensitive and word.lower() in ("on", "off"):
        raise ValueError(f'only lowercase "on" or "off" is accepted; {text!r} is not')
    raise ValueError(f'"on" or "off" is expected; {text!r} is not')


def parse_go_bool(text: str) -> bool:
    """Go ``strconv.ParseBool``: ``"True"``, ``"false"``, ``"1"``, ``"t"``... (not on/off)."""
    if text in _GO_TRUE:
        return True
    if text in _GO_FALSE:
        return False
    raise ValueError(
        f'a Go boolean ("true"/"false", "True"/"False", "1"/"0") is expected; {text!r}'
    )


def parse_http_version(text: str) -> str:
    version = text.strip()
    if version not in ("1.0", "1.1"):
        raise ValueError(f'"1.0" or "1.1" is expected; {text!r} is not')
    return version


def parse_mime_list(text: str) -> tuple[str, ...]:
    """A space-separated MIME type list (nginx ``gzip_types``)."""
    return tuple(text.split())


def format_nginx_size(count: int | None) -> str:
    """Bytes -> nginx size text: ``33554432`` -> ``"32m"``; None (unlimited) -> ``"0"``."""
    if count is None or count == 0:
        return "0"
    for unit in ("g", "m", "k"):
        factor = _SIZE_FACTORS[unit]
        if count % factor == 0:
            return f"{count // factor}{unit}"
    return str(count)


def format_nginx_time(seconds: float) -> str:
    """Seconds -> nginx time text: ``3600`` -> ``"3600s"``; ``0.5`` -> ``"500ms"``."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000)}ms"


# --- precedence with provenance ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written(Generic[T]):
    """A value written in a manifest for one setting: where, as what text, and how the
    controller reads that text (``parse`` raises ``ValueError(reason)`` when it rejects it)."""

    source: Source
    raw: str
    parse: Callable[[str], T]
    # Added to the reason when the controller rejects it, e.g. what happens to the Ingress.
    consequence: str = ""


def resolve(
    default: Setting[T], written: Sequence[Written[T]], ignored_elsewhere: Sequence[Ignored] = ()
) -> Setting[T]:
    """The effective setting: the highest-precedence value the controller accepts.

    ``written`` runs from lowest to highest precedence (ConfigMap, then annotation, then an
    applied snippet). Rejected values become ``ignored`` entries and the value below them
    stays in effect; accepted values that lost are listed in ``overridden``.
    ``ignored_elsewhere``: values already known to be without effect (a dropped snippet).
    """
    winners: list[Setting[T]] = [default]
    ignored: list[Ignored] = list(default.ignored)
    for item in written:
        try:
            value = item.parse(item.raw)
        except ValueError as exc:
            reason = f"{exc}; {item.consequence}" if item.consequence else str(exc)
            ignored.append(Ignored(source=item.source, raw=item.raw, reason=reason))
            continue
        winners.append(Setting(value=value, source=item.source, raw=item.raw))
    final = winners[-1]
    beaten = tuple(w.source for w in reversed(winners[:-1]))
    ignored.extend(ignored_elsewhere)
    return Setting(
        value=final.value,
        source=final.source,
        raw=final.raw,
        overridden=beaten,
        ignored=tuple(ignored),
    )


@functools.cache  # defaults are immutable values: one per controller, key and version
def default_setting(
    controller: Controller,
    key: str,
    version: str,
    parse: Callable[[str], T],
    kind: SourceKind = SourceKind.DEFAULT,
) -> Setting[T]:
    """The controller's built-in value for ``key`` (from :mod:`tokenpath.lint.facts`)."""
    row = fact(controller, key, version)
    source = Source(kind=kind, key=key, detail=row.detail(version))
    return Setting(value=parse(row.default), source=source)


def annotation_source(ingress: Ingress, entry: Entry, detail: str = "") -> Source:
    return Source(
        kind=SourceKind.ANNOTATION,
        key=entry.key,
        obj=ingress.ref,
        line=entry.line,
        detail=detail,
        node=entry.node,
    )


def configmap_source(configmap: ConfigMap, entry: Entry) -> Source:
    return Source(
        kind=SourceKind.CONFIGMAP,
        key=entry.key,
        obj=configmap.ref,
        line=entry.line,
        node=entry.node,
    )


def from_configmap(
    configmap: ConfigMap | None, key: str, parse: Callable[[str], T], consequence: str
) -> list[Written[T]]:
    entry = configmap.get(key) if configmap is not None and key else None
    if configmap is None or entry is None:
        return []
    return [Written(configmap_source(configmap, entry), entry.value, parse, consequence)]


def from_annotation(
    ingress: Ingress, key: str, parse: Callable[[str], T], consequence: str
) -> list[Written[T]]:
    entry = ingress.annotation(key) if key else None
    if entry is None:
        return []
    return [Written(annotation_source(ingress, entry), entry.value, parse, consequence)]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (for telling a misspelt annotation from an unknown one)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def near_miss(key: str, candidates: Sequence[str]) -> str | None:
    """The candidate ``key`` most likely misspells: same words with other separators or case,
    or at most two edits away (three for long keys)."""
    normal = key.lower().replace("_", "-").replace(".", "-")
    for candidate in candidates:
        if normal == candidate and key != candidate:
            return candidate
    best: tuple[int, str] | None = None
    for candidate in candidates:
        distance = edit_distance(normal, candidate)
        limit = 3 if len(candidate) > 15 else 2
        if 0 < distance <= limit and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None


# --- nginx directives in snippets ----------------------------------------------------------

_TOKEN = re.compile(r"""\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[;{}]|[^\s;{}"'#]+""")


@dataclass(frozen=True, slots=True)
class Directive:
    name: str
    args: tuple[str, ...]
    offset: int  # where the directive starts in the snippet text

    def __str__(self) -> str:
        return " ".join((self.name, *self.args)) + ";"


def top_level_directives(text: str) -> tuple[Directive, ...]:
    """The directives of a snippet at its own level, in order; directives inside blocks
    (``location {...}``, ``if (...) {...}``) are skipped because they apply elsewhere."""
    directives: list[Directive] = []
    words: list[str] = []
    start = 0
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token.isspace() or token.startswith("#"):
            continue
        if token in ("{", "}"):
            depth = depth + 1 if token == "{" else max(0, depth - 1)
            words = []
        elif token == ";":
            if depth == 0 and words:
                directives.append(Directive(words[0], tuple(words[1:]), start))
            words = []
        else:
            if not words:
                start = match.start()
            words.append(_unquote(token))
    return tuple(directives)


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def _nginx_flag(text: str) -> bool:
    return parse_on_off(text, case_sensitive=False)  # nginx reads on/off in any case


# nginx directive -> (RouteSettings field, how nginx reads its arguments)
SNIPPET_DIRECTIVES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "proxy_buffering": ("buffering", _nginx_flag),
    "proxy_request_buffering": ("request_buffering", _nginx_flag),
    "proxy_http_version": ("http_version", parse_http_version),
    "proxy_read_timeout": ("read_timeout", parse_nginx_time),
    "proxy_send_timeout": ("send_timeout", parse_nginx_time),
    "proxy_connect_timeout": ("connect_timeout", parse_nginx_time),
    "client_max_body_size": ("body_size", parse_nginx_size),
    "gzip": ("gzip", _nginx_flag),
    "gzip_types": ("gzip_types", parse_mime_list),
    "brotli": ("brotli", _nginx_flag),
    "brotli_types": ("brotli_types", parse_mime_list),
}


@dataclass(frozen=True, slots=True)
class SnippetUse:
    """One snippet annotation as the controller treats it."""

    entry: Entry
    level: str  # "location" or "server"
    dropped: str = ""  # why the controller does not apply it ("" = applied)
    refuses: bool = False  # the reason it is dropped also refuses the whole Ingress


@dataclass(slots=True)
class SnippetEffects:
    snippets: list[Snippet] = field(default_factory=list)
    written: dict[str, list[Written[Any]]] = field(default_factory=dict)
    ignored: dict[str, list[Ignored]] = field(default_factory=dict)
    refused: list[Ignored] = field(default_factory=list)


def snippet_effects(
    ingress: Ingress, uses: Sequence[SnippetUse], location_directives: frozenset[str]
) -> SnippetEffects:
    """What snippets do to the settings. A dropped snippet's directives are ignored. An applied
    one at location level that repeats a directive the template already sets in every location
    makes nginx reject the configuration ("directive is duplicate", measured with nginx
    1.22.1), so nothing of it applies and the Ingress is refused; at server level such a
    directive has no effect (the location's own wins). Other directives override the value
    below them (ConfigMap, annotation) for this Ingress."""
    effects = SnippetEffects()
    for use in uses:
        source = annotation_source(ingress, use.entry)
        found = [
            (d, *SNIPPET_DIRECTIVES[d.name])
            for d in top_level_directives(use.entry.value)
            if d.name in SNIPPET_DIRECTIVES
        ]
        problem = use.dropped
        if not problem:
            problem = _conflicts(found, use.level, location_directives)
            refuses = bool(problem)
        else:
            refuses = use.refuses
        effects.snippets.append(
            Snippet(source=source, text=use.entry.value, applied=not problem, reason=problem)
        )
        if refuses:
            effects.refused.append(Ignored(source=source, raw=use.entry.value, reason=problem))
        for directive, setting, parse in found:
            where = _directive_source(ingress, use.entry, directive)
            raw = " ".join(directive.args)
            if problem:
                reason = f"{use.entry.key} does not take effect: {problem}"
                effects.ignored.setdefault(setting, []).append(Ignored(where, raw, reason))
            elif use.level == "server" and directive.name in location_directives:
                reason = (
                    f"no effect at server level: the controller sets {directive.name} in "
                    "every location, which overrides it"
                )
                effects.ignored.setdefault(setting, []).append(Ignored(where, raw, reason))
            else:
                effects.written.setdefault(setting, []).append(Written(where, raw, parse))
    return effects


def _conflicts(
    found: Sequence[tuple[Directive, str, Callable[[str], Any]]],
    level: str,
    location_directives: frozenset[str],
) -> str:
    problems = []
    for directive, _, parse in found:
        try:
            parse(" ".join(directive.args))
        except ValueError as exc:
            problems.append(f'nginx rejects "{directive}" ({exc})')
            continue
        if level == "location" and directive.name in location_directives:
            problems.append(
                f'"{directive.name}" directive is duplicate: the controller already sets it in '
                "every location, so nginx rejects the configuration"
            )
    if not problems:
        return ""
    return "; ".join(problems) + " and the controller cannot apply this Ingress"


def _directive_source(ingress: Ingress, entry: Entry, directive: Directive) -> Source:
    """The directive's own line; no node, so no fix rewrites the whole snippet by mistake."""
    line = entry.line + entry.value.count("\n", 0, directive.offset)
    if entry.node.style in ("|", ">"):
        line += 1  # block scalars start on the line after the indicator
    return Source(
        kind=SourceKind.ANNOTATION,
        key=entry.key,
        obj=ingress.ref,
        line=line,
        detail=f'directive "{directive}" in the snippet',
    )
