"""Routes of raw Envoy bootstrap files (``envoy.yaml`` / ``envoy.json``, FACTS.md §5).

Every HTTP connection manager (HCM) of ``static_resources.listeners[].filter_chains[]
.filters[]`` gives its stream idle and delayed close timeouts, its stream cap
(``common_http_protocol_options.max_stream_duration``) and what its HTTP filters do (a
compressor's content types, the buffer filter's request limit) to each route of its inline
``route_config``: one route per virtual host domain and route entry, with the entry's
``route`` timeouts on top. An HCM that takes its routes from ``rds`` (or ``scoped_routes``)
gives no routes: they are not in the file.

Durations are protobuf JSON durations (``15s``, ``0.5s``); ``0s`` turns a timer off. A
duration Envoy cannot parse leaves the default in place, and because Envoy then rejects the
whole file it is also a refusal. So is every key that is not a field of its message
(``tokenpath.lint.envoy.schema``): ``EnvoyRouteSettings.refused`` of each route lists every
refusal of its file, since Envoy serves none of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.schema import (
    ANY_TYPE_KEY,
    AUTO_HTTP_CONFIG,
    BUFFER,
    COMMON_DIRECTION,
    COMPRESSOR,
    EXPLICIT_HTTP_CONFIG,
    HCM,
    HTTP1,
    HTTP2,
    HTTP_COMMON,
    HTTP_FILTER,
    MAX_STREAM_DURATION,
    RESPONSE_DIRECTION,
    RETRY_POLICY,
    ROUTE,
    ROUTE_ACTION,
    ROUTE_CONFIGURATION,
    ROUTE_MATCH,
    UPSTREAM_HTTP,
    USE_DOWNSTREAM_HTTP_CONFIG,
    VIRTUAL_HOST,
    Message,
    field_path,
    get_field,
    packed_type,
    proto_integer,
    proto_seconds,
    spelling,
    type_url,
    unknown_field,
)
from tokenpath.lint.envoy.values import (
    ENVOY_COMPRESSOR_DEFAULT_TYPES,
    envoy_defaults,
    field_source,
    with_ignored,
    written,
)
from tokenpath.lint.fields import FieldReader, is_null
from tokenpath.lint.kinds import ENVOY_BOOTSTRAP
from tokenpath.lint.llm import llm_reason
from tokenpath.lint.model import (
    Controller,
    EnvoyRoute,
    EnvoyRouteSettings,
    FixTarget,
    Ignored,
    ObjectRef,
    Ownership,
    Route,
    Setting,
    Source,
    SourceKind,
)
from tokenpath.lint.objects import Objects, Service
from tokenpath.lint.yamlnode import NodeKind, YNode

_HCM_FILTER = "envoy.filters.network.http_connection_manager"
_REJECTS = "; Envoy rejects the whole file"
# (setting, key below the route entry) a fix edits, for FixTarget.
_ROUTE_KEYS = (("route_timeout", "timeout"), ("idle_timeout", "idle_timeout"))


def bootstrap_routes(
    objects: Objects, controller_hint: Controller | None
) -> tuple[list[EnvoyRoute], list[InputError]]:
    """Every route of every Envoy bootstrap in ``objects`` (``controller_hint`` does not
    apply: a bootstrap is Envoy itself), and the bootstraps' malformed fields."""
    routes: list[EnvoyRoute] = []
    errors: list[InputError] = []
    for ref in _bootstraps(objects):
        reader = _Bootstrap(ref)
        routes.extend(reader.routes())
        errors.extend(reader.errors)
    return routes, errors


def bootstrap_refusals(ref: ObjectRef) -> tuple[Ignored, ...]:
    """Every value of the bootstrap ``ref`` that makes Envoy reject the file, in file order
    (also for a bootstrap that has no routes of its own)."""
    reader = _Bootstrap(ref)
    reader.routes()
    return tuple(reader.refused)


def _bootstraps(objects: Objects) -> Iterator[ObjectRef]:
    return (r for r in objects.others if r.kind == ENVOY_BOOTSTRAP and r.node is not None)


@dataclass(frozen=True, slots=True)
class _Cluster:
    name: str
    port: int | None  # port_value of its first endpoint
    node: YNode


