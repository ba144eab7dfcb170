"""F5 NGINX Ingress Controller (nginx/kubernetes-ingress): effective streaming settings.

Precedence: an annotation ``nginx.org/<key>`` beats the ConfigMap key ``<key>``, which beats
the default (config_params.go). Response buffering is **on** by default, the opposite of
ingress-nginx. Values follow NIC's own syntax: Go booleans (``"True"``/``"False"``, not
``on``/``off``) and nginx times (``"3600s"`` is valid here, a bare number is seconds).

An annotation NIC rejects does not fall back quietly as in ingress-nginx: the whole Ingress is
rejected (internal/k8s/validation.go), so the value is shown as ignored *and* the Ingress is
listed as refused. ConfigMap values are passed to nginx.conf as written (timeouts, body size)
or parsed as Go booleans (buffering); a bad one leaves the default in effect.

The template always sets ``proxy_http_version 1.1``; request buffering, gzip and brotli have no
key and keep nginx's defaults. Snippets (``location-snippets``, ``server-snippets``) need the
controller flag ``-enable-snippets`` (default false); without it the Ingress is rejected.
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
    parse_mime_list,
    parse_nginx_size,
    parse_nginx_time,
    parse_on_off,
    resolve,
    snippet_effects,
)
from tokenpath.lint.facts import NGINX_INC_ANNOTATIONS, fact
from tokenpath.lint.model import Controller, Ignored, Ownership, RouteSettings, Setting, SourceKind
from tokenpath.lint.objects import ConfigMap, Ingress
from tokenpath.lint.ownership import flag_bool

CONTROLLER = Controller.NGINX_INC
PREFIX = "nginx.org"
OTHER_PREFIX = "nginx.ingress.kubernetes.io"  # ingress-nginx, which NIC never reads

# Directives nginx.ingress.tmpl sets in every location; the same in location-snippets is a
# duplicate and nginx rejects the configuration (M nginx 1.22.1).
LOCATION_DIRECTIVES = frozenset(
    {"proxy_http_version", "proxy_connect_timeout", "proxy_read_timeout", "proxy_send_timeout",
     "client_max_body_size", "proxy_buffering"}
)  # fmt: skip
# ingress-nginx's names for NIC's settings, to say what to write instead.
INGRESS_NGINX_EQUIVALENT = {
    "proxy-buffering": "proxy-buffering",
    "proxy-read-timeout": "proxy-read-timeout",
    "proxy-send-timeout": "proxy-send-timeout",
    "proxy-connect-timeout": "proxy-connect-timeout",
    "proxy-body-size": "client-max-body-size",
    "configuration-snippet": "location-snippets",
    "server-snippet": "server-snippets",
}

_REJECTED = "NIC rejects the whole Ingress, which is then not served"
_CONFIGMAP_REJECTED = "NIC reports the ConfigMap value as invalid and keeps the default"
_NGINX_REJECTS = "nginx rejects it, so the reload fails; the default is shown"


def _nginx_flag(text: str) -> bool:
    return parse_on_off(text, case_sensitive=False)


@dataclass(frozen=True, slots=True)
class Key:
    setting: str
    key: str  # annotation suffix and ConfigMap key ("" when NIC has none)
    default_key: str  # the facts row of the default
    parse_annotation: Callable[[str], Any]
    parse_configmap: Callable[[str], Any]
    parse_default: Callable[[str], Any]
    configmap_consequence: str = _NGINX_REJECTS
    template: bool = False  # fixed by the template rather than a default


KEYS = (
    Key("buffering", "proxy-buffering", "proxy-buffering", parse_go_bool, parse_go_bool,
        parse_go_bool, _CONFIGMAP_REJECTED),
    Key("request_buffering", "", "proxy_request_buffering", _nginx_flag, _nginx_flag,
        _nginx_flag),
    Key("http_version", "", "proxy_http_version", parse_http_version, parse_http_version,
        parse_http_version, template=True),
    Key("read_timeout", "proxy-read-timeout", "proxy-read-timeout", parse_nginx_time,
        parse_nginx_time, parse_nginx_time),
    Key("send_timeout", "proxy-send-timeout", "proxy-send-timeout", parse_nginx_time,
        parse_nginx_time, parse_nginx_time),
    Key("connect_timeout", "proxy-connect-timeout", "proxy-connect-timeout", parse_nginx_time,
        parse_nginx_time, parse_nginx_time),
    Key("body_size", "client-max-body-size", "client-max-body-size", parse_nginx_size,
        parse_nginx_size, parse_nginx_size),
    Key("modsecurity", "", "modsecurity", _nginx_flag, _nginx_flag, _nginx_flag),
    Key("gzip", "", "gzip", _nginx_flag, _nginx_flag, _nginx_flag),
    Key("gzip_types", "", "gzip_types", parse_mime_list, parse_mime_list, parse_mime_list),
    Key("brotli", "", "brotli", _nginx_flag, _nginx_flag, _nginx_flag),
    Key("brotli_types", "", "brotli_types", parse_mime_list, parse_mime_list, parse_mime_list),
)  # fmt: skip
BY_SETTING = {key.setting: key for key in KEYS}
STREAMING_ANNOTATIONS = (
    *(k.key for k in KEYS if k.key),
    "location-snippets",
    "server-snippets",
)


def effective_settings(
    ingress: Ingress, ownership: Ownership, configmap: ConfigMap | None
) -> RouteSettings:
    """What F5 NGINX Ingress Controller really uses for this Ingress, with provenance."""
    effects = snippet_effects(ingress, _snippet_uses(ingress, ownership), LOCATION_DIRECTIVES)
    refused = list(effects.refused)
    values: dict[str, Setting[Any]] = {}
    for key in KEYS:
        kind = SourceKind.TEMPLATE if key.template else SourceKind.DEFAULT
        default = default_setting(
            CONTROLLER, key.default_key, ownership.version, key.parse_default, kind
        )
        written: list[Written[Any]] = []
        if key.key:
            written += from_configmap(
                configmap, key.key, key.parse_configmap, key.configmap_consequence
            )
            annotation = from_annotation(
                ingress, f"{PREFIX}/{key.key}", key.parse_annotation, _REJECTED
            )
            for item in annotation:
                _note_refusal(item, refused)
            written += annotation
        written += effects.written.get(key.setting, [])
        values[key.setting] = resolve(default, written, effects.ignored.get(key.setting, ()))
    # ``values`` holds one entry per RouteSettings field (adapters.SETTINGS).
    return RouteSettings(
        **values,
        snippets=tuple(effects.snippets),
        unread=tuple(_unread(ingress)),
        refused=tuple(refused),
    )


def _note_refusal(item: Written[Any], refused: list[Ignored]) -> None:
    try:
        item.parse(item.raw)
    except ValueError as exc:
        refused.append(Ignored(item.source, item.raw, f"{exc}; {_REJECTED}"))


def snippets_enabled(ownership: Ownership) -> bool:
    flag = flag_bool(ownership.args, "enable-snippets")
    return flag if flag is not None else fact(CONTROLLER, "enable-snippets").default == "true"


def _snippet_uses(ingress: Ingress, ownership: Ownership) -> list[SnippetUse]:
    dropped = ""
    if not snippets_enabled(ownership):
        dropped = (
            "the controller runs without -enable-snippets (the default): NIC rejects an "
            "Ingress with snippet annotations, which is then not served"
        )
    uses = []
    for suffix, level in (("location-snippets", "location"), ("server-snippets", "server")):
        entry = ingress.annotation(f"{PREFIX}/{suffix}")
        if entry is not None:
            uses.append(SnippetUse(entry, level, dropped=dropped, refuses=bool(dropped)))
    return uses


def _unread(ingress: Ingress) -> list[Ignored]:
    """Annotations NIC does not read: ingress-nginx's prefix and misspelt streaming keys."""
    unread = []
    for entry in ingress.annotations:
        namespace, slash, suffix = entry.key.partition("/")
        reason = ""
        if not slash:
            continue
        if namespace == OTHER_PREFIX:
            reason = (
                "an ingress-nginx annotation; F5 NGINX Ingress Controller ignores "
                "nginx.ingress.kubernetes.io/*"
            )
            equivalent = INGRESS_NGINX_EQUIVALENT.get(suffix)
            if equivalent:
                reason += f" (NIC reads {PREFIX}/{equivalent})"
        elif namespace == PREFIX and suffix not in NGINX_INC_ANNOTATIONS:
            reason = _unknown_suffix(suffix)
        if reason:
            unread.append(Ignored(annotation_source(ingress, entry), entry.value, reason))
    return unread


def _unknown_suffix(suffix: str) -> str:
    ours = INGRESS_NGINX_EQUIVALENT.get(suffix)
    if ours and ours != suffix:
        return (
            f"{suffix} is ingress-nginx's name; F5 NGINX Ingress Controller reads {PREFIX}/{ours}"
        )
    guess = near_miss(suffix, STREAMING_ANNOTATIONS)
    if guess:
        return f"unknown annotation; did you mean {PREFIX}/{guess}?"
    return ""


def annotation_key(setting: str) -> str | None:
    key = BY_SETTING[setting].key
    return f"{PREFIX}/{key}" if key else None


def configmap_key(setting: str) -> str | None:
    return BY_SETTING[setting].key or None
