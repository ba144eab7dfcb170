"""Every lint rule, in one explicit, ordered registry.

Nothing is discovered at import time: a rule exists when it is listed in ``RULES``. Codes are
permanent and never reused; a renamed or merged code goes into ``REDIRECTS`` (old -> new) so
suppressions, policies and ``tokenpath explain`` keep working.

Code families: TP1xx buffering, TP2xx timeouts, TP3xx compression, TP4xx protocol and limits,
TP5xx settings a controller ignores or rejects.
"""

from __future__ import annotations

from types import MappingProxyType

from tokenpath.lint.rule import Rule
from tokenpath.lint.rules import (
    annotation_not_read,
    body_size_too_small,
    buffering_value_invalid,
    compression_of_event_stream,
    envoy_compressor_on_event_stream,
    envoy_field_rejected,
    envoy_filter_not_interpreted,
    http10_upstream_with_buffering,
    ingress_nginx_retired,
    per_try_timeout_too_short,
    policy_without_effect,
    proxy_buffering_enabled,
    proxy_stream_timeout_not_http,
    read_timeout_too_short,
    request_buffer_limit_too_small,
    route_timeout_caps_stream,
    send_timeout_too_short,
    setting_value_ignored,
    snippet_ignored,
    stream_idle_timeout_too_short,
    timeout_read_as_default,
    timeout_value_ignored,
    waf_on_streaming_route,
)

RULES: tuple[Rule, ...] = (
    Rule.from_module(proxy_buffering_enabled),
    Rule.from_module(http10_upstream_with_buffering),
    Rule.from_module(waf_on_streaming_route),
    Rule.from_module(buffering_value_invalid),
    Rule.from_module(read_timeout_too_short),
    Rule.from_module(send_timeout_too_short),
    Rule.from_module(timeout_value_ignored),
    Rule.from_module(route_timeout_caps_stream),
    Rule.from_module(per_try_timeout_too_short),
    Rule.from_module(stream_idle_timeout_too_short),
    Rule.from_module(timeout_read_as_default),
    Rule.from_module(compression_of_event_stream),
    Rule.from_module(envoy_compressor_on_event_stream),
    Rule.from_module(body_size_too_small),
    Rule.from_module(request_buffer_limit_too_small),
    Rule.from_module(snippet_ignored),
    Rule.from_module(annotation_not_read),
    Rule.from_module(ingress_nginx_retired),
    Rule.from_module(proxy_stream_timeout_not_http),
    Rule.from_module(setting_value_ignored),
    Rule.from_module(policy_without_effect),
    Rule.from_module(envoy_field_rejected),
    Rule.from_module(envoy_filter_not_interpreted),
)

# Old code -> current code. Empty until a code is renamed; entries are never removed.
REDIRECTS: dict[str, str] = {}

_BY_CODE = MappingProxyType({rule.meta.code: rule for rule in RULES})


def resolve(code: str) -> str:
    """The current code for ``code`` (upper-cased, redirects followed)."""
    code = code.strip().upper()
    return REDIRECTS.get(code, code)


def rule_for(code: str) -> Rule | None:
    """The rule with ``code`` (case-insensitive, redirects followed), or None."""
    return _BY_CODE.get(resolve(code))


__all__ = ["REDIRECTS", "RULES", "resolve", "rule_for"]
