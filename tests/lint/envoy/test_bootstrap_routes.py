"""Raw Envoy bootstrap files through the real loader and pipeline: routes, their settings and
where each came from (FACTS.md §5)."""

from __future__ import annotations

import math

import bootstrapkit
from bootstrapkit import HCM_TYPE

from tokenpath.lint.document import SourceText
from tokenpath.lint.model import Controller, EnvoyRoute, SourceKind
from tokenpath.lint.pipeline import LintOptions, LintResult, lint_sources


def bootstrap(hcm: str = "", routes: str = "", filters: str = "", domains: str = '["*"]') -> str:
    """The bootstrap with ``routes`` (route entries) or else one in flow style."""
    routes = routes or (
        "              - match: {prefix: /v1/chat/completions}\n"
        "                route: {cluster: vllm}\n"
    )
    return bootstrapkit.bootstrap(hcm=hcm, routes=routes, filters=filters, domains=domains)


def lint(text: str, file: str = "envoy.yaml") -> LintResult:
    return lint_sources([SourceText(file=file, text=text)], LintOptions(all_routes=True))


def routes(text: str, file: str = "envoy.yaml") -> list[EnvoyRoute]:
    result = lint(text, file)
    assert not result.errors, result.errors
    return [r for r in result.routes if r.owner.controller is Controller.ENVOY]


def test_a_bootstrap_is_an_object_named_after_its_file_with_one_route_per_domain() -> None:
    found = routes(bootstrap(domains='["*", "chat.example.com"]'), "deploy/envoy.yaml")
    assert [r.host for r in found] == ["", "chat.example.com"]
    route = found[0]
    assert (route.obj.kind, route.obj.name, route.obj.namespace) == (
        "EnvoyBootstrap",
        "envoy.yaml",
        "",
    )
    assert route.path == "/v1/chat/completions"
    assert (route.service, route.port) == ("vllm", "8000")
    assert route.owner.reason == "Envoy bootstrap deploy/envoy.yaml"
    assert "OpenAI chat completions" in route.llm_reason
    assert route.line == 17  # the route entry


def test_envoy_defaults_apply_when_nothing_is_set() -> None:
    settings = routes(bootstrap())[0].settings
    assert settings.route_timeout.value == 15.0
    assert settings.route_timeout.source.kind is SourceKind.DEFAULT
    assert "the bootstrap sets none" in settings.route_timeout.source.detail
    assert settings.idle_timeout.value == 300.0
    assert settings.delayed_close.value == 1.0
    assert settings.compression.value is None
    assert settings.body_buffered.value is False
    assert settings.refused == ()


def test_route_and_hcm_timers_with_zero_meaning_off() -> None:
    hcm = "          stream_idle_timeout: 600s\n          delayed_close_timeout: 0s\n"
    entry = """\
              - match: {prefix: /v1}
                route:
                  cluster: vllm
                  timeout: 0s
                  idle_timeout: 120s
                  max_stream_duration: {max_stream_duration: 3600s}
                  retry_policy: {per_try_timeout: 30s, per_try_idle_timeout: 0s}
"""
    settings = routes(bootstrap(hcm=hcm, routes=entry))[0].settings
    assert settings.route_timeout.value == math.inf
    assert settings.route_timeout.source.line == 22
    assert settings.idle_timeout.value == 120.0
    assert len(settings.idle_timeout.overridden) == 2  # the default, then the HCM's 600s
    assert settings.delayed_close.value == 0.0
    assert settings.max_stream_duration.value == 3600.0
    assert settings.backend_timeout.value == 30.0
    assert settings.per_try_idle_timeout.value == math.inf


def test_the_hcm_idle_timeout_applies_when_the_route_sets_none() -> None:
    settings = routes(bootstrap(hcm="          stream_idle_timeout: 0s\n"))[0].settings
    assert settings.idle_timeout.value == math.inf
    assert settings.idle_timeout.source.key == "http_connection_manager.stream_idle_timeout"


