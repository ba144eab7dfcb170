"""Contour HTTPProxies (``projectcontour.io/v1``) as Envoy-family routes (FACTS.md §8).

One route per ``spec.routes[]`` entry, on ``spec.virtualhost.fqdn`` (a child HTTPProxy has
none: its host is left open). ``spec.includes`` is not followed, so an included proxy's
routes lack the parent's host and path prefix. With several ``services``, the route names
the first that looks like an LLM server (else the first).

Timeouts are a Go duration or ``infinity``/``infinite`` (no timer). Contour reads ``0s`` as
unset, so Envoy's default stays (15 s route timeout: the classic SSE cut, contour#3692); such a
value is kept as an ``Ignored`` entry of the setting, as is one that does not parse.
``timeoutPolicy.response`` is the route timeout (a total), ``timeoutPolicy.idle`` the route
idle timeout, ``retryPolicy.perTryTimeout`` each attempt's total cap. ``idleConnection``
bounds idle upstream connections only, and Contour's global ``timeouts`` (its config file)
are not read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.backends import backend_route, resolved
from tokenpath.lint.envoy.reader import CONTOUR_GROUP, ObjectReader, objects_of
from tokenpath.lint.envoy.values import (
    default,
    envoy_defaults,
    fact_detail,
    fact_seconds,
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
from tokenpath.lint.objects import Backend, Objects
from tokenpath.lint.yamlnode import YNode

_RESPONSE = "timeoutPolicy.response"
_OWNER = "HTTPProxy (Contour)"
_INFINITE = ("infinity", "infinite")
# (EnvoyRouteSettings name, keys below the route, what applies when unset), in this order:
# route_timeout, idle_timeout, backend_timeout.
_FIELDS = (
    ("route_timeout", ("timeoutPolicy", "response"), "Envoy's 15s route timeout"),
    ("idle_timeout", ("timeoutPolicy", "idle"), "the HCM's 300s stream idle timeout"),
    ("backend_timeout", ("retryPolicy", "perTryTimeout"), "no per-try timeout"),
)
_FIX_PATHS = tuple((name, keys) for name, keys, _ in _FIELDS)


@dataclass(frozen=True, slots=True)
class _Path:
    path: str
    line: int


def contour_routes(
    objects: Objects, controller_hint: Controller | None
) -> tuple[list[EnvoyRoute], list[InputError]]:
    """Every route of every HTTPProxy (the kind says Contour: ``controller_hint`` is not
    needed)."""
    reader = _Reader()
    routes: list[EnvoyRoute] = []
    for ref, root in objects_of(objects, "HTTPProxy", CONTOUR_GROUP):
        reader.at(ref)
        routes.extend(reader.http_proxy(objects, ref, root))
    return routes, reader.errors


def base_settings() -> EnvoyRouteSettings:
    """What a Contour route starts from: Envoy's defaults."""
    defaults = envoy_defaults("Contour")
    return replace(
        defaults,
        route_timeout=default(
            fact_seconds(Controller.CONTOUR, _RESPONSE), fact_detail(Controller.CONTOUR, _RESPONSE)
        ),
    )


def parse_contour_timeout(text: str) -> float:
    """A Contour timeout: ``infinity``/``infinite`` (no timer) or a Go duration. ``0s`` is
    returned as 0, which Contour reads as unset."""
    if text in _INFINITE:
        return math.inf
    return parse_go_duration(text)


class _Reader(ObjectReader):
    def http_proxy(self, objects: Objects, ref: ObjectRef, root: YNode) -> list[EnvoyRoute]:
        annotations = self.annotations_of(root)
        spec = self.map(root.get("spec"), "spec")
        if spec is None:
            return []
        virtualhost = self.map(spec.get("virtualhost"), "spec.virtualhost")
        fqdn = ""
        if virtualhost is not None:
            fqdn = self.text(virtualhost.get("fqdn"), "spec.virtualhost.fqdn")
        owner = Ownership(Controller.CONTOUR, "", _OWNER)
        routes: list[EnvoyRoute] = []
        for index, element in enumerate(self.seq(spec.get("routes"), "spec.routes")):
            where = f"spec.routes[{index}]"
            entry = self.map(element, where)
            if entry is None:
                continue
            backends = self.services(entry, where)
            if not backends:
                continue  # a redirect or direct response: no backend
            settings = self.settings(ref, entry, where)
            path = self.path(entry, where)
            choices = [
                resolved(objects, ref.namespace, ref, annotations, path.path, b) for b in backends
            ]
            at = (fqdn, path.path, path.line)
            routes.append(backend_route(ref, owner, settings, at, choices))
        return routes

    def path(self, entry: YNode, where: str) -> _Path:
        for index, element in enumerate(self.seq(entry.get("conditions"), f"{where}.conditions")):
            condition = self.map(element, f"{where}.conditions[{index}]")
            if condition is None:
                continue
            for kind in ("prefix", "exact"):
                node = condition.get(kind)
                if node is not None:
                    text = self.text(node, f"{where}.conditions[{index}].{kind}")
                    return _Path(text or "/", condition.span.line)
        return _Path("/", entry.span.line)

    def services(self, entry: YNode, where: str) -> list[Backend]:
        found = []
        for index, element in enumerate(self.seq(entry.get("services"), f"{where}.services")):
            at = f"{where}.services[{index}]"
            service = self.map(element, at)
            if service is None:
                continue
            name = self.text(service.get("name"), f"{at}.name")
            port = self.integer(service.get("port"), f"{at}.port")
            if name:
                found.append(Backend(name, "" if port is None else str(port), service.span.line))
        return found

    def settings(self, ref: ObjectRef, entry: YNode, where: str) -> EnvoyRouteSettings:
        base = replace(base_settings(), fix_target=FixTarget(ref, entry, _FIX_PATHS))
        policies = {
            parent: self.map(entry.get(parent), f"{where}.{parent}")
            for parent in ("timeoutPolicy", "retryPolicy")
        }
        values = []
        previous_values = (base.route_timeout, base.idle_timeout, base.backend_timeout)
        for (_, (parent, key), fallback), previous in zip(_FIELDS, previous_values, strict=True):
            policy = policies[parent]
            node = policy.get(key) if policy is not None else None
            if node is None:
                values.append(previous)
                continue
            values.append(self.timeout(ref, node, f"{where}.{parent}.{key}", previous, fallback))
        return replace(
            base, route_timeout=values[0], idle_timeout=values[1], backend_timeout=values[2]
        )

    def timeout(
        self, ref: ObjectRef, node: YNode, key: str, previous: Setting[float], fallback: str
    ) -> Setting[float]:
        text = self.text(node, key)
        if not text:
            return previous
        source = field_source(ref, key, node)
        try:
            seconds = parse_contour_timeout(text)
        except ValueError as error:
            reason = (
                f'{error} or "infinity"; the HTTPProxy CRD refuses it, and Contour would not '
                f"apply it: {fallback} stays"
            )
            return with_ignored(previous, Ignored(source, text, reason))
        if seconds == 0:
            reason = (
                f'Contour reads "{text}" as unset, so {fallback} applies; use "infinity" to '
                "turn the timer off (FACTS.md §8)"
            )
            return with_ignored(previous, Ignored(source, text, reason))
        return written(previous, seconds, source, text)