class _Bootstrap(FieldReader):
    """Reads one bootstrap: its clusters, then each HCM's routes; collects refusals."""

    def __init__(self, ref: ObjectRef) -> None:
        super().__init__()
        self.ref = ref
        self.file, self.obj = ref.file, str(ref)
        self.refused: list[Ignored] = []
        self.clusters: dict[str, _Cluster] = {}

    def routes(self) -> list[EnvoyRoute]:
        root = self.ref.node
        static = self.map(get_field(root, "static_resources"), "static_resources")
        if static is None:
            return []
        for i, node in enumerate(
            self.seq(get_field(static, "clusters"), "static_resources.clusters")
        ):
            self.cluster(node, f"static_resources.clusters[{i}]")
        found: list[EnvoyRoute] = []
        listeners = self.seq(get_field(static, "listeners"), "static_resources.listeners")
        for i, listener in enumerate(listeners):
            for where, hcm in self.hcms(listener, f"static_resources.listeners[{i}]"):
                found.extend(self.hcm_routes(hcm, where))
        refused = tuple(self.refused)
        return [replace(r, settings=replace(r.settings, refused=refused)) for r in found]

    # -- refusals -------------------------------------------------------------------------

    def check(self, node: YNode | None, message: Message, where: str, packed: bool = False) -> None:
        """Record every key of the map ``node`` that is not a field of ``message``."""
        if node is None or node.kind is not NodeKind.MAP:
            return
        for key_node, value in node.items:
            key = key_node.value
            if key_node.kind is not NodeKind.SCALAR or key == "<<":
                continue  # YAML merge keys are resolved by the parser, not fields
            if packed and key == ANY_TYPE_KEY:
                continue
            reason = unknown_field(message, key)
            if reason is not None:
                self.refuse(f"{where}.{key}", key_node, value, reason)

    def refuse(self, key: str, key_node: YNode, value: YNode, reason: str) -> None:
        source = Source(SourceKind.FIELD, key, self.ref, key_node.span.line, node=value)
        self.refused.append(Ignored(source, f"{key_node.value}: {self.raw(value)}", reason))

    def raw(self, node: YNode) -> str:
        if node.kind is NodeKind.SCALAR:
            return node.value
        text = " ".join(self.ref.text[node.span.start : node.span.end].split())
        return text if len(text) <= 60 else text[:57] + "..."

    def protocol_options(self, node: YNode, where: str) -> None:
        """The three HTTP protocol option messages an HCM, a cluster or an upstream
        HttpProtocolOptions config may hold."""
        for name, message in (
            ("http_protocol_options", HTTP1),
            ("http2_protocol_options", HTTP2),
            ("common_http_protocol_options", HTTP_COMMON),
        ):
            self.check(get_field(node, name), message, f"{where}.{name}")

    # -- clusters -------------------------------------------------------------------------

    def cluster(self, node: YNode, where: str) -> None:
        cluster = self.map(node, where)
        if cluster is None:
            return
        name = self.text(get_field(cluster, "name"), f"{where}.name")
        label = f"clusters[{name}]" if name else where
        self.protocol_options(cluster, label)
        options = self.map(
            get_field(cluster, "typed_extension_protocol_options"),
            f"{where}.typed_extension_protocol_options",
        )
        for _, packed in options.pairs() if options is not None else ():
            if packed_type(packed) == "HttpProtocolOptions" and ".upstreams." in type_url(packed):
                self.upstream_options(packed, f"{label}.typed_extension_protocol_options")
        if name:
            self.clusters.setdefault(name, _Cluster(name, self.first_port(cluster), cluster))

    def upstream_options(self, node: YNode, where: str) -> None:
        self.check(node, UPSTREAM_HTTP, where, packed=True)
        common = "common_http_protocol_options"
        self.check(get_field(node, common), HTTP_COMMON, f"{where}.{common}")
        for name, message in (
            ("explicit_http_config", EXPLICIT_HTTP_CONFIG),
            ("use_downstream_protocol_config", USE_DOWNSTREAM_HTTP_CONFIG),
            ("auto_config", AUTO_HTTP_CONFIG),
        ):
            config = get_field(node, name)
            self.check(config, message, f"{where}.{name}")
            if config is not None and config.kind is NodeKind.MAP:
                self.protocol_options(config, f"{where}.{name}")

    def first_port(self, cluster: YNode) -> int | None:
        assignment = get_field(cluster, "load_assignment")
        for locality in _elements(get_field(assignment, "endpoints")):
            for lb in _elements(get_field(locality, "lb_endpoints")):
                port = field_path(lb, "endpoint", "address", "socket_address", "port_value")
                number = proto_integer(port)
                if number is not None:
                    return number
        return None

    # -- HTTP connection managers ---------------------------------------------------------

    def hcms(self, listener: YNode, where: str) -> Iterator[tuple[str, YNode]]:
        chains = self.seq(get_field(listener, "filter_chains"), f"{where}.filter_chains")
        for i, chain in enumerate(chains):
            filters = self.seq(get_field(chain, "filters"), f"{where}.filter_chains[{i}].filters")
            for j, item in enumerate(filters):
                config = _filter_config(item, "HttpConnectionManager", _HCM_FILTER)
                if config is not None:
                    yield f"{where}.filter_chains[{i}].filters[{j}]", config

    def hcm_routes(self, hcm: YNode, where: str) -> list[EnvoyRoute]:
        self.check(hcm, HCM, "http_connection_manager", packed=ANY_TYPE_KEY in _keys(hcm))
        self.protocol_options(hcm, "http_connection_manager")
        base = self.hcm_settings(hcm)
        route_config = self.map(get_field(hcm, "route_config"), f"{where}.route_config")
        if route_config is None:
            return []  # rds / scoped_routes: the routes are not in this file
        self.check(route_config, ROUTE_CONFIGURATION, "route_config")
        found: list[EnvoyRoute] = []
        hosts = self.seq(get_field(route_config, "virtual_hosts"), "route_config.virtual_hosts")
        for i, vhost in enumerate(hosts):
            found.extend(self.vhost_routes(vhost, f"route_config.virtual_hosts[{i}]", base))
        return found

    def hcm_settings(self, hcm: YNode) -> EnvoyRouteSettings:
        where = "http_connection_manager"
        s = envoy_defaults("the bootstrap")
        s = self.timer(s, "idle_timeout", hcm, "stream_idle_timeout", where)
        s = self.timer(s, "delayed_close", hcm, "delayed_close_timeout", where, off=0.0)
        common = get_field(hcm, "common_http_protocol_options")
        if common is not None and common.kind is NodeKind.MAP:
            where = "http_connection_manager.common_http_protocol_options"
            s = self.timer(s, "max_stream_duration", common, "max_stream_duration", where)
        filters = self.seq(get_field(hcm, "http_filters"), "http_connection_manager.http_filters")
        for i, item in enumerate(filters):
            s = self.http_filter(s, item, f"http_connection_manager.http_filters[{i}]")
        return s

    def http_filter(self, s: EnvoyRouteSettings, item: YNode, where: str) -> EnvoyRouteSettings:
        self.check(item, HTTP_FILTER, where)
        if _bool(get_field(item, "disabled")):
            return s  # runs only where a route enables it (typed_per_filter_config)
        compressor = _filter_config(item, "Compressor", "envoy.filters.http.compressor")
        if compressor is not None:
            return replace(s, compression=self.compression(s.compression, compressor, where))
        buffer = _filter_config(item, "Buffer", "envoy.filters.http.buffer")
        if buffer is not None:
            self.check(buffer, BUFFER, where, packed=True)
            limit_node = get_field(buffer, "max_request_bytes")
            limit = proto_integer(limit_node)
            source = field_source(self.ref, f"{where}.max_request_bytes", limit_node or item)
            s = replace(s, body_buffered=written(s.body_buffered, True, source, None))
            if limit is not None:
                limit_setting = written(s.request_buffer_limit, limit, source, str(limit))
                s = replace(s, request_buffer_limit=limit_setting)
        return s

    def compression(
        self, previous: Setting[tuple[str, ...] | None], config: YNode, where: str
    ) -> Setting[tuple[str, ...] | None]:
        """The content types a compressor compresses: ``response_direction_config.
        common_config.content_type``, else the deprecated top-level ``content_type``, else
        Envoy's defaults (FACTS.md §5)."""
        self.check(config, COMPRESSOR, where, packed=True)
        response = get_field(config, "response_direction_config")
        self.check(response, RESPONSE_DIRECTION, f"{where}.response_direction_config")
        common = get_field(response, "common_config")
        self.check(common, COMMON_DIRECTION, f"{where}.response_direction_config.common_config")
        if field_path(common, "enabled", "default_value") is not None and not _bool(
            field_path(common, "enabled", "default_value")
        ):
            return previous  # responses are not compressed unless a runtime flag says so
        types_node = get_field(common, "content_type") if response is not None else None
        if response is None:
            types_node = get_field(config, "content_type")
        types = tuple(e.value for e in _elements(types_node) if e.kind is NodeKind.SCALAR)
        if not types:
            source = field_source(self.ref, where, config, "Envoy's default content types")
            return written(previous, ENVOY_COMPRESSOR_DEFAULT_TYPES, source, None)
        source = field_source(self.ref, f"{where}.content_type", types_node)
        return written(previous, types, source, " ".join(types))

    # -- routes ---------------------------------------------------------------------------

    def vhost_routes(self, node: YNode, where: str, base: EnvoyRouteSettings) -> list[EnvoyRoute]:
        vhost = self.map(node, where)
        if vhost is None:
            return []
        self.check(vhost, VIRTUAL_HOST, where)
        at = f"{where}.domains"
        domains = [self.text(d, at) for d in self.seq(get_field(vhost, "domains"), at)]
        vhost_retry = get_field(vhost, "retry_policy")
        self.check(vhost_retry, RETRY_POLICY, f"{where}.retry_policy")
        found: list[EnvoyRoute] = []
        for i, entry in enumerate(self.seq(get_field(vhost, "routes"), f"{where}.routes")):
            route = self.route_entry(entry, f"{where}.routes[{i}]", base, vhost_retry)
            if route is None:
                continue
            for domain in domains or ["*"]:
                found.append(replace(route, host="" if domain == "*" else domain))
        return found

    def route_entry(
        self, node: YNode, where: str, base: EnvoyRouteSettings, vhost_retry: YNode | None
    ) -> EnvoyRoute | None:
        entry = self.map(node, where)
        if entry is None:
            return None
        self.check(entry, ROUTE, where)
        match = get_field(entry, "match")
        self.check(match, ROUTE_MATCH, f"{where}.match")
        action = self.map(get_field(entry, "route"), f"{where}.route")
        if action is None:
            return None  # a redirect or direct response: nothing is proxied
        self.check(action, ROUTE_ACTION, f"{where}.route")
        settings = self.route_settings(base, entry, action, vhost_retry, where)
        cluster = self.cluster_name(action, f"{where}.route")
        path = _matchfield_path(match)
        known = self.clusters.get(cluster)
        port = known.port if known is not None else None
        ports = (port,) if port is not None else ()
        return Route(
            obj=self.ref,
            host="",
            path=path,
            service=cluster,
            port=str(port) if port is not None else "",
            workload=None,
            images=(),
            owner=Ownership(Controller.ENVOY, "", f"Envoy bootstrap {self.ref.file}"),
            llm_reason=llm_reason((), str(self.ref), path, self.cluster_service(known), (), ports),
            settings=settings,
            line=entry.span.line,
        )

    def route_settings(
        self,
        base: EnvoyRouteSettings,
        entry: YNode,
        action: YNode,
        vhost_retry: YNode | None,
        where: str,
    ) -> EnvoyRouteSettings:
        at = f"{where}.route"
        s = self.timer(base, "route_timeout", action, "timeout", at)
        s = self.timer(s, "idle_timeout", action, "idle_timeout", at)
        cap = get_field(action, "max_stream_duration")
        self.check(cap, MAX_STREAM_DURATION, f"{at}.max_stream_duration")
        if cap is not None and cap.kind is NodeKind.MAP:
            at_cap = f"{at}.max_stream_duration"
            s = self.timer(s, "max_stream_duration", cap, "max_stream_duration", at_cap)
        retry, retry_at = get_field(action, "retry_policy"), f"{at}.retry_policy"
        self.check(retry, RETRY_POLICY, retry_at)
        if retry is None and vhost_retry is not None:
            retry, retry_at = vhost_retry, "virtual_host.retry_policy"
        if retry is not None and retry.kind is NodeKind.MAP:
            s = self.timer(s, "backend_timeout", retry, "per_try_timeout", retry_at)
            s = self.timer(s, "per_try_idle_timeout", retry, "per_try_idle_timeout", retry_at)
        paths = tuple((name, ("route", spelling(action, key))) for name, key in _ROUTE_KEYS)
        return replace(s, fix_target=FixTarget(obj=self.ref, node=entry, paths=paths))

    def cluster_name(self, action: YNode, where: str) -> str:
        name = get_field(action, "cluster")
        if name is not None:
            return self.text(name, f"{where}.cluster")
        weighted = _elements(field_path(action, "weighted_clusters", "clusters"))
        names = (self.text(get_field(w, "name"), f"{where}.weighted_clusters") for w in weighted)
        return next(names, "")

    def cluster_service(self, cluster: _Cluster | None) -> Service | None:
        """The cluster as the upstream "service" whose name may hint at an LLM server."""
        if cluster is None:
            return None
        line, index = cluster.node.span.line, self.ref.doc_index
        ref = ObjectRef("Cluster", cluster.name, "", self.ref.file, line, index)
        return Service(ref=ref, annotations=(), selector=(), ports=())

    def timer(
        self,
        s: EnvoyRouteSettings,
        setting: str,
        node: YNode,
        name: str,
        where: str,
        off: float = math.inf,
    ) -> EnvoyRouteSettings:
        """``s`` with ``setting`` replaced by the duration at ``name`` of ``node``."""
        previous: Setting[float] = getattr(s, setting)
        value: Any = self.duration(previous, node, name, where, off)  # one of the float fields
        return replace(s, **{setting: value})

    def duration(
        self, previous: Setting[float], node: YNode, name: str, where: str, off: float
    ) -> Setting[float]:
        """``previous`` replaced by the duration at ``name`` of ``node`` (``0s`` is ``off``);
        kept, with the value as ignored and refused, when Envoy cannot parse it."""
        value = get_field(node, name)
        if value is None or is_null(value):
            return previous
        key = f"{where}.{spelling(node, name)}"
        source = field_source(self.ref, key, value)
        try:
            seconds = proto_seconds(value)
        except ValueError as exc:
            ignored = Ignored(source, self.raw(value), f"{exc}{_REJECTS}")
            self.refused.append(ignored)
            return with_ignored(previous, ignored)
        return written(previous, off if seconds == 0 else seconds, source, self.raw(value))


def _filter_config(item: YNode, message: str, name: str) -> YNode | None:
    """The ``typed_config`` of a filter whose ``@type`` is ``message`` (or, without an
    ``@type``, whose name is ``name``); None for other filters."""
    config = get_field(item, "typed_config")
    if config is None or config.kind is not NodeKind.MAP:
        return None
    packed = packed_type(config)
    if packed:
        return config if packed == message else None
    filter_name = get_field(item, "name")
    return config if filter_name is not None and filter_name.value == name else None


def _keys(node: YNode) -> set[str]:
    return {key for key, _ in node.pairs()}


def _elements(node: YNode | None) -> tuple[YNode, ...]:
    return node.elements if node is not None and node.kind is NodeKind.SEQ else ()


def _bool(node: YNode | None) -> bool:
    return node is not None and node.kind is NodeKind.SCALAR and node.value.lower() == "true"


def _matchfield_path(match: YNode | None) -> str:
    for name in ("prefix", "path", "path_separated_prefix"):
        value = get_field(match, name)
        if value is not None and value.kind is NodeKind.SCALAR and value.value:
            return value.value
    regex = field_path(match, "safe_regex", "regex")
    if regex is not None and regex.kind is NodeKind.SCALAR:
        return regex.value
    return "/"
