"""ingress-nginx (kubernetes/ingress-nginx): effective streaming settings of an Ingress.

Precedence (S, internal/ingress/annotations/proxy/main.go): an annotation
``nginx.ingress.kubernetes.io/<key>`` beats the controller ConfigMap key ``<key>``, which beats
the built-in default (config.go ``NewDefault``). An annotation the controller rejects is dropped
and the ConfigMap value or default applies, silently: ``proxy-read-timeout: "3600s"`` stays 60
because only integers parse; ``proxy-buffering: "false"`` or ``"On"`` keeps the default, because
only lowercase ``on``/``off`` pass validation (on by default since v1.12.0; before, the text
went to nginx.conf as written, where nginx reads ``On`` but rejects ``false``).

ConfigMap strings (``proxy-buffering``, ``proxy-http-version``) reach nginx.conf unvalidated:
nginx reads on/off in any case and rejects the rest, so the reload fails and the previous
configuration stays; such a value is shown as ignored, with the default in effect.

Snippets (``configuration-snippet`` at location level, ``server-snippet`` at server level):
since v1.9.0 ``allow-snippet-annotations`` is false by default and they are dropped (the
admission webhook refuses the Ingress); since v1.12.0 any ``*-snippet`` annotation is rated
Critical and an Ingress carrying one is refused unless ``annotations-risk-level`` is Critical.
An applied snippet's directives are read by :func:`~tokenpath.lint.adapters.values.snippet_effects`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tokenpath.lint.adapters.values import (
    SnippetUse,
    Written,
    annotation_source,
    default_setting,
    from_annotation,
    from_configmap,
    near_miss,
    parse_go_bool,
    parse_http_version,
    parse_int_seconds,
    parse_mime_list,
    parse_nginx_size,
    parse_on_off,
    resolve,
    snippet_effects,
)
from tokenpath.lint.facts import INGRESS_NGINX_ANNOTATIONS, at_least, fact
from tokenpath.lint.model import Controller, Ignored, Ownership, RouteSettings, Setting
from tokenpath.lint.objects import ConfigMap, Ingress
from tokenpath.lint.ownership import flag_bool, flag_value

CONTROLLER = Controller.INGRESS_NGINX
PREFIX = "nginx.ingress.kubernetes.io"
OTHER_PREFIX = "nginx.org"  # F5 NGINX Ingress Controller, which ingress-nginx never reads

# Directives the template sets in every location (nginx.tmpl): the same directive in a
# configuration-snippet is a duplicate and nginx rejects the configuration (M nginx 1.22.1).
LOCATION_DIRECTIVES = frozenset(
    {"proxy_connect_timeout", "proxy_send_timeout", "proxy_read_timeout", "proxy_buffering",
     "proxy_request_buffering", "proxy_http_version", "client_max_body_size"}
)  # fmt: skip
# Keys that exist only in the ConfigMap: as an annotation they do nothing.
CONFIGMAP_ONLY = frozenset(
    {"use-gzip", "gzip-types", "gzip-level", "enable-brotli", "brotli-types",
     "proxy-stream-timeout", "allow-snippet-annotations", "annotations-risk-level"}
)  # fmt: skip
# NIC's names for the same settings, to say what to write instead.
NIC_EQUIVALENT = {
    "proxy-buffering": "proxy-buffering",
    "proxy-read-timeout": "proxy-read-timeout",
    "proxy-send-timeout": "proxy-send-timeout",
    "proxy-connect-timeout": "proxy-connect-timeout",
    "proxy-body-size": "client-max-body-size",
    "configuration-snippet": "location-snippets",
    "server-snippet": "server-snippets",
}


@dataclass(frozen=True, slots=True)
class Key:
    """One streaming setting: its RouteSettings field, annotation suffix, ConfigMap key."""

    setting: str
    annotation: str  # suffix after the prefix; "" when there is no annotation
    configmap: str
    kind: str  # "flag" (on/off), "int" (seconds), "size", "version", "bool", "types"


KEYS = (
    Key("buffering", "proxy-buffering", "proxy-buffering", "flag"),
    Key("request_buffering", "proxy-request-buffering", "proxy-request-buffering", "flag"),
    Key("http_version", "proxy-http-version", "proxy-http-version", "version"),
    Key("read_timeout", "proxy-read-timeout", "proxy-read-timeout", "int"),
    Key("send_timeout", "proxy-send-timeout", "proxy-send-timeout", "int"),
    Key("connect_timeout", "proxy-connect-timeout", "proxy-connect-timeout", "int"),
    Key("body_size", "proxy-body-size", "proxy-body-size", "size"),
    Key("modsecurity", "enable-modsecurity", "enable-modsecurity", "bool"),
    Key("gzip", "", "use-gzip", "bool"),
    Key("gzip_types", "", "gzip-types", "types"),
    Key("brotli", "", "enable-brotli", "bool"),
    Key("brotli_types", "", "brotli-types", "types"),
)
BY_SETTING = {key.setting: key for key in KEYS}
STREAMING_ANNOTATIONS = (
    *(k.annotation for k in KEYS if k.annotation),
    "configuration-snippet",
    "server-snippet",
)

_DROPPED = "ingress-nginx drops it and uses the ConfigMap value or its default"
_NOT_APPLIED = (
    "nginx rejects it, so the reload fails and the previous configuration stays; "
    "the default is shown"
)


def _configmap_bool(text: str) -> bool:
    # mapstructure's weak decoding: "" is false; otherwise strconv.ParseBool.
    return False if text == "" else parse_go_bool(text)


def _parsers(kind: str, validated: bool) -> tuple[Callable[[str], Any], Callable[[str], Any]]:
    """(annotation parser, ConfigMap parser) for a kind of key."""
    if kind == "flag":
        return (
            parse_on_off if validated else _nginx_flag,
            _nginx_flag,
        )
    if kind == "int":
        return parse_int_seconds, parse_int_seconds
    if kind == "size":
        return parse_nginx_size, parse_nginx_size
    if kind == "version":
        return parse_http_version, parse_http_version
    if kind == "bool":
        return parse_go_bool, _configmap_bool
    return parse_mime_list, parse_mime_list


def _nginx_flag(text: str) -> bool:
    return parse_on_off(text, case_sensitive=False)


def _default_parser(kind: str) -> Callable[[str], Any]:
    return _parsers(kind, True)[1]


def annotation_prefix(ownership: Ownership) -> str:
    return flag_value(ownership.args, "annotations-prefix") or PREFIX


def validation_enabled(ownership: Ownership) -> bool:
    """``--enable-annotation-validation``: true by default since v1.12.0."""
    flag = flag_bool(ownership.args, "enable-annotation-validation")
    if flag is not None:
        return flag
    return fact(CONTROLLER, "enable-annotation-validation", ownership.version).default == "true"


def effective_settings(
    ingress: Ingress, ownership: Ownership, configmap: ConfigMap | None
) -> RouteSettings:
    """What ingress-nginx really uses for this Ingress, with where each value came from."""
    prefix = annotation_prefix(ownership)
    validated = validation_enabled(ownership)
    effects = snippet_effects(
        ingress, _snippet_uses(ingress, ownership, configmap, prefix), LOCATION_DIRECTIVES
    )
    refused = list(effects.refused)
    values: dict[str, Setting[Any]] = {}
    for key in KEYS:
        parse_annotation, parse_configmap = _parsers(key.kind, validated)
        default = default_setting(
            CONTROLLER, key.configmap, ownership.version, _default_parser(key.kind)
        )
        written: list[Written[Any]] = []
        written += from_configmap(configmap, key.configmap, parse_configmap, _NOT_APPLIED)
        if key.annotation:
            consequence = _DROPPED
            if not validated and key.kind in ("flag", "version"):
                consequence = "nginx rejects it and the controller cannot apply this Ingress"
            annotation = from_annotation(
                ingress, f"{prefix}/{key.annotation}", parse_annotation, consequence
            )
            if annotation and consequence != _DROPPED:
                _note_refusal(annotation[0], parse_annotation, refused)
            written += annotation
        written += effects.written.get(key.setting, [])
        values[key.setting] = resolve(default, written, effects.ignored.get(key.setting, ()))
    # ``values`` holds one entry per RouteSettings field (adapters.SETTINGS).
    return RouteSettings(
        **values,
        snippets=tuple(effects.snippets),
        unread=tuple(_unread(ingress, prefix)),
        refused=tuple(refused),
    )


def _note_refusal(item: Written[Any], parse: Callable[[str], Any], refused: list[Ignored]) -> None:
    try:
        parse(item.raw)
    except ValueError as exc:
        refused.append(Ignored(item.source, item.raw, f"{exc}; {item.consequence}"))


def _snippet_uses(
    ingress: Ingress, ownership: Ownership, configmap: ConfigMap | None, prefix: str
) -> list[SnippetUse]:
    refusal = _risk_refusal(ownership, configmap)
    dropped = "" if refusal else _snippets_disallowed(ownership, configmap)
    uses = []
    for entry in ingress.annotations:
        if not entry.key.startswith(f"{prefix}/") or not entry.key.endswith("-snippet"):
            continue
        suffix = entry.key.removeprefix(f"{prefix}/")
        level = "location" if suffix == "configuration-snippet" else "server"
        if suffix not in ("configuration-snippet", "server-snippet"):
            level = "other"  # auth-, modsecurity-, stream-snippet: no streaming directives
        uses.append(SnippetUse(entry, level, dropped=refusal or dropped, refuses=bool(refusal)))
    return [u for u in uses if u.level != "other" or u.refuses]


def _risk_refusal(ownership: Ownership, configmap: ConfigMap | None) -> str:
    """Since v1.12.0 snippets are rated Critical: below that level the Ingress is refused."""
    if not at_least(ownership.version, CONTROLLER, "1.12.0"):
        return ""
    entry = configmap.get("annotations-risk-level") if configmap is not None else None
    level = entry.value if entry is not None else fact(CONTROLLER, "annotations-risk-level").default
    if level.strip().lower() == "critical":
        return ""
    where = (
        f"ConfigMap {configmap.ref} sets annotations-risk-level: {level}"
        if entry is not None and configmap is not None
        else "annotations-risk-level is High by default since v1.12.0"
    )
    return (
        f"{where}, and snippets are rated Critical: ingress-nginx refuses the whole Ingress"
        ' (set annotations-risk-level: Critical and allow-snippet-annotations: "true" in the'
        " controller ConfigMap, or drop the snippet)"
    )


def _snippets_disallowed(ownership: Ownership, configmap: ConfigMap | None) -> str:
    row = fact(CONTROLLER, "allow-snippet-annotations", ownership.version)
    entry = configmap.get("allow-snippet-annotations") if configmap is not None else None
    if entry is not None:
        try:
            allowed = _configmap_bool(entry.value)
        except ValueError:
            allowed = row.default == "true"
    else:
        allowed = row.default == "true"
    if allowed:
        return ""
    if entry is not None and configmap is not None:
        why = f"ConfigMap {configmap.ref} sets allow-snippet-annotations: {entry.value!r}"
    else:
        why = "allow-snippet-annotations is false by default since v1.9.0"
    return f"{why}: ingress-nginx drops snippet annotations (its admission webhook refuses them)"


def _unread(ingress: Ingress, prefix: str) -> list[Ignored]:
    """Annotations ingress-nginx does not read: F5 NIC's prefix, the default prefix under a
    custom ``--annotations-prefix``, ConfigMap-only keys, misspelt streaming keys."""
    unread = []
    for entry in ingress.annotations:
        namespace, slash, suffix = entry.key.partition("/")
        reason = ""
        if not slash:
            continue
        if namespace == OTHER_PREFIX:
            reason = "an F5 NGINX Ingress Controller annotation; ingress-nginx ignores nginx.org/*"
            equivalent = {v: k for k, v in NIC_EQUIVALENT.items()}.get(suffix)
            if equivalent:
                reason += f" (ingress-nginx reads {prefix}/{equivalent})"
        elif namespace == PREFIX and prefix != PREFIX:
            reason = f"this controller reads annotations under {prefix}/ (--annotations-prefix)"
        elif namespace == prefix:
            reason = _unknown_suffix(suffix, prefix)
        if reason:
            source = annotation_source(ingress, entry)
            unread.append(Ignored(source=source, raw=entry.value, reason=reason))
    return unread


def _unknown_suffix(suffix: str, prefix: str) -> str:
    if suffix in INGRESS_NGINX_ANNOTATIONS:
        return ""
    if suffix in CONFIGMAP_ONLY:
        return f"{suffix} is a key of the controller ConfigMap, not an annotation"
    ours = {v: k for k, v in NIC_EQUIVALENT.items() if k != v}.get(suffix)
    if ours:
        return (
            f"{suffix} is F5 NGINX Ingress Controller's name; ingress-nginx reads {prefix}/{ours}"
        )
    guess = near_miss(suffix, STREAMING_ANNOTATIONS)
    if guess:
        return f"unknown annotation; did you mean {prefix}/{guess}?"
    return ""


def annotation_key(setting: str, prefix: str = PREFIX) -> str | None:
    key = BY_SETTING[setting]
    return f"{prefix}/{key.annotation}" if key.annotation else None


def configmap_key(setting: str) -> str:
    return BY_SETTING[setting].configmap
