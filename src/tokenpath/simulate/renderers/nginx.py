"""Render a minimal nginx.conf: one server on a loopback port, one ``location /`` that
proxies to the upstream, plus the given proxy directives.

Only the directives given are written, so everything else keeps nginx's own defaults
(``proxy_buffering on``, ``proxy_http_version 1.0``, ``proxy_read_timeout 60s``; see
https://nginx.org/en/docs/http/ngx_http_proxy_module.html). Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.errors import UsageError
from tokenpath.lint.model import RouteSettings

# A directive value may not smuggle in extra directives or blocks.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_./:*+\-\" $]*$")
_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

#: What a streaming-safe nginx hop needs for LLM token streams (FACTS.md §1).
STREAMING_SAFE: tuple[tuple[str, str], ...] = (
    ("proxy_buffering", "off"),
    ("proxy_http_version", "1.1"),
    ("proxy_set_header", 'Connection ""'),
    ("proxy_read_timeout", "3600s"),
)


# Directives that may appear several times with different first arguments.
_REPEATABLE = frozenset(
    {"proxy_set_header", "add_header", "proxy_hide_header", "proxy_pass_header"}
)


def with_directives(
    base: Sequence[tuple[str, str]], overrides: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """``base`` with each directive of ``overrides`` replacing the one of the same name
    (nginx rejects a duplicate ``proxy_read_timeout``; repeatable ones are appended)."""
    names = {name for name, _ in overrides if name not in _REPEATABLE}
    return (*((n, v) for n, v in base if n not in names), *overrides)


@dataclass(frozen=True, slots=True)
class NginxSite:
    listen_port: int
    upstream_host: str
    upstream_port: int
    directives: tuple[tuple[str, str], ...] = ()


def render_nginx_conf(site: NginxSite, workdir: str) -> str:
    """The whole nginx.conf for ``site``; every path nginx writes to lies under ``workdir``."""
    body = "\n".join(f"            {name} {value};" for name, value in _checked(site.directives))
    return f"""\
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{
    worker_connections 512;
}}
http {{
    access_log off;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy_temp;
    fastcgi_temp_path {workdir}/fastcgi_temp;
    uwsgi_temp_path {workdir}/uwsgi_temp;
    scgi_temp_path {workdir}/scgi_temp;
    server {{
        listen 127.0.0.1:{site.listen_port};
        location / {{
            proxy_pass http://{site.upstream_host}:{site.upstream_port};
{body}
        }}
    }}
}}
"""


def _checked(directives: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    for name, value in directives:
        if not _SAFE_NAME.match(name) or not _SAFE_VALUE.match(value):
            raise UsageError(f"unsupported nginx directive {name} {value!r}")
    return list(directives)


def directives_for(settings: RouteSettings) -> tuple[tuple[str, str], ...]:
    """The proxy directives an NGINX-family controller writes for these effective settings.

    ingress-nginx and F5 NIC render these same directives into the route's ``location``
    (ingress-nginx ``rootfs/etc/nginx/template/nginx.tmpl``; NIC ``nginx-plus``/``nginx``
    ingress templates), so a real nginx with them behaves like the controller's data plane.
    """
    directives: list[tuple[str, str]] = [
        ("proxy_buffering", "on" if settings.buffering.value else "off"),
        ("proxy_request_buffering", "on" if settings.request_buffering.value else "off"),
        ("proxy_http_version", settings.http_version.value),
        ("proxy_read_timeout", _seconds(settings.read_timeout.value)),
        ("proxy_send_timeout", _seconds(settings.send_timeout.value)),
        ("proxy_connect_timeout", _seconds(settings.connect_timeout.value)),
        ("client_max_body_size", str(settings.body_size.value or 0)),
    ]
    if settings.http_version.value == "1.1":
        # Both controllers clear Connection so upstream keep-alive works with HTTP/1.1.
        directives.append(("proxy_set_header", 'Connection ""'))
    if settings.gzip.value:
        directives.append(("gzip", "on"))
        if settings.gzip_types.value:
            directives.append(("gzip_types", " ".join(settings.gzip_types.value)))
    return tuple(directives)


def _seconds(value: float) -> str:
    """nginx time: whole seconds as "60s", fractions in milliseconds."""
    if value == int(value):
        return f"{int(value)}s"
    return f"{round(value * 1000)}ms"
