"""The route graph: host + path -> Service:port -> workload, with owner, LLM reason and
effective settings.

Each Ingress path (and its default backend) of an NGINX-family controller becomes a ``Route``.
Ingresses served by other controllers (Traefik, ALB, ...) give no route and no error. The
settings are computed once per Ingress: NGINX-family annotations apply to all its paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.lint.adapters import effective_settings
from tokenpath.lint.document import InputError
from tokenpath.lint.llm import llm_reason
from tokenpath.lint.model import Controller, Family, NginxRoute, Ownership, Route, RouteSettings
from tokenpath.lint.objects import (
    Backend,
    ConfigMap,
    Ingress,
    IngressPath,
    Objects,
    Service,
    Workload,
    images_of,
)
from tokenpath.lint.ownership import decide_owner, find_controllers


@dataclass(frozen=True, slots=True)
class Target:
    """Where a backend leads: the Service, its port, the workloads behind it."""

    service: Service | None
    workloads: tuple[Workload, ...]
    ports: tuple[int, ...]  # the Service port and the container port it targets, when known


def build_routes(
    objects: Objects, *, controller_hint: Controller | None, all_routes: bool
) -> tuple[tuple[NginxRoute, ...], list[InputError]]:
    """Every route of an NGINX-family Ingress (only LLM routes unless ``all_routes``), sorted
    by file and line, and input problems that concern routing as a whole."""
    controllers = find_controllers(objects)
    if controller_hint is not None and controller_hint.family is not Family.NGINX:
        controller_hint = None  # a hint for Gateway API routes says nothing about Ingresses
    routes: list[NginxRoute] = []
    for ingress in objects.ingresses:
        owner = decide_owner(ingress, objects, controllers, controller_hint)
        if owner is None:
            continue
        settings = effective_settings(ingress, owner, _configmap(objects, owner))
        for host, path in _paths(ingress):
            route = _route(objects, ingress, owner, settings, host, path)
            if all_routes or route.is_llm:
                routes.append(route)
    routes.sort(key=lambda r: (r.obj.file, r.line, r.obj.doc_index))
    return tuple(routes), _default_class_errors(objects)


def _configmap(objects: Objects, owner: Ownership) -> ConfigMap | None:
    if owner.configmap is None:
        return None
    found = objects.configmap(owner.configmap.namespace, owner.configmap.name)
    return found if found is not None and found.ref == owner.configmap else None


def _paths(ingress: Ingress) -> list[tuple[str, IngressPath]]:
    paths = [(rule.host, path) for rule in ingress.rules for path in rule.paths]
    if ingress.default_backend is not None:
        backend = ingress.default_backend
        paths.append(("", IngressPath(path="", path_type="", backend=backend, line=backend.line)))
    return paths


def _route(
    objects: Objects,
    ingress: Ingress,
    owner: Ownership,
    settings: RouteSettings,
    host: str,
    path: IngressPath,
) -> NginxRoute:
    backend = path.backend
    target = resolve_backend(objects, ingress.ref.namespace, backend)
    images = images_of(target.workloads)
    return Route(
        obj=ingress.ref,
        host=host,
        path=path.path or "/",
        service=backend.service if backend is not None else "",
        port=backend.port if backend is not None else "",
        workload=target.workloads[0].ref if target.workloads else None,
        images=images,
        owner=owner,
        llm_reason=llm_reason(
            ingress.annotations,
            str(ingress.ref),
            path.path,
            target.service,
            target.workloads,
            target.ports,
        ),
        settings=settings,
        line=path.line,
    )


def resolve_backend(objects: Objects, namespace: str, backend: Backend | None) -> Target:
    """The Service a backend names (in ``namespace``, the route's), its port, and the
    workloads whose pod labels include the Service's selector."""
    if backend is None or not backend.service:
        return Target(None, (), ())
    service = objects.service(namespace, backend.service)
    if service is None:
        number = backend.port_number
        return Target(None, (), (number,) if number is not None else ())
    workloads = objects.selected_by(service)
    ports: list[int] = []
    service_port = service.port(backend.port)
    if service_port is not None:
        ports.append(service_port.port)
        target = _container_port(service_port.target_port, workloads)
        if target is not None and target not in ports:
            ports.append(target)
    elif backend.port_number is not None:
        ports.append(backend.port_number)
    return Target(service, workloads, tuple(ports))


def _container_port(target: str, workloads: Sequence[Workload]) -> int | None:
    if target.isdigit():
        return int(target)
    for workload in workloads:
        for container in workload.containers:
            for port in container.ports:
                if port.name == target:
                    return port.port
    return None


def _default_class_errors(objects: Objects) -> list[InputError]:
    """Several default IngressClasses: Kubernetes then refuses Ingresses without a class."""
    defaults = [c for c in objects.ingress_classes if c.is_default]
    classless = [i for i in objects.ingresses if not i.class_name]
    if len(defaults) < 2 or not classless:
        return []
    names = ", ".join(c.name for c in defaults)
    return [
        InputError(
            c.ref.file,
            c.ref.line,
            f"IngressClass {c.name}: several IngressClasses are marked default ({names}); "
            "Kubernetes refuses new Ingresses without a class, such as "
            f"{classless[0].ref}",
        )
        for c in defaults[1:]
    ]
