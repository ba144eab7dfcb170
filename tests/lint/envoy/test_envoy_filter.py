"""Istio EnvoyFilters through the real pipeline: the patches that are interpreted, the ones
shown as uninterpreted, and which routes they reach (root namespace, own namespace, context,
workloadSelector)."""

from __future__ import annotations

import math

import meshkit
from meshkit import BACKEND, routes_of

from tokenpath.lint.document import SourceText
from tokenpath.lint.envoy.envoyfilter import apply_envoy_filters
from tokenpath.lint.envoy.envoypatches import read_envoy_filters
from tokenpath.lint.envoy.istio import base_settings
from tokenpath.lint.envoy.values import ENVOY_COMPRESSOR_DEFAULT_TYPES
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import EnvoyRoute, SourceKind
from tokenpath.lint.pipeline import LintResult
from tokenpath.lint.policy import Policy
from tokenpath.lint.rule import RuleContext
from tokenpath.lint.rules import envoy_filter_not_interpreted


def document(api_version: str, kind: str, name: str, namespace: str, spec: str) -> str:
    """A new YAML document: the object ``kind``/``namespace``/``name`` with ``spec`` (its
    lines, indented 2)."""
    return (
        f"---\napiVersion: {api_version}\nkind: {kind}\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{spec}"
    )


def vs(name: str, namespace: str, gateways: str = "") -> str:
    extra = f"  gateways: [{gateways}]\n" if gateways else ""
    spec = (
        f"  hosts: [{name}.example.com]\n{extra}  http:\n    - route:\n"
        "        - destination: {host: vllm.ai.svc.cluster.local, port: {number: 8000}}\n"
    )
    return document("networking.istio.io/v1", "VirtualService", name, namespace, spec)


def envoy_filter(patches: str, name: str = "misc", namespace: str = "ai") -> str:
    """An EnvoyFilter with ``patches`` (configPatches entries, indented 4)."""
    spec = "  configPatches:\n" + patches
    return document("networking.istio.io/v1alpha3", "EnvoyFilter", name, namespace, spec)


IDLE = """\
    - applyTo: NETWORK_FILTER
      match:
        context: CONTEXT
        listener:
          filterChain:
            filter:
              name: envoy.filters.network.http_connection_manager
      patch:
        operation: MERGE
        value:
          typed_config:
            stream_idle_timeout: 3600s
            delayedCloseTimeout: 0s
"""


def idle(namespace: str, context: str = "ANY") -> str:
    return envoy_filter(IDLE.replace("CONTEXT", context), "idle", namespace)


def lint(text: str) -> LintResult:
    return meshkit.lint("ef.yaml", text)


def by_name(text: str) -> dict[str, EnvoyRoute]:
    return {r.obj.name: r for r in routes_of("ef.yaml", text, "VirtualService")}


def test_hcm_merge_sets_stream_idle_and_delayed_close() -> None:
    text = idle("ai") + vs("chat", "ai")
    settings = by_name(text)["chat"].settings
    assert settings.idle_timeout.value == 3600.0
    assert settings.idle_timeout.raw == "3600s"
    assert settings.idle_timeout.overridden[0].kind is SourceKind.DEFAULT
    assert settings.idle_timeout.source.describe() == (
        "spec.configPatches[0].patch.value.typed_config.stream_idle_timeout of "
        "EnvoyFilter/ai/idle (ef.yaml:35)"
    )
    assert settings.delayed_close.value == math.inf  # 0s turns it off
    assert settings.uninterpreted == ()


def test_root_namespace_reaches_every_namespace_own_namespace_only_its_own() -> None:
    text = idle("istio-system") + vs("chat", "web") + vs("other", "ai")
    found = by_name(text)
    assert found["chat"].settings.idle_timeout.value == 3600.0
    assert found["other"].settings.idle_timeout.value == 3600.0
    found = by_name(idle("web") + vs("chat", "web") + vs("other", "ai"))
    assert found["chat"].settings.idle_timeout.value == 3600.0
    assert found["other"].settings.idle_timeout.value == 300.0


