"""Istio VirtualServices (``networking.istio.io``) as Envoy-family routes (FACTS.md §7).

One route per host x ``http`` entry x ``match``. The destination host is a Service: short
(``vllm``, in the VirtualService's namespace), ``vllm.ai`` or ``vllm.ai.svc.cluster.local``.
With weighted destinations, the route names the first that looks like an LLM server (else
the first); the settings are the entry's, the same for every destination.

Settings: Istio sets no route timeout unless ``timeout`` does (FACTS.md §7), ``0s`` also
disables it; ``retries.perTryTimeout`` is each attempt's total cap (none when
``retries.attempts`` is 0: Istio then sets no retry policy). A route has no idle timer of its
own (istio/istio#24565): the HCM's 300 s applies unless an EnvoyFilter changes it
(``envoyfilter.py``). DestinationRule ``connectionPool.http.idleTimeout`` bounds idle pooled
connections only, so it is not read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.backends import Resolved, backend_route, resolved
from tokenpath.lint.envoy.envoyfilter import Proxies, apply_envoy_filters
from tokenpath.lint.envoy.envoypatches import EnvoyFilter, read_envoy_filters
from tokenpath.lint.envoy.reader import ISTIO_GROUP, ObjectReader, objects_of
from tokenpath.lint.envoy.values import (
    default,
    envoy_defaults,
    fact_detail,
    field_source,
    parse_go_duration,
    with_ignored,
    written,
)
from tokenpath.lint.model import (
    Controller,
    EnvoyRoute,
    EnvoyRouteSettings,
    FixTarget,
    Ignored,
    ObjectRef,
    Ownership,
    Setting,
)
from tokenpath.lint.objects import Backend, Entry, Objects
from tokenpath.lint.yamlnode import YNode

_NO_TIMEOUT = fact_detail(Controller.ISTIO, "http.timeout")
_CLUSTER_SUFFIXES = (".svc.cluster.local", ".svc")


@dataclass(frozen=True, slots=True)
class _Match:
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class _Destination:
    backend: Backend
    namespace: str


def virtual_service_routes(
    objects: Objects, controller_hint: Controller | None
) -> tuple[list[EnvoyRoute], list[InputError]]:
    """Every route of every VirtualService (the kind says Istio: ``controller_hint`` is not
    needed)."""
    filters, errors = objects.view(read_envoy_filters)
    reader = _Reader()
    routes: list[EnvoyRoute] = []
    for ref, root in objects_of(objects, "VirtualService", ISTIO_GROUP):
        reader.at(ref)
        routes.extend(reader.virtual_service(objects, filters, ref, root))
    return routes, [*errors, *reader.errors]


def base_settings() -> EnvoyRouteSettings:
    """What an Istio route starts from: Envoy's defaults without a route timeout."""
    return replace(envoy_defaults("Istio"), route_timeout=default(math.inf, _NO_TIMEOUT))


