"""TP507 envoy-field-rejected: keys Envoy refuses in a bootstrap, found statically, folded
across routes, with a line-deleting fix for ``http2_protocol_options.allow_chunked_length``."""

from __future__ import annotations

import bootstrapkit
from bootstrapkit import route_entry

from tokenpath.fix.edit import Safety
from tokenpath.lint.document import SourceText
from tokenpath.lint.engine import lint_routes
from tokenpath.lint.envoy import build_envoy_routes
from tokenpath.lint.finding import Finding, Severity
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.policy import Policy
from tokenpath.lint.rule import Rule
from tokenpath.lint.rules import envoy_field_rejected
from tokenpath.lint.rules.envoy_field_rejected import (
    EnvoyValidation,
    condense_reason,
    merge_validations,
)

RULE = Rule.from_module(envoy_field_rejected)


def bootstrap(hcm: str = "", route: str = "", cluster: str = "", path: str = "/v1") -> str:
    """Two domains, so one route entry (``route`` is more of its action) gives two routes."""
    return bootstrapkit.bootstrap(
        hcm=hcm,
        routes=route_entry(path, route),
        cluster=cluster,
        domains='["*", "chat.example.com"]',
    )


H2_CHUNKED = "          http2_protocol_options:\n            allow_chunked_length: true\n"


def findings(text: str, file: str = "envoy.yaml") -> list[Finding]:
    source = SourceText(file=file, text=text)
    documents, errors = load_documents(source)
    assert errors == []
    objects, object_errors = parse_objects(documents, {file: text})
    assert object_errors == []
    routes, route_errors = build_envoy_routes(objects, controller_hint=None)
    assert route_errors == []
    llm = [r for r in routes if r.is_llm]
    return list(lint_routes(llm, Policy(), rules=(RULE,), objects=objects))


def apply(text: str, finding: Finding) -> str:
    assert finding.fix is not None
    for edit in sorted(finding.fix.edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    return text


def test_allow_chunked_length_under_http2_options_is_one_error_for_every_route() -> None:
    (finding,) = findings(bootstrap(hcm=H2_CHUNKED))
    assert finding.code == "TP507"
    assert finding.severity is Severity.ERROR
    assert finding.line == 13
    assert finding.message == (
        "Http2ProtocolOptions has no field 'allow_chunked_length' (it belongs to "
        "Http1ProtocolOptions, http_protocol_options); Envoy rejects the whole file"
    )
    assert finding.route == "*/v1, chat.example.com/v1"
    assert finding.value == "allow_chunked_length: true"


def test_the_fix_deletes_the_line_and_the_file_is_then_clean() -> None:
    text = bootstrap(hcm=H2_CHUNKED + "          stream_idle_timeout: 600s\n")
    (finding,) = findings(text)
    assert finding.fix is not None
    assert finding.fix.safety is Safety.UNSAFE
    fixed = apply(text, finding)
    assert "allow_chunked_length" not in fixed
    assert "          http2_protocol_options:\n          stream_idle_timeout: 600s\n" in fixed
    assert findings(fixed) == []


def test_flow_style_and_anchored_values_get_advice_only() -> None:
    flow = "          http2_protocol_options: {allow_chunked_length: true}\n"
    (finding,) = findings(bootstrap(hcm=flow))
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert finding.fix.edits == ()
    anchored = "          http2_protocol_options:\n            allow_chunked_length: &on true\n"
    (finding,) = findings(bootstrap(hcm=anchored))
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY


def test_a_cluster_refusal_is_reported_even_without_an_llm_route() -> None:
    cluster = "    http2_protocol_options:\n      allowChunkedLength: true\n"
    text = bootstrap(cluster=cluster, path="/static").replace("vllm", "assets")
    (finding,) = findings(text)
    assert finding.setting == "clusters[assets].http2_protocol_options.allowChunkedLength"
    assert finding.route == ""
    assert finding.line == 28


def test_a_route_key_in_the_wrong_message_names_the_right_one() -> None:
    text = bootstrap().replace(
        "              - match: {prefix: /v1}\n",
        "              - match: {prefix: /v1}\n                timeout: 0s\n",
    )
    (finding,) = findings(text)
    assert "Route has no field 'timeout' (it belongs to RouteAction, route)" in finding.message
    assert finding.fix is not None
    assert "move 'timeout'" in finding.fix.title


def test_a_misspelt_key_and_a_bad_duration_are_refused() -> None:
    route = "                  idle_timout: 5s\n                  timeout: 15\n"
    found = findings(bootstrap(route=route))
    assert [f.message.split(";")[0] for f in found] == [
        "RouteAction has no field 'idle_timout'",
        '15 is not a protobuf duration string (write "15s")',
    ]


def test_valid_keys_in_either_spelling_are_not_flagged() -> None:
    hcm = (
        "          streamIdleTimeout: 600s\n"
        "          http_protocol_options: {allow_chunked_length: true}\n"
        "          commonHttpProtocolOptions: {idle_timeout: 3600s}\n"
    )
    route = "                  idleTimeout: 0s\n                  max_stream_duration: {}\n"
    assert findings(bootstrap(hcm=hcm, route=route)) == []


def test_validation_results_replace_static_verdicts() -> None:
    text = bootstrap(hcm=H2_CHUNKED)
    static = findings(text)
    obj = static[0].object
    accepted = EnvoyValidation(obj, "1.40.0", "")
    assert merge_validations(static, [accepted], Policy()) == ()
    rejected = EnvoyValidation(obj, "1.40.0", "no such field: 'x'")
    merged = merge_validations(static, [rejected], Policy())
    assert [f.line for f in merged] == [1, 13]
    assert merged[0].message == "Envoy 1.40.0 rejects this file: no such field: 'x'"
    assert merge_validations(static, [rejected], Policy(disabled=("TP507",))) == tuple(static)


def test_envoys_rejection_line_is_condensed() -> None:
    line = (
        "error initializing configuration '/tmp/x/0.yaml': Protobuf message (type "
        "envoy.config.bootstrap.v3.Bootstrap reason INVALID_ARGUMENT: invalid JSON in "
        "envoy.config.bootstrap.v3.Bootstrap @ static_resources.listeners[0].filter_chains[0]"
        ".filters[0].typed_config.<any>.http2_protocol_options: message "
        "envoy.config.core.v3.Http2ProtocolOptions, near 1:433 (offset 432): no such field: "
        "'allow_chunked_length') has unknown fields"
    )
    assert condense_reason(line) == (
        "envoy.config.core.v3.Http2ProtocolOptions: no such field: 'allow_chunked_length' "
        "(at static_resources.listeners[0].filter_chains[0].filters[0].typed_config.<any>"
        ".http2_protocol_options)"
    )
