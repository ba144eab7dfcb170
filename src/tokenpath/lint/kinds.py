"""Turning Documents into the typed objects of ``tokenpath.lint.objects``.

Each kind the NGINX-family lint models is read field by field along its Kubernetes API
schema. A malformed field of a known kind is an ``InputError`` (file:line) and the field
is left out; the rest of the object is still read. Other kinds pass through as their
``ObjectRef``, and so does a raw Envoy bootstrap (kind ``EnvoyBootstrap``, named after its
file). Nothing here raises.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from tokenpath.lint.document import Document, InputError
from tokenpath.lint.fields import FieldReader
from tokenpath.lint.load import is_envoy_bootstrap
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.objects import (
    CLASS_ANNOTATION,
    DEFAULT_CLASS_ANNOTATION,
    WORKLOAD_KINDS,
    Backend,
    ConfigMap,
    Container,
    ContainerPort,
    Entry,
    Ingress,
    IngressClass,
    IngressPath,
    IngressRule,
    Objects,
    Service,
    ServicePort,
    Workload,
    find_entry,
)
from tokenpath.lint.yamlnode import NodeKind, YNode

ENVOY_BOOTSTRAP = "EnvoyBootstrap"  # the kind given to a raw Envoy bootstrap file


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
        if kind_node is None and is_envoy_bootstrap(root):
            others.append(_bootstrap_ref(doc, texts))
            continue
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
    return _object_ref(doc, kind, name, namespace, texts)


def _bootstrap_ref(doc: Document, texts: Mapping[str, str]) -> ObjectRef:
    """An Envoy bootstrap has no name: it is named after its file."""
    name = os.path.basename(doc.file) or doc.file
    return _object_ref(doc, ENVOY_BOOTSTRAP, name, "", texts)


def _object_ref(
    doc: Document, kind: str, name: str, namespace: str, texts: Mapping[str, str]
) -> ObjectRef:
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


class _Reader(FieldReader):
    """Reads each modelled kind with the generic field shapes of ``FieldReader``."""

    def metadata(self, root: YNode) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
        meta = self.map(root.get("metadata"), "metadata")
        if meta is None:
            return (), ()
        annotations = self.string_map(meta.get("annotations"), "metadata.annotations")
        labels = self.string_map(meta.get("labels"), "metadata.labels")
        return annotations, labels

    def ingress(self, ref: ObjectRef, root: YNode) -> Ingress:
        annotations, labels = self.metadata(root)
        spec = self.map(root.get("spec"), "spec")
        class_name, class_from, class_line = "", "", 0
        field_node = spec.get("ingressClassName") if spec is not None else None
        legacy = find_entry(annotations, CLASS_ANNOTATION)
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
        default = find_entry(annotations, DEFAULT_CLASS_ANNOTATION)
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
