"""Controller adapters: one module per controller family turns an Ingress, its owner and the
controller's ConfigMap into effective streaming settings with provenance.

Every adapter offers the same three things, dispatched here by :class:`Controller`:

* ``effective_settings(ingress, ownership, configmap) -> RouteSettings``;
* the annotation (and ConfigMap key) that sets each ``RouteSettings`` field;
* how a value is written in that controller's syntax (``format_value``), so rules build
  fixes without knowing the controller: ingress-nginx read timeout 3600 -> ``"3600"``, NIC ->
  ``"3600s"``; buffering off -> ``"off"`` / ``"False"``.

Setting names are the ``RouteSettings`` field names: buffering, request_buffering,
http_version, read_timeout, send_timeout, connect_timeout, gzip, gzip_types, brotli,
brotli_types, body_size, modsecurity.
"""

from __future__ import annotations

import math

from tokenpath.lint.adapters import ingress_nginx, nginx_inc
from tokenpath.lint.adapters.values import format_nginx_size, format_nginx_time
from tokenpath.lint.model import Controller, Ownership, RouteSettings
from tokenpath.lint.objects import ConfigMap, Ingress

__all__ = [
    "SETTINGS",
    "annotation_key",
    "configmap_key",
    "effective_settings",
    "format_value",
    "has_annotation",
]

SETTINGS = (
    "buffering",
    "request_buffering",
    "http_version",
    "read_timeout",
    "send_timeout",
    "connect_timeout",
    "gzip",
    "gzip_types",
    "brotli",
    "brotli_types",
    "body_size",
    "modsecurity",
)
_BOOL_WORDS = {"gzip", "brotli", "modsecurity"}  # ingress-nginx ConfigMap booleans
_TIMEOUTS = {"read_timeout", "send_timeout", "connect_timeout"}


def effective_settings(
    ingress: Ingress, ownership: Ownership, configmap: ConfigMap | None
) -> RouteSettings:
    """The settings the owning controller really applies to ``ingress``."""
    match ownership.controller:
        case Controller.INGRESS_NGINX:
            return ingress_nginx.effective_settings(ingress, ownership, configmap)
        case Controller.NGINX_INC:
            return nginx_inc.effective_settings(ingress, ownership, configmap)
        case _:
            raise ValueError(f"{ownership.controller} is not an NGINX-family controller")


def has_annotation(controller: Controller, setting: str) -> bool:
    """Whether an annotation on the Ingress can set ``setting`` for this controller (gzip on
    ingress-nginx is ConfigMap-only; NIC's upstream HTTP version is fixed by its template)."""
    return _annotation(controller, setting, None) is not None


def annotation_key(controller: Controller, setting: str, ownership: Ownership | None = None) -> str:
    """The annotation that sets ``setting``: ``nginx.ingress.kubernetes.io/proxy-read-timeout``,
    ``nginx.org/proxy-read-timeout``. With ``ownership``, ingress-nginx's
    ``--annotations-prefix`` is honoured. Raises ``ValueError`` when no annotation sets it
    (check :func:`has_annotation` first)."""
    key = _annotation(controller, setting, ownership)
    if key is None:
        raise ValueError(f"{controller} has no annotation for {setting}")
    return key


def _annotation(controller: Controller, setting: str, ownership: Ownership | None) -> str | None:
    _check(setting)
    match controller:
        case Controller.INGRESS_NGINX:
            prefix = (
                ingress_nginx.annotation_prefix(ownership)
                if ownership is not None
                else ingress_nginx.PREFIX
            )
            return ingress_nginx.annotation_key(setting, prefix)
        case Controller.NGINX_INC:
            return nginx_inc.annotation_key(setting)
        case _:
            raise ValueError(f"{controller} is not an NGINX-family controller")


def configmap_key(controller: Controller, setting: str) -> str | None:
    """The controller ConfigMap key for ``setting``, or None when there is none."""
    _check(setting)
    match controller:
        case Controller.INGRESS_NGINX:
            return ingress_nginx.configmap_key(setting)
        case Controller.NGINX_INC:
            return nginx_inc.configmap_key(setting)
        case _:
            raise ValueError(f"{controller} is not an NGINX-family controller")


def format_value(controller: Controller, setting: str, value: object) -> str:
    """``value`` (code units: bool, seconds, bytes, None = unlimited, tuple of types) written
    the way ``controller`` reads it for ``setting``. Fractional seconds round up for
    ingress-nginx, which takes whole seconds only."""
    _check(setting)
    if setting in _TIMEOUTS:
        seconds = _seconds(value)
        if controller is Controller.INGRESS_NGINX:
            return str(math.ceil(seconds))
        return format_nginx_time(seconds)
    if setting == "body_size":
        if value is not None and not isinstance(value, int):
            raise TypeError(f"body_size takes bytes or None, not {value!r}")
        return format_nginx_size(value)
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _bool_word(controller, setting, value)
    return str(value)


def _bool_word(controller: Controller, setting: str, value: bool) -> str:
    if controller is Controller.NGINX_INC:
        if setting == "buffering":
            return "True" if value else "False"  # a Go bool; "off" would reject the Ingress
        return "on" if value else "off"  # snippet directives
    if setting in _BOOL_WORDS:
        return "true" if value else "false"
    return "on" if value else "off"


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a timeout takes seconds, not {value!r}")
    return float(value)


def _check(setting: str) -> None:
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; one of {', '.join(SETTINGS)}")