class _Reader(ObjectReader):
    def virtual_service(
        self, objects: Objects, filters: Sequence[EnvoyFilter], ref: ObjectRef, root: YNode
    ) -> list[EnvoyRoute]:
        annotations = self.annotations_of(root)
        spec = self.map(root.get("spec"), "spec")
        if spec is None:
            return []
        hosts = self.strings(spec.get("hosts"), "spec.hosts")
        gateways = self.strings(spec.get("gateways"), "spec.gateways")
        owner = Ownership(Controller.ISTIO, "", _reason(gateways))
        proxies = _proxies(gateways, ref.namespace)
        routes: list[EnvoyRoute] = []
        for index, element in enumerate(self.seq(spec.get("http"), "spec.http")):
            where = f"spec.http[{index}]"
            entry = self.map(element, where)
            if entry is None:
                continue
            destinations = self.destinations(entry, where, ref.namespace)
            if not destinations:
                continue  # a redirect, a direct response or a delegate: no backend here
            settings = apply_envoy_filters(
                self.settings(ref, entry, where), filters, ref.namespace, proxies=proxies
            )
            for match in self.matches(entry, where):
                # Resolved once per match: the backend does not depend on the host.
                choices = [_resolve(objects, ref, annotations, match, d) for d in destinations]
                for host in hosts or [""]:
                    at = ("" if host == "*" else host, match.path, match.line)
                    routes.append(backend_route(ref, owner, settings, at, choices))
        return routes

    def strings(self, node: YNode | None, where: str) -> list[str]:
        texts = (self.text(element, f"{where}[]") for element in self.seq(node, where))
        return [text for text in texts if text]

    def matches(self, entry: YNode, where: str) -> list[_Match]:
        found = []
        for index, element in enumerate(self.seq(entry.get("match"), f"{where}.match")):
            at = f"{where}.match[{index}]"
            match = self.map(element, at)
            if match is None:
                continue
            uri = self.map(match.get("uri"), f"{at}.uri")
            path = ""
            for kind in ("prefix", "exact", "regex"):
                node = uri.get(kind) if uri is not None else None
                if node is not None:
                    path = self.text(node, f"{at}.uri.{kind}")
                    break
            found.append(_Match(path or "/", match.span.line))
        return found or [_Match("/", entry.span.line)]

    def destinations(self, entry: YNode, where: str, namespace: str) -> list[_Destination]:
        found = []
        for index, element in enumerate(self.seq(entry.get("route"), f"{where}.route")):
            at = f"{where}.route[{index}]"
            route = self.map(element, at)
            destination = self.map(route.get("destination"), f"{at}.destination") if route else None
            if destination is None:
                continue
            host = self.text(destination.get("host"), f"{at}.destination.host")
            port = self.map(destination.get("port"), f"{at}.destination.port")
            number = (
                self.integer(port.get("number"), f"{at}.destination.port.number") if port else None
            )
            name, service_namespace = _service_of(host, namespace)
            if not name:
                continue
            backend = Backend(name, "" if number is None else str(number), destination.span.line)
            found.append(_Destination(backend, service_namespace))
        return found

    def settings(self, ref: ObjectRef, entry: YNode, where: str) -> EnvoyRouteSettings:
        settings = replace(
            base_settings(),
            fix_target=FixTarget(ref, entry, (("route_timeout", ("timeout",)),)),
        )
        timeout = entry.get("timeout")
        if timeout is not None:
            route_timeout = self.duration(ref, timeout, f"{where}.timeout", settings.route_timeout)
            settings = replace(settings, route_timeout=route_timeout)
        retries = self.map(entry.get("retries"), f"{where}.retries")
        per_try = retries.get("perTryTimeout") if retries is not None else None
        if retries is None or per_try is None:
            return settings
        attempts = self.integer(retries.get("attempts"), f"{where}.retries.attempts")
        key = f"{where}.retries.perTryTimeout"
        if attempts == 0:
            reason = (
                "retries.attempts is 0, so Istio sets no retry policy and perTryTimeout does "
                "not apply"
            )
            source = field_source(ref, key, per_try)
            ignored = Ignored(source, per_try.text() or "", reason)
            return replace(
                settings, backend_timeout=with_ignored(settings.backend_timeout, ignored)
            )
        backend_timeout = self.duration(ref, per_try, key, settings.backend_timeout)
        return replace(settings, backend_timeout=backend_timeout)

    def duration(
        self, ref: ObjectRef, node: YNode, key: str, previous: Setting[float]
    ) -> Setting[float]:
        """An Istio duration written at ``key``: ``0s`` disables the timer; a value that does
        not parse is kept as ignored (Istio's validation refuses the VirtualService)."""
        text = self.text(node, key)
        if not text:
            return previous
        source = field_source(ref, key, node)
        try:
            seconds = parse_go_duration(text)
        except ValueError as error:
            reason = f"{error}; Istio's validation refuses the VirtualService"
            return with_ignored(previous, Ignored(source, text, reason))
        return written(previous, seconds or math.inf, source, text)


def _service_of(host: str, namespace: str) -> tuple[str, str]:
    """The Service name and namespace an Istio destination host names. Hosts outside the
    cluster domain (ServiceEntries) are kept whole and match no Service."""
    for suffix in _CLUSTER_SUFFIXES:
        if host.endswith(suffix):
            host = host[: -len(suffix)]
            break
    parts = host.split(".")
    if len(parts) == 1:
        return host, namespace
    if len(parts) == 2:
        return parts[0], parts[1]
    return host, namespace


def _reason(gateways: Sequence[str]) -> str:
    if not gateways:
        return "VirtualService (Istio), mesh sidecars"
    return f"VirtualService (Istio), gateways {', '.join(gateways)}"


def _proxies(gateways: Sequence[str], namespace: str) -> Proxies:
    """Which proxies serve the VirtualService: its gateways (``ns/name`` or a name in its own
    namespace) and, when it lists none or ``mesh``, the sidecars."""
    named = [g for g in gateways if g != "mesh"]
    spaces = tuple(dict.fromkeys(g.split("/", 1)[0] if "/" in g else namespace for g in named))
    return Proxies(gateway_namespaces=spaces, sidecars=not gateways or "mesh" in gateways)


def _resolve(
    objects: Objects,
    ref: ObjectRef,
    annotations: Sequence[Entry],
    match: _Match,
    destination: _Destination,
) -> Resolved:
    backend = destination.backend
    service = objects.service(destination.namespace, backend.service)
    if not backend.port and service is not None and len(service.ports) == 1:
        backend = replace(backend, port=str(service.ports[0].port))  # Istio uses the only port
    return resolved(objects, destination.namespace, ref, annotations, match.path, backend)
