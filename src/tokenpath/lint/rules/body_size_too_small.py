"""The request body limit is too small for LLM prompts.

## What it does
Flags a route whose effective request body limit is below the policy's `min_body_bytes`
(32 MiB by default). The limit is ingress-nginx `proxy-body-size` or F5 NGINX Ingress
Controller `nginx.org/client-max-body-size`, and both default to `1m`. `0` means unlimited
and never fires.

## Why it breaks streaming
nginx answers `413 Request Entity Too Large` before the model sees the request. It does not
break the stream, it prevents it. LLM requests are larger than typical API calls: a long
conversation history, retrieved documents, tool schemas and base64 images easily pass 1 MiB.
The failure appears only with the largest requests, so it tends to show up in production
rather than in tests.

## Example
```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: "1m"
```

## Fix
The fix sets the limit to the policy's `min_body_bytes` in the controller's size syntax
(`"32m"`). It edits this Ingress's annotation, or adds one when the value comes from the
ConfigMap or the default. It is unsafe: a larger limit changes behaviour and lets larger
uploads reach the server.

## Source
nginx `client_max_body_size` defaults to 1m and answers 413 above it (FACTS.md §1). The
controllers' keys and defaults are in FACTS.md §2 and §3; FACTS.md §18 lists 413 among the
symptoms.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.fix.edit import Safety
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._shared import has_ignored_annotation, set_value_fix, size

META = RuleMeta(
    code="TP401",
    name="body-size-too-small",
    severity=Severity.WARNING,
    category=Category.BODY_SIZE_TOO_SMALL,
    fix=FixAvailability.ALWAYS,
    references=(
        "https://nginx.org/en/docs/http/ngx_http_core_module.html#client_max_body_size",
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-max-body-size",
        "https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/advanced-configuration-with-annotations/",
    ),
)


def check(route: NginxRoute, ctx: RuleContext) -> Iterator[Finding]:
    setting = route.settings.body_size
    limit = ctx.policy.min_body_bytes
    if not setting.value or setting.value >= limit:  # None or 0: unlimited
        return
    if has_ignored_annotation(setting):
        return
    yield ctx.finding(
        META,
        route,
        f"request bodies above {size(setting.value)} are refused with 413; LLM requests "
        f"need {size(limit)} (policy min_body_bytes)",
        setting_name="body_size",
        setting=setting,
        fix=set_value_fix(route, setting, "body_size", limit, Safety.UNSAFE),
    )
