"""Typed Kubernetes objects read from Documents: the kinds the NGINX-family lint needs.

Ingress, IngressClass, Service, workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob, Pod) and ConfigMap become frozen values that keep the
line of every field a rule or fix points at. Other kinds pass through untouched as their
``ObjectRef``. A malformed field of a known kind is an ``InputError`` (file:line) and the
field is left out; the rest of the object is still read. Nothing here raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tokenpath.lint.document import Document, InputError
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.yamlnode import NodeKind, YNode

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
        return _find(self.annotations, key)


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
        return _find(self.data, key)


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


def _find(entries: tuple[Entry, ...], key: str) -> Entry | None:
    return next((e for e in entries if e.key == key), None)


# --- parsing --------------------------------------------------------------------------------


def parse_objects(
    documents: Sequence[Document], texts: Mapping[str, str]
) -> tuple[Objects, list[InputError]]:
    """Typed objects from loaded documents. ``texts`` maps each file to its whole text, which
    every ``ObjectRef`` keeps for fixes. Documents without a map root or a ``kind`` were
    already reported by the loader and are skipped."""
    reader = _Reader()
    ingresses: list[Ingress] = []
    classes: list[IngressClass] = []
    services: list[Service] = []
    workloads: list[Workload] = []
    configmaps: list[ConfigMap] = []
    others: list[ObjectRef] = []
    for doc in documents:
        root = doc.root
        kind_node = root.get("kind")
        kind = kind_node.text() if kind_node is not None else None
        if root.kind is not NodeKind.MAP or not kind:
            continue
        ref = _ref(doc, kind, texts)
        reader.file, reader.obj = doc.file, str(ref)
        if kind == "Ingress":
            ingresses.append(reader.ingress(ref, root))
        elif kind == "IngressClass":
            classes.append(reader.ingress_class(ref, root))
        elif kind == "Service":
            services.append(reader.service(ref, root))
        elif kind in WORKLOAD_KINDS:
            workloads.append(reader.workload(ref, root))
        elif kind == "ConfigMap":
            configmaps.append(reader.configmap(ref, root))
        else:
            others.append(ref)
    objects = Objects(
        ingresses=tuple(ingresses),
        ingress_classes=tuple(classes),
        services=tuple(services),
        workloads=tuple(workloads),
        configmaps=tuple(configmaps),
        others=tuple(others),
    )
    return objects, reader.errors


def _ref(doc: Document, kind: str, texts: Mapping[str, str]) -> ObjectRef:
    meta = doc.root.get("metadata")
    name = namespace = ""
    if meta is not None and meta.kind is NodeKind.MAP:
        name = _scalar_text(meta.get("name"))
        namespace = _scalar_text(meta.get("namespace"))
    return ObjectRef(
        kind=kind,
        name=name,
        namespace=namespace,
        file=doc.file,
        line=doc.root.span.line,
        doc_index=doc.index,
        helm_source=doc.helm_source,
        node=doc.root,
        text=texts.get(doc.file, ""),
    )


def _scalar_text(node: YNode | None) -> str:
    if node is None:
        return ""
    return node.text() or ""


_NOT_STRING_TAGS = (":int", ":float", ":bool")


class _Reader:
    """Reads fields of one object at a time and collects InputErrors for malformed ones."""

    def __init__(self) -> None:
        self.errors: list[InputError] = []
        self.file = ""
        self.obj = ""

    def error(self, node: YNode, message: str) -> None:
        self.errors.append(InputError(self.file, node.span.line, f"{self.obj}: {message}"))

    # -- generic shapes ---------------------------------------------------------------------

    def map(self, node: YNode | None, where: str) -> YNode | None:
        if node is None or _is_null(node):
            return None
        if node.kind is not NodeKind.MAP:
            self.error(node, f"{where} must be a mapping")
            return None
        return node

    def seq(self, node: YNode | None, where: str) -> tuple[YNode, ...]:
        if node is None or _is_null(node):
            return ()
        if node.kind is not NodeKind.SEQ:
            self.error(node, f"{where} must be a list")
            return ()
        return node.elements

    def text(self, node: YNode | None, where: str) -> str:
        if node is None or _is_null(node):
            return ""
        if node.kind is not NodeKind.SCALAR:
            self.error(node, f"{where} must be a single value")
            return ""
        return node.value

    def integer(self, node: YNode | None, where: str) -> int | None:
        if node is None or _is_null(node):
            return None
        if node.kind is not NodeKind.SCALAR or not node.tag.endswith(":int"):
            self.error(node, f"{where} must be an integer")
            return None
        number = _yaml_int(node.value)
        if number is None:
            self.error(node, f"{where} must be an integer")
        return number

    def int_or_string(self, node: YNode | None, where: str) -> str:
        value = self.text(node, where)
        if node is not None and node.tag.endswith(":int"):
            number = _yaml_int(value)
            return value if number is None else str(number)
        return value

    def string_map(self, node: YNode | None, where: str) -> tuple[Entry, ...]:
        """A map[string]string (annotations, labels, ConfigMap data). Kubernetes accepts only
        strings here: an unquoted number or boolean is reported, and kept as written."""
        mapping = self.map(node, where)
        if mapping is None:
            return ()
        entries = []
        for key, value in mapping.items:
            if value.kind is not NodeKind.SCALAR:
                self.error(value, f"{where}.{key.value} must be a string")
                continue
            if value.tag.endswith(_NOT_STRING_TAGS) and value.style == "":
                self.error(
                    value,
                    f"{where}.{key.value}: {value.value} is not a string and Kubernetes "
                    f'rejects it; quote it ("{value.value}")',
                )
            text = "" if _is_null(value) else value.value
            entries.append(Entry(key=key.value, value=text, line=value.span.line, node=value))
        return tuple(entries)

    def labels(self, node: YNode | None, where: str) -> tuple[tuple[str, str], ...]:
        return tuple((e.key, e.value) for e in self.string_map(node, where))

    def metadata(self, root: YNode) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
        meta = self.map(root.get("metadata"), "metadata")
        if meta is None:
            return (), ()
        annotations = self.string_map(meta.get("annotations"), "metadata.annotations")
        labels = self.string_map(meta.get("labels"), "metadata.labels")
        return annotations, labels

    # -- kinds --------------------------------------------------------------------------------

    def ingress(self, ref: ObjectRef, root: YNode) -> Ingress:
        annotations, labels = self.metadata(root)
        spec = self.map(root.get("spec"), "spec")
        class_name, class_from, class_line = "", "", 0
        field_node = spec.get("ingressClassName") if spec is not None else None
        legacy = _find(annotations, CLASS_ANNOTATION)
        if field_node is not None and self.text(field_node, "spec.ingressClassName"):
            class_name = field_node.value
            class_from, class_line = "spec.ingressClassName", field_node.span.line
            if legacy is not None and legacy.value != class_name:
                # apis/networking/validation: "must match `ingressClassName` when both are
                # specified" (on create)
                self.error(
                    legacy.node,
                    f'annotation {CLASS_ANNOTATION} "{legacy.value}" differs from '
                    f'spec.ingressClassName "{class_name}"; Kubernetes rejects the Ingress: '
                    "remove the annotation",
                )
        elif legacy is not None and legacy.value:
            class_name = legacy.value
            class_from, class_line = f"annotation {CLASS_ANNOTATION}", legacy.line
        rules: list[IngressRule] = []
        default_backend = None
        if spec is not None:
            for i, rule in enumerate(self.seq(spec.get("rules"), "spec.rules")):
                parsed = self.ingress_rule(rule, f"spec.rules[{i}]")
                if parsed is not None:
                    rules.append(parsed)
            backend_node = spec.get("defaultBackend") or spec.get("backend")
            default_backend = self.backend(backend_node, "spec.defaultBackend")
        return Ingress(
            ref=ref,
            annotations=annotations,
            labels=labels,
            class_name=class_name,
            class_from=class_from,
            class_line=class_line,
            rules=tuple(rules),
            default_backend=default_backend,
        )

    def ingress_rule(self, node: YNode, where: str) -> IngressRule | None:
        rule = self.map(node, where)
        if rule is None:
            return None
        host = self.text(rule.get("host"), f"{where}.host")
        http = self.map(rule.get("http"), f"{where}.http")
        paths: list[IngressPath] = []
        if http is not None:
            for j, entry in enumerate(self.seq(http.get("paths"), f"{where}.http.paths")):
                item = self.map(entry, f"{where}.http.paths[{j}]")
                if item is None:
                    continue
                at = f"{where}.http.paths[{j}]"
                paths.append(
                    IngressPath(
                        path=self.text(item.get("path"), f"{at}.path"),
                        path_type=self.text(item.get("pathType"), f"{at}.pathType"),
                        backend=self.backend(item.get("backend"), f"{at}.backend"),
                        line=item.span.line,
                    )
                )
        return IngressRule(host=host, paths=tuple(paths), line=rule.span.line)

    def backend(self, node: YNode | None, where: str) -> Backend | None:
        backend = self.map(node, where)
        if backend is None:
            return None
        service = self.map(backend.get("service"), f"{where}.service")
        if service is not None:  # networking.k8s.io/v1
            name = self.text(service.get("name"), f"{where}.service.name")
            port = self.map(service.get("port"), f"{where}.service.port")
            port_text = ""
            if port is not None:
                number = self.integer(port.get("number"), f"{where}.service.port.number")
                port_text = str(number) if number is not None else ""
                port_text = port_text or self.text(port.get("name"), f"{where}.service.port.name")
            return Backend(service=name, port=port_text, line=backend.span.line)
        if backend.get("serviceName") is not None:  # extensions/v1beta1, networking/v1beta1
            return Backend(
                service=self.text(backend.get("serviceName"), f"{where}.serviceName"),
                port=self.int_or_string(backend.get("servicePort"), f"{where}.servicePort"),
                line=backend.span.line,
            )
        if backend.get("resource") is None:
            self.error(backend, f"{where} names neither a service nor a resource")
        return None

    def ingress_class(self, ref: ObjectRef, root: YNode) -> IngressClass:
        annotations, _ = self.metadata(root)
        spec = self.map(root.get("spec"), "spec")
        controller_node = spec.get("controller") if spec is not None else None
        default = _find(annotations, DEFAULT_CLASS_ANNOTATION)
        return IngressClass(
            ref=ref,
            annotations=annotations,
            controller=self.text(controller_node, "spec.controller"),
            controller_line=controller_node.span.line if controller_node is not None else 0,
            is_default=default is not None and default.value.strip().lower() == "true",
        )

    def service(self, ref: ObjectRef, root: YNode) -> Service:
        annotations, _ = self.metadata(root)
        spec = self.map(root.get("spec"), "spec")
        selector: tuple[tuple[str, str], ...] = ()
        ports: list[ServicePort] = []
        if spec is not None:
            selector = self.labels(spec.get("selector"), "spec.selector")
            for i, node in enumerate(self.seq(spec.get("ports"), "spec.ports")):
                item = self.map(node, f"spec.ports[{i}]")
                if item is None:
                    continue
                number = self.integer(item.get("port"), f"spec.ports[{i}].port")
                if number is None:
                    if item.get("port") is None:
                        self.error(item, f"spec.ports[{i}] has no port")
                    continue
                target = self.int_or_string(item.get("targetPort"), f"spec.ports[{i}].targetPort")
                ports.append(
                    ServicePort(
                        name=self.text(item.get("name"), f"spec.ports[{i}].name"),
                        port=number,
                        target_port=target or str(number),
                        line=item.span.line,
                    )
                )
        return Service(ref=ref, annotations=annotations, selector=selector, ports=tuple(ports))

    def workload(self, ref: ObjectRef, root: YNode) -> Workload:
        annotations, labels = self.metadata(root)
        if ref.kind == "Pod":
            pod_labels = tuple((e.key, e.value) for e in labels)
            pod_spec, where = self.map(root.get("spec"), "spec"), "spec"
        else:
            template_path: tuple[str, ...] = ("spec", "template")
            if ref.kind == "CronJob":
                template_path = ("spec", "jobTemplate", "spec", "template")
            where = ".".join(template_path)
            template = self.map(root.path(*template_path), where)
            meta = self.map(template.get("metadata"), f"{where}.metadata") if template else None
            pod_labels = self.labels(meta.get("labels"), f"{where}.metadata.labels") if meta else ()
            pod_spec = self.map(template.get("spec"), f"{where}.spec") if template else None
            where = f"{where}.spec"
        containers: list[Container] = []
        if pod_spec is not None:
            for i, node in enumerate(self.seq(pod_spec.get("containers"), f"{where}.containers")):
                container = self.container(node, f"{where}.containers[{i}]")
                if container is not None:
                    containers.append(container)
        return Workload(
            ref=ref, annotations=annotations, pod_labels=pod_labels, containers=tuple(containers)
        )

    def container(self, node: YNode, where: str) -> Container | None:
        item = self.map(node, where)
        if item is None:
            return None
        image_node = item.get("image")
        ports: list[ContainerPort] = []
        for i, port_node in enumerate(self.seq(item.get("ports"), f"{where}.ports")):
            port = self.map(port_node, f"{where}.ports[{i}]")
            if port is None:
                continue
            number = self.integer(port.get("containerPort"), f"{where}.ports[{i}].containerPort")
            if number is not None:
                name = self.text(port.get("name"), f"{where}.ports[{i}].name")
                ports.append(ContainerPort(name=name, port=number, line=port.span.line))
        return Container(
            name=self.text(item.get("name"), f"{where}.name"),
            image=self.text(image_node, f"{where}.image"),
            image_line=image_node.span.line if image_node is not None else item.span.line,
            command=self.words(item.get("command"), f"{where}.command"),
            args=self.words(item.get("args"), f"{where}.args"),
            ports=tuple(ports),
        )

    def words(self, node: YNode | None, where: str) -> tuple[str, ...]:
        return tuple(self.text(e, f"{where}[{i}]") for i, e in enumerate(self.seq(node, where)))

    def configmap(self, ref: ObjectRef, root: YNode) -> ConfigMap:
        annotations, _ = self.metadata(root)
        return ConfigMap(
            ref=ref, annotations=annotations, data=self.string_map(root.get("data"), "data")
        )


def _is_null(node: YNode) -> bool:
    return node.kind is NodeKind.SCALAR and node.tag.endswith(":null")


def _yaml_int(text: str) -> int | None:
    """A YAML integer's value: decimal, 0x/0o/0b, YAML 1.1 octal (``010``) and ``_`` groups."""
    cleaned = text.replace("_", "")
    try:
        return int(cleaned, 0)
    except ValueError:
        pass
    try:
        return int(cleaned, 8) if cleaned.lstrip("+-").startswith("0") else int(cleaned)
    except ValueError:
        return None