def test_json_names_are_read_and_kept_for_fixes() -> None:
    entry = """\
              - match: {prefix: /v1}
                route: {cluster: vllm, idleTimeout: 5s}
"""
    hcm = "          streamIdleTimeout: 600s\n          commonHttpProtocolOptions: {maxStreamDuration: 900s}\n"  # noqa: E501 (a YAML line)
    settings = routes(bootstrap(hcm=hcm, routes=entry))[0].settings
    assert settings.idle_timeout.value == 5.0
    assert settings.max_stream_duration.value == 900.0
    assert settings.refused == ()
    target = settings.fix_target
    assert target is not None
    assert target.obj.kind == "EnvoyBootstrap"
    assert target.path("route_timeout") == ("route", "timeout")
    assert target.path("idle_timeout") == ("route", "idleTimeout")


def test_a_virtual_host_retry_policy_applies_to_routes_without_one() -> None:
    text = bootstrap().replace(
        '              domains: ["*"]\n',
        '              domains: ["*"]\n              retry_policy: {per_try_timeout: 10s}\n',
    )
    assert routes(text)[0].settings.backend_timeout.value == 10.0


def test_compressor_types_default_to_envoys_and_can_be_listed() -> None:
    compressor = """\
          - name: envoy.filters.http.compressor
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
              compressor_library:
                name: gzip
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip
"""
    default = routes(bootstrap(filters=compressor))[0].settings.compression
    assert default.value is not None
    assert "text/event-stream" not in default.value
    assert "application/json" in default.value
    listed = compressor + (
        "              response_direction_config:\n"
        "                common_config: {content_type: [text/event-stream]}\n"
    )
    setting = routes(bootstrap(filters=listed))[0].settings.compression
    assert setting.value == ("text/event-stream",)
    assert setting.source.line == 28


def test_the_buffer_filter_buffers_request_bodies_up_to_its_limit() -> None:
    buffer = """\
          - name: envoy.filters.http.buffer
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer
              max_request_bytes: 65536
"""
    settings = routes(bootstrap(filters=buffer))[0].settings
    assert settings.body_buffered.value is True
    assert settings.request_buffer_limit.value == 65536


def test_routes_from_rds_are_not_in_the_file() -> None:
    text = bootstrap().replace(
        "          route_config:\n",
        "          rds: {route_config_name: main, config_source: {ads: {}}}\n"
        "          x_route_config:\n",
    )
    result = lint(text)
    assert result.errors == ()
    assert [r for r in result.routes if r.owner.controller is Controller.ENVOY] == []


def test_an_unparseable_duration_keeps_the_default_and_is_refused() -> None:
    entry = """\
              - match: {prefix: /v1}
                route: {cluster: vllm, timeout: 1m}
"""
    settings = routes(bootstrap(routes=entry))[0].settings
    assert settings.route_timeout.value == 15.0
    (ignored,) = settings.route_timeout.ignored
    assert ignored.raw == "1m"
    assert "Envoy rejects the whole file" in ignored.reason
    assert settings.refused == (ignored,)


def test_a_cluster_named_after_an_llm_server_counts_as_llm_evidence() -> None:
    entry = """\
              - match: {prefix: /}
                route: {cluster: vllm}
"""
    route = routes(bootstrap(routes=entry))[0]
    assert route.llm_reason == "Cluster/vllm is named after an LLM server"


def test_a_json_bootstrap_is_read_too() -> None:
    text = (
        '{"static_resources": {"listeners": [{"filter_chains": [{"filters": [{'
        '"name": "envoy.filters.network.http_connection_manager", "typed_config": {'
        f'"@type": "{HCM_TYPE}", "stat_prefix": "x", "route_config": {{"virtual_hosts": [{{'
        '"name": "a", "domains": ["*"], "routes": [{"match": {"prefix": "/v1"}, '
        '"route": {"cluster": "c", "timeout": "0s"}}]}]}}}]}]}]}}'
    )
    (route,) = routes(text, "envoy.json")
    assert route.obj.name == "envoy.json"
    assert route.settings.route_timeout.value == math.inf


def test_kubernetes_objects_are_unaffected_and_malformed_bootstraps_are_input_errors() -> None:
    text = bootstrap().replace("  listeners:\n", "  listeners: 3\n  unused:\n", 1)
    result = lint(text)
    assert any("static_resources.listeners must be a list" in e.message for e in result.errors)
    config_map = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {static_resources: a}\n"
    )
    assert lint(config_map).errors == ()
    no_kind = "static_resources: {}\nkind: Foo\n"
    assert any("metadata.name" in e.message for e in lint(no_kind).errors)