def test_context_picks_gateways_or_sidecars() -> None:
    text = idle("istio-system", "GATEWAY") + vs("edge", "ai", "istio-system/public")
    text += vs("mesh", "ai")
    found = by_name(text)
    assert found["edge"].settings.idle_timeout.value == 3600.0
    assert found["mesh"].settings.idle_timeout.value == 300.0
    # A filter in the gateway's own namespace reaches the gateway's proxies.
    found = by_name(idle("gw", "GATEWAY") + vs("edge", "ai", "gw/public") + vs("mesh", "ai"))
    assert found["edge"].settings.idle_timeout.value == 3600.0
    assert found["mesh"].settings.idle_timeout.value == 300.0


def test_workload_selector_makes_patches_uninterpreted() -> None:
    text = idle("ai").replace("spec:\n", "spec:\n  workloadSelector:\n    labels: {app: gw}\n", 1)
    settings = by_name(text + vs("chat", "ai"))["chat"].settings
    assert settings.idle_timeout.value == 300.0
    first, second = settings.uninterpreted
    assert first.raw == "3600s"
    assert "workloadSelector app=gw" in first.reason
    assert "istioctl proxy-config listener" in first.reason
    assert first.source.obj is not None
    assert first.source.obj.name == "idle"
    assert second.raw == "0s"


COMPRESSOR_PATCH = """\
    - applyTo: HTTP_FILTER
      match:
        listener:
          filterChain:
            filter:
              name: envoy.filters.network.http_connection_manager
              subFilter: {name: envoy.filters.http.router}
      patch:
        operation: INSERT_BEFORE
        value:
          name: envoy.filters.http.compressor
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
            response_direction_config:
              common_config:
                content_type: [text/event-stream, application/json]
"""
COMPRESSOR = envoy_filter(COMPRESSOR_PATCH, "gzip")


def test_compressor_with_listed_types() -> None:
    compression = by_name(COMPRESSOR + vs("chat", "ai"))["chat"].settings.compression
    assert compression.value == ("text/event-stream", "application/json")
    assert compression.source.describe() == (
        "spec.configPatches[0].patch.value.typed_config.response_direction_config."
        "common_config.content_type of EnvoyFilter/ai/gzip (ef.yaml:39)"
    )


def test_compressor_with_default_types() -> None:
    text = COMPRESSOR.replace(
        "            response_direction_config:\n              common_config:\n"
        "                content_type: [text/event-stream, application/json]\n",
        "",
    )
    compression = by_name(text + vs("chat", "ai"))["chat"].settings.compression
    assert compression.value == ENVOY_COMPRESSOR_DEFAULT_TYPES
    assert "text/event-stream" not in ENVOY_COMPRESSOR_DEFAULT_TYPES
    assert compression.source.line == 34


