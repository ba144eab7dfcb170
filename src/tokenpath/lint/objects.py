"""Typed Kubernetes objects read from Documents: the kinds the NGINX-family lint needs.

Ingress, IngressClass, Service, workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob, Pod) and ConfigMap become frozen values that keep the
line of every field a rule or fix points at. Other kinds pass through untouched as their
``ObjectRef``. ``Objects`` holds them all, with the indexes rules resolve names through;
``tokenpath.lint.kinds`` builds them from Documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from tokenpath.lint.model import ObjectRef
from tokenpath.lint.yamlnode import YNode

_View = TypeVar("_View")

CLASS_ANNOTATION = "kubernetes.io/ingress.class"  # legacy, deprecated since Kubernetes 1.18
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
     "CronJob", "Pod"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    """A string-valued key: an annotation, a label, a ConfigMap data key."""

    key: str
    value: str
    line: int  # line of the value
    node: YNode = field(compare=False, repr=False)  # the value node (fixes edit it)


@dataclass(frozen=True, slots=True)
class Backend:
    service: str  # "" for a resource backend
    port: str  # port number or name as written ("" when missing)
    line: int

    @property
    def port_number(self) -> int | None:
        return int(self.port) if self.port.isdigit() else None


@dataclass(frozen=True, slots=True)
class IngressPath:
    path: str  # as written; "" when not given
    path_type: str
    backend: Backend | None
    line: int  # line of the path entry


@dataclass(frozen=True, slots=True)
class IngressRule:
    host: str  # "" = any host
    paths: tuple[IngressPath, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Ingress:
    ref: ObjectRef
    annotations: tuple[Entry, ...]
    labels: tuple[Entry, ...]
    class_name: str  # "" when neither the field nor the legacy annotation is set
    class_from: str  # "spec.ingressClassName", "annotation kubernetes.io/ingress.class" or ""
    class_line: int
    rules: tuple[IngressRule, ...]
    default_backend: Backend | None

    def annotation(self, key: str) -> Entry | None:
        return find_entry(self.annotations, key)


@dataclass(frozen=True, slots=True)
class IngressClass:
    ref: ObjectRef
    annotations: tuple[Entry, ...]
    controller: str  # spec.controller, e.g. "k8s.io/ingress-nginx"
    controller_line: int
    is_default: bool  # annotation ingressclass.kubernetes.io/is-default-class: "true"

    @property
    def name(self) -> str:
        return self.ref.name


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str
    port: int
    target_port: str  # number or container port name; the port itself when not given
    line: int


@dataclass(frozen=True, slots=True)
class Service:
    ref: ObjectRef
    annotations: tuple[Entry, ...]
    selector: tuple[tuple[str, str], ...]
    ports: tuple[ServicePort, ...]

    def port(self, wanted: str) -> ServicePort | None:
        """The port an Ingress backend names, by number or by name."""
        for port in self.ports:
            if wanted == str(port.port) or (port.name and wanted == port.name):
                return port
        return None


@dataclass(frozen=True, slots=True)
class ContainerPort:
    name: str
    port: int
    line: int


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    image: str
    image_line: int
    command: tuple[str, ...]
    args: tuple[str, ...]
    ports: tuple[ContainerPort, ...]


@dataclass(frozen=True, slots=True)
class Workload:
    """A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod: its pod template."""

    ref: ObjectRef
    annotations: tuple[Entry, ...]
    pod_labels: tuple[tuple[str, str], ...]
    containers: tuple[Container, ...]

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(c.image for c in self.containers if c.image)


@dataclass(frozen=True, slots=True)
class ConfigMap:
    ref: ObjectRef
    annotations: tuple[Entry, ...]
    data: tuple[Entry, ...]

    def get(self, key: str) -> Entry | None:
        return find_entry(self.data, key)


@dataclass(frozen=True, slots=True)
class Objects:
    """Every object of the input, by kind, in input order, with name and label indexes (built
    once, so resolving thousands of routes stays linear)."""

    ingresses: tuple[Ingress, ...] = ()
    ingress_classes: tuple[IngressClass, ...] = ()
    services: tuple[Service, ...] = ()
    workloads: tuple[Workload, ...] = ()
    configmaps: tuple[ConfigMap, ...] = ()
    others: tuple[ObjectRef, ...] = ()  # kinds this package does not model
    _services: dict[str, list[Service]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _configmaps: dict[str, list[ConfigMap]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_label: dict[tuple[str, str], list[Workload]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _views: dict[Callable[[Objects], object], object] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for service in self.services:
            self._services.setdefault(service.ref.name, []).append(service)
        for configmap in self.configmaps:
            self._configmaps.setdefault(configmap.ref.name, []).append(configmap)
        for workload in self.workloads:
            for label in dict(workload.pod_labels).items():
                self._by_label.setdefault(label, []).append(workload)

    def refs(self) -> Iterator[ObjectRef]:
        """Every object's reference, known kinds and others."""
        for group in (self.ingresses, self.ingress_classes, self.services, self.workloads,
                      self.configmaps):  # fmt: skip
            for obj in group:
                yield obj.ref
        yield from self.others

    def view(self, build: Callable[[Objects], _View]) -> _View:
        """``build(self)``, computed once: a typed view of ``others`` that several adapters
        and rules read (the Gateway API objects, the EnvoyFilters). The result is shared, so
        ``build`` must return values nobody mutates."""
        if build not in self._views:
            self._views[build] = build(self)
        return cast(_View, self._views[build])

    def service(self, namespace: str, name: str) -> Service | None:
        return _in_namespace(self._services.get(name, ()), namespace)

    def configmap(self, namespace: str, name: str) -> ConfigMap | None:
        return _in_namespace(self._configmaps.get(name, ()), namespace)

    def ingress_class(self, name: str) -> IngressClass | None:
        return next((c for c in self.ingress_classes if c.ref.name == name), None)

    def selected_by(self, service: Service) -> tuple[Workload, ...]:
        """The workloads whose pod labels include ``service``'s selector, in its namespace."""
        if not service.selector:
            return ()  # endpoints managed by hand, or an ExternalName Service
        wanted = set(service.selector)
        first = service.selector[0]
        return tuple(
            w
            for w in self._by_label.get(first, ())
            if same_namespace(w.ref.namespace, service.ref.namespace)
            and wanted <= set(w.pod_labels)
        )


def images_of(workloads: Sequence[Workload]) -> tuple[str, ...]:
    """The container images of ``workloads``, each once, in order."""
    return tuple(dict.fromkeys(i for w in workloads for i in w.images))


def same_namespace(a: str, b: str) -> bool:
    """Namespaces match when equal, or when either manifest leaves it out (``kubectl apply
    -n``/Helm put both objects into the same namespace)."""
    return a == b or not a or not b


_Named = TypeVar("_Named", Service, ConfigMap)


def _in_namespace(objects: Sequence[_Named], namespace: str) -> _Named | None:
    """Of same-named objects, the one in ``namespace`` (applied last wins), else one whose
    namespace is left open."""
    exact = [o for o in objects if o.ref.namespace == namespace]
    if exact:
        return exact[-1]
    loose = [o for o in objects if same_namespace(o.ref.namespace, namespace)]
    return loose[-1] if loose else None


def find_entry(entries: tuple[Entry, ...], key: str) -> Entry | None:
    """The first entry with ``key``, or None."""
    return next((e for e in entries if e.key == key), None)
