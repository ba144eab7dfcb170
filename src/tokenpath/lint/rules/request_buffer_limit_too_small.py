"""A filter buffers whole requests under a limit smaller than large prompts.

## What it does
Flags an Envoy-family LLM route where a filter reads the whole request body before
forwarding it (Envoy AI Gateway's and the Inference Extension's external processor, the buffer
filter, an Envoy Gateway `requestBuffer`) while the buffer limit is below the policy's
`min_body_bytes`. On Envoy Gateway the limit is the listener's `connection.bufferLimit`,
32 KiB unless a ClientTrafficPolicy raises it.

## Why it breaks streaming
A prompt larger than the buffer is refused with a 413 before it reaches the model. Long
conversations, retrieved documents, images and tool schemas pass 32 KiB easily. The response
stream itself is not affected: without a body-buffering filter the same limit only applies
flow control.

## Example
```yaml
kind: AIGatewayRoute          # its external processor reads the body to find the model
# no ClientTrafficPolicy: connection.bufferLimit stays 32 KiB
```

## Fix
Raise the buffer limit above the largest expected request. On Envoy Gateway and Envoy AI
Gateway that is a ClientTrafficPolicy on the Gateway (or listener) with
`connection.bufferLimit` (AI Gateway's examples use `50Mi`); a BackendTrafficPolicy
`requestBuffer.limit` is raised where it is set. No automatic fix: the policy is shared by
every route of the Gateway and has to be created with the right target.

## Source
Envoy Gateway's 32 KiB `connection.bufferLimit` and the 413 from body-buffering filters
(FACTS.md §6); AI Gateway's external processor reads the body and its examples' `50Mi`
(FACTS.md §9); the buffer filter (FACTS.md §5).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import Controller, EnvoyRoute, Family, Setting, SourceKind
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules._envoy import route_finding
from tokenpath.lint.rules._shared import advice, origin, size

META = RuleMeta(
    code="TP402",
    name="request-buffer-limit-too-small",
    severity=Severity.WARNING,
    category=Category.BODY_SIZE_TOO_SMALL,
    fix=FixAvailability.NEVER,
    references=(
        "https://github.com/envoyproxy/gateway/blob/main/api/v1alpha1/connection_types.go",
        "https://gateway.envoyproxy.io/docs/api/extension_types/",
        "https://github.com/envoyproxy/ai-gateway/blob/main/api/v1alpha1/ai_gateway_route.go",
    ),
    family=Family.ENVOY,
)

_MIB = 1024 * 1024


def check(route: EnvoyRoute, ctx: RuleContext) -> Iterator[Finding]:
    buffered, limit = route.settings.body_buffered, route.settings.request_buffer_limit
    wanted = ctx.policy.min_body_bytes
    if not buffered.value or limit.value >= wanted:
        return
    yield route_finding(
        ctx,
        META,
        route,
        f"the whole request body is buffered{_why(buffered, limit)} under a limit of "
        f"{size(limit.value)} ({_where(limit)}), below the largest expected request "
        f"({size(wanted)}, policy min_body_bytes): larger prompts get a 413",
        "request_buffer_limit",
        limit,
        _advice(route, limit, wanted),
    )


def _why(buffered: Setting[bool], limit: Setting[int]) -> str:
    """Which filter buffers the body, unless the limit's own source says it already (an
    Envoy Gateway ``requestBuffer.limit`` both buffers and limits)."""
    if buffered.source == limit.source:
        return ""
    if buffered.source.kind is SourceKind.DEFAULT:
        return f" ({buffered.source.detail})" if buffered.source.detail else ""
    detail = buffered.source.detail
    return f" ({detail}; {origin(buffered.source)})" if detail else f" ({origin(buffered.source)})"


def _where(setting: Setting[int]) -> str:
    if setting.source.kind is SourceKind.DEFAULT:
        return f"default: {setting.source.detail}" if setting.source.detail else "default"
    return origin(setting.source)


def _advice(route: EnvoyRoute, limit: Setting[int], wanted: int) -> Fix:
    quantity = f"{math.ceil(wanted / _MIB)}Mi"
    if limit.source.kind is SourceKind.FIELD:
        return advice(f'raise {origin(limit.source)} to "{quantity}" or more')
    if route.owner.controller in (Controller.ENVOY_GATEWAY, Controller.ENVOY_AI_GATEWAY):
        return advice(
            f'set connection.bufferLimit: "{quantity}" (or more) in a ClientTrafficPolicy '
            "that targets this route's Gateway"
        )
    return advice(f'raise the request buffer limit to "{quantity}" or more')