def test_uninterpreted_patches() -> None:
    patches = """\
    - applyTo: HTTP_ROUTE
      match: {context: SIDECAR_OUTBOUND}
      patch:
        operation: MERGE
        value: {route: {timeout: 10s}}
    - applyTo: HTTP_FILTER
      patch:
        operation: INSERT_BEFORE
        value: {name: envoy.filters.http.lua}
    - applyTo: CLUSTER
      patch:
        operation: MERGE
        value: {connect_timeout: 3s, per_connection_buffer_limit_bytes: 1024}
    - applyTo: HTTP_FILTER
      patch:
        operation: INSERT_BEFORE
        value: {name: envoy.filters.http.header_to_metadata}
    - applyTo: NETWORK_FILTER
      match:
        listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}
      patch:
        operation: MERGE
        value:
          typed_config: {stream_idle_timeout: 5m, request_timeout: 10s}
"""
    settings = by_name(envoy_filter(patches) + vs("chat", "ai"))["chat"].settings
    entries = [(e.raw, e.source.key) for e in settings.uninterpreted]
    assert entries == [
        ("HTTP_ROUTE MERGE (timeout)", "spec.configPatches[0]"),
        ("HTTP_FILTER INSERT_BEFORE envoy.filters.http.lua", "spec.configPatches[1]"),
        (
            "CLUSTER MERGE (connect_timeout, per_connection_buffer_limit_bytes)",
            "spec.configPatches[2]",
        ),
        (
            "stream_idle_timeout: 5m",
            "spec.configPatches[4].patch.value.typed_config.stream_idle_timeout",
        ),
        ("NETWORK_FILTER MERGE (request_timeout)", "spec.configPatches[4]"),
    ]
    route_config, lua, _, bad, _ = settings.uninterpreted
    assert "istioctl proxy-config route <pod> -o json" in route_config.reason
    assert "lua filter may buffer" in lua.reason
    assert "not a protobuf duration" in bad.reason
    assert (
        route_config.source.describe()
        == "spec.configPatches[0] of EnvoyFilter/ai/misc (ef.yaml:24)"
    )
    assert settings.idle_timeout.value == 300.0


def test_malformed_envoy_filter_gives_input_errors() -> None:
    patches = """\
    - applyTo: [HTTP_ROUTE]
      patch: MERGE
    - 42
"""
    text = envoy_filter(patches).replace(
        "  configPatches:\n", "  priority: high\n  configPatches:\n"
    )
    result = lint(text + vs("chat", "ai"))
    assert sorted(str(e) for e in result.errors) == [
        "ef.yaml:23: EnvoyFilter/ai/misc: spec.priority must be an integer",
        "ef.yaml:25: EnvoyFilter/ai/misc: spec.configPatches[0].applyTo must be a single value",
        "ef.yaml:26: EnvoyFilter/ai/misc: spec.configPatches[0].patch must be a mapping",
        "ef.yaml:27: EnvoyFilter/ai/misc: spec.configPatches[1] must be a mapping",
    ]


def test_apply_envoy_filters_is_a_pure_function() -> None:
    text = BACKEND + idle("ai", "GATEWAY")
    documents, _ = load_documents(SourceText(file="ef.yaml", text=text))
    objects, _ = parse_objects(documents, {"ef.yaml": text})
    filters, errors = read_envoy_filters(objects)
    assert errors == ()
    # Proxies unknown: every context counts, the route's namespace stands for the proxies'.
    applied = apply_envoy_filters(base_settings(), filters, "ai")
    assert applied.idle_timeout.value == 3600.0
    assert apply_envoy_filters(base_settings(), filters, "web").idle_timeout.value == 300.0


def test_tp508_reports_each_uninterpreted_patch_at_its_source() -> None:
    patches = """\
    - applyTo: HTTP_ROUTE
      patch:
        operation: MERGE
        value: {route: {timeout: 10s}}
"""
    route = by_name(envoy_filter(patches) + vs("chat", "ai"))["chat"]
    (finding,) = envoy_filter_not_interpreted.check(route, RuleContext(Policy()))
    assert finding.code == "TP508"
    assert str(finding.object) == "EnvoyFilter/ai/misc"
    assert finding.line == 24
    assert finding.setting == "spec.configPatches[0]"
    assert finding.value == "HTTP_ROUTE MERGE (timeout)"
    assert finding.message.startswith(
        "EnvoyFilter/ai/misc may change how this route streams (HTTP_ROUTE MERGE (timeout)): "
    )
    assert "istioctl proxy-config route <pod> -o json" in finding.message
    assert finding.route == "chat.example.com/"
    # An interpreted patch gives nothing to report.
    clean = by_name(idle("ai") + vs("chat", "ai"))["chat"]
    assert list(envoy_filter_not_interpreted.check(clean, RuleContext(Policy()))) == []
