"""Routes of raw Envoy bootstrap files (``envoy.yaml`` / ``envoy.json``, FACTS.md §5).

Every HTTP connection manager (HCM) of ``static_resources.listeners[].filter_chains[]
.filters[]`` gives its stream idle and delayed close timeouts, its stream cap
(``common_http_protocol_options.max_stream_duration``) and what its HTTP filters do (a
compressor's content types, the buffer filter's request limit) to each route of its inline
``route_config``: one route per virtual host domain and route entry, with the entry's
``route`` timeouts on top. An HCM that takes its routes from ``rds`` (or ``scoped_routes``)
gives no routes: they are not in the file.

This module reads the structure (clusters, listeners, virtual hosts, route entries);
``bootstrapsettings`` the values of each HCM and route entry, ``bootstrapcheck`` the keys
Envoy refuses. ``EnvoyRouteSettings.refused`` of each route lists every refusal of its file,
since Envoy serves none of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.bootstrapsettings import SettingsReader
from tokenpath.lint.envoy.protojson import (
    ANY_TYPE_KEY,
    elements,
    field_path,
    filter_config,
    get_field,
    packed_type,
    proto_integer,
    type_url,
)
from tokenpath.lint.envoy.schema import (
    HCM,
    RETRY_POLICY,
    ROUTE,
    ROUTE_ACTION,
    ROUTE_CONFIGURATION,
    ROUTE_MATCH,
    VIRTUAL_HOST,
)
from tokenpath.lint.kinds import ENVOY_BOOTSTRAP
from tokenpath.lint.llm import llm_reason
from tokenpath.lint.model import (
    Controller,
    EnvoyRoute,
    EnvoyRouteSettings,
    Ignored,
    ObjectRef,
    Ownership,
    Route,
)
from tokenpath.lint.objects import Objects, Service
from tokenpath.lint.yamlnode import NodeKind, YNode

_HCM_FILTER = "envoy.filters.network.http_connection_manager"


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


class _Bootstrap(SettingsReader):
    """Reads one bootstrap: its clusters, then each HCM's routes; collects refusals."""

    def __init__(self, ref: ObjectRef) -> None:
        super().__init__(ref)
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

    def first_port(self, cluster: YNode) -> int | None:
        assignment = get_field(cluster, "load_assignment")
        for locality in elements(get_field(assignment, "endpoints")):
            for lb in elements(get_field(locality, "lb_endpoints")):
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
                config = filter_config(item, "HttpConnectionManager", _HCM_FILTER)
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

    def cluster_name(self, action: YNode, where: str) -> str:
        name = get_field(action, "cluster")
        if name is not None:
            return self.text(name, f"{where}.cluster")
        weighted = elements(field_path(action, "weighted_clusters", "clusters"))
        names = (self.text(get_field(w, "name"), f"{where}.weighted_clusters") for w in weighted)
        return next(names, "")

    def cluster_service(self, cluster: _Cluster | None) -> Service | None:
        """The cluster as the upstream "service" whose name may hint at an LLM server."""
        if cluster is None:
            return None
        line, index = cluster.node.span.line, self.ref.doc_index
        ref = ObjectRef("Cluster", cluster.name, "", self.ref.file, line, index)
        return Service(ref=ref, annotations=(), selector=(), ports=())


def _keys(node: YNode) -> set[str]:
    return {key for key, _ in node.pairs()}


def _matchfield_path(match: YNode | None) -> str:
    for name in ("prefix", "path", "path_separated_prefix"):
        value = get_field(match, name)
        if value is not None and value.kind is NodeKind.SCALAR and value.value:
            return value.value
    regex = field_path(match, "safe_regex", "regex")
    if regex is not None and regex.kind is NodeKind.SCALAR:
        return regex.value
    return "/"
