"""A configuration snippet that the controller ignores or refuses.

## What it does
Flags a snippet annotation that does not reach nginx.conf:

* ingress-nginx `configuration-snippet` and `server-snippet` are ignored unless the
  ConfigMap sets `allow-snippet-annotations: "true"`, which defaults to `"false"` since
  v1.9.0.
* Since v1.12.0, ingress-nginx rates snippets as Critical risk and refuses the whole Ingress
  unless `annotations-risk-level` is `Critical` as well.
* F5 NGINX Ingress Controller ignores `nginx.org/server-snippets` and `location-snippets`
  unless it runs with `-enable-snippets`.

The finding is an error when the snippet holds streaming directives (`proxy_buffering`,
`proxy_read_timeout`, `gzip`, `proxy_http_version`, ...), because the route silently lacks
them, and when the controller refuses the whole Ingress over it, because then none of its
routes is served. It is a warning otherwise.

## Why it breaks streaming
`configuration-snippet: "proxy_buffering off;"` is a popular answer to buffered SSE. On any
recent ingress-nginx it does nothing at all: buffering stays as the ConfigMap or default
sets it, and the read timeout stays 60 s. From v1.12.0 the Ingress may not be served at all.
Even where snippets are allowed, a snippet that repeats a directive the controller's template
already sets in the location (`proxy_buffering`, `proxy_read_timeout`, `proxy_http_version`,
`client_max_body_size`, ...) makes nginx reject the whole configuration with "directive is
duplicate". Snippets also cannot open a new `location`, so some snippet "fixes" could never
have worked.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      proxy_buffering off;
      proxy_read_timeout 3600s;
```

## Fix
There is no automatic fix. Enabling snippets controller-wide is a security decision:
snippets were restricted after CVE-2021-25742 (kubernetes/ingress-nginx#7837). Use the
controller's own annotations instead. The finding's advice lists them, converted to the
controller's syntax, for example
`nginx.ingress.kubernetes.io/proxy-buffering: "off"` and
`nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"`.

## Source
ingress-nginx changelogs v1.9.0 (`allow-snippet-annotations` defaults to false) and v1.12.0
(`annotations-risk-level` High, snippets Critical); FACTS.md §2 and §17. Snippets cannot
add locations: kubernetes/ingress-nginx#5813 and #10728. F5 NGINX Ingress Controller
`-enable-snippets`: FACTS.md §3. The duplicate-directive rejection was measured with nginx
1.22.1 on both controllers' templates (`location-directives` in `tokenpath.lint.facts`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tokenpath.fix.edit import Fix
from tokenpath.lint.adapters import annotation_key, format_value, has_annotation
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute, Ownership, Setting
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import (
    advice,
    escalate,
    intended_bool,
    intended_bytes,
    intended_seconds,
)

META = RuleMeta(
    code="TP501",
    name="snippet-ignored",
    severity=Severity.WARNING,
    category=Category.SNIPPET_OVERRIDES,
    fix=FixAvailability.NEVER,
    references=(
        "https://github.com/kubernetes/ingress-nginx/blob/main/changelog/controller-1.9.0.md",
        "https://github.com/kubernetes/ingress-nginx/blob/main/changelog/controller-1.12.0.md",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#allow-snippet-annotations",
        "https://github.com/kubernetes/ingress-nginx/issues/5813",
        "https://github.com/kubernetes/ingress-nginx/issues/7837",
        "https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/advanced-configuration-with-annotations/",
    ),
)

# Directives that change how a response streams, and the setting that replaces each one
# ("" when no annotation does).
STREAMING_DIRECTIVES = {
    "proxy_buffering": "buffering",
    "proxy_request_buffering": "request_buffering",
    "proxy_http_version": "http_version",
    "proxy_read_timeout": "read_timeout",
    "proxy_send_timeout": "send_timeout",
    "proxy_connect_timeout": "connect_timeout",
    "client_max_body_size": "body_size",
    "gzip": "",
    "gzip_types": "",
    "brotli": "",
    "brotli_types": "",
    "chunked_transfer_encoding": "",
    "proxy_cache": "",
    "proxy_buffer_size": "",
    "proxy_buffers": "",
    "proxy_max_temp_file_size": "",
    "proxy_ignore_headers": "",
    "proxy_pass_header": "",
    "send_timeout": "",
}
_DIRECTIVE = re.compile(r"(?:^|[;{}\s])([a-z_]+)\s+([^;{}]*);", re.MULTILINE)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    for snippet in route.settings.snippets:
        if snippet.applied:
            continue
        directives = streaming_directives(snippet.text)
        reason = snippet.reason or "the controller does not apply snippets"
        if directives:
            names = ", ".join(name for name, _ in directives)
            message = f"snippet not applied ({reason}); this route lacks its {names}"
        else:
            message = f"snippet not applied ({reason})"
        finding = ctx.finding(
            META,
            route,
            message,
            setting_name=snippet.source.key,
            setting=Setting(value=snippet.text, source=snippet.source, raw=snippet.text),
            fix=_advice(route.owner, directives),
        )
        refuses = any(r.source == snippet.source for r in route.settings.refused)
        yield escalate(ctx, META, finding) if directives or refuses else finding


def streaming_directives(text: str) -> tuple[tuple[str, str], ...]:
    """(directive, argument) of every streaming directive in an nginx snippet, in order."""
    found: list[tuple[str, str]] = []
    for match in _DIRECTIVE.finditer(_strip_comments(text)):
        name, argument = match.group(1), match.group(2).strip()
        if name in STREAMING_DIRECTIVES or _is_accel_header(name, argument):
            found.append((name, argument))
    return tuple(found)


def _is_accel_header(name: str, argument: str) -> bool:
    return name in ("add_header", "more_set_headers") and "x-accel-buffering" in argument.lower()


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _advice(owner: Ownership, directives: tuple[tuple[str, str], ...]) -> Fix:
    controller = owner.controller
    replacements: list[str] = []
    for directive, argument in directives:
        name = STREAMING_DIRECTIVES.get(directive, "")
        value = _meant(name, argument) if name else None
        if value is None or not has_annotation(controller, name):
            continue
        key = annotation_key(controller, name, owner)
        replacements.append(f'{key}: "{format_value(controller, name, value)}"')
    if replacements:
        return advice("use annotations instead: " + ", ".join(replacements))
    return advice("use the controller's annotations or ConfigMap keys instead of a snippet")


def _meant(name: str, argument: str) -> object | None:
    """The setting value an nginx directive argument stands for, or None when unclear."""
    match name:
        case "buffering" | "request_buffering":
            return intended_bool(argument)
        case "http_version":
            return argument if argument in ("1.0", "1.1") else None
        case "body_size":
            bytes_ = intended_bytes(argument)
            return None if bytes_ == 0 else bytes_
        case _:
            return intended_seconds(argument)
