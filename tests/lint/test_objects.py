"""Typed objects from loaded documents: fields, lines, malformed input as errors."""

from __future__ import annotations

from pathlib import Path

from tokenpath.lint.document import InputError, SourceText
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.objects import Objects

FIXTURES = Path(__file__).parent / "fixtures" / "model"


def load(text: str, file: str = "in.yaml") -> tuple[Objects, list[InputError]]:
    documents, errors = load_documents(SourceText(file, text))
    objects, object_errors = parse_objects(documents, {file: text})
    return objects, errors + object_errors


def load_fixture(name: str) -> tuple[Objects, list[InputError]]:
    path = FIXTURES / name
    return load(path.read_text(encoding="utf-8"), str(path))


def test_helm_rendered_objects_keep_kinds_lines_and_sources() -> None:
    objects, errors = load_fixture("helm_ingress_nginx.yaml")
    assert errors == []
    assert [len(objects.ingresses), len(objects.ingress_classes), len(objects.services)] == [
        1,
        1,
        1,
    ]
    assert [w.ref.name for w in objects.workloads] == ["ingress-nginx-controller", "vllm"]
    ingress = objects.ingresses[0]
    assert str(ingress.ref) == "Ingress/ai/chat"
    assert ingress.ref.helm_source == "llm/templates/ingress.yaml"
    assert ingress.ref.text.startswith("---\n# Source: ingress-nginx")
    assert (ingress.class_name, ingress.class_from) == ("nginx", "spec.ingressClassName")
    timeout = ingress.annotation("nginx.ingress.kubernetes.io/proxy-read-timeout")
    assert timeout is not None
    assert (timeout.value, timeout.line) == ("3600s", 97)
    assert timeout.node.span.line == 97
    rule = ingress.rules[0]
    assert rule.host == "llm.example.com"
    first, second = rule.paths
    assert (first.path, first.path_type, first.line) == ("/v1", "Prefix", 111)
    assert first.backend is not None
    assert (first.backend.service, first.backend.port) == ("vllm", "http")
    assert second.backend is not None
    assert second.backend.port_number == 8080


def test_service_workload_configmap_and_class_fields() -> None:
    objects, _ = load_fixture("helm_ingress_nginx.yaml")
    service = objects.services[0]
    assert service.selector == (("app", "vllm"),)
    port = service.port("http")
    assert port is not None
    assert (port.port, port.target_port) == (80, "http")
    assert service.port("80") == port
    vllm = objects.workloads[1]
    assert ("app", "vllm") in vllm.pod_labels
    container = vllm.containers[0]
    assert container.image == "vllm/vllm-openai:v0.6.3"
    assert container.args == ("--model", "meta-llama/Llama-3.1-8B-Instruct")
    assert [(p.name, p.port) for p in container.ports] == [("http", 8000)]
    configmap = objects.configmaps[0]
    entry = configmap.get("proxy-read-timeout")
    assert entry is not None
    assert (entry.value, entry.line) == ("120", 10)
    ingress_class = objects.ingress_classes[0]
    assert (ingress_class.controller, ingress_class.is_default) == ("k8s.io/ingress-nginx", False)


def test_legacy_class_annotation_beta_backend_and_default_backend() -> None:
    objects, errors = load(
        """\
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: old
  annotations:
    kubernetes.io/ingress.class: nginx
spec:
  backend:
    serviceName: fallback
    servicePort: 80
  rules:
    - host: a.example.com
      http:
        paths:
          - backend:
              serviceName: tgi
              servicePort: http
"""
    )
    assert errors == []
    ingress = objects.ingresses[0]
    assert ingress.class_name == "nginx"
    assert ingress.class_from == "annotation kubernetes.io/ingress.class"
    assert ingress.class_line == 6
    path = ingress.rules[0].paths[0]
    assert path.path == ""
    assert path.backend is not None
    assert (path.backend.service, path.backend.port) == ("tgi", "http")
    assert ingress.default_backend is not None
    assert (ingress.default_backend.service, ingress.default_backend.port) == ("fallback", "80")


def test_pod_template_of_every_workload_kind() -> None:
    objects, errors = load(
        """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: batch}}
        spec:
          containers: [{name: c, image: busybox, command: [sh, -c, "echo hi"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: solo, labels: {app: solo}}
spec:
  containers: [{name: c, image: ollama/ollama}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: postgres:16}]
"""
    )
    assert errors == []
    by_name = {w.ref.name: w for w in objects.workloads}
    assert by_name["nightly"].pod_labels == (("app", "batch"),)
    assert by_name["nightly"].containers[0].command == ("sh", "-c", "echo hi")
    assert by_name["solo"].pod_labels == (("app", "solo"),)
    assert by_name["solo"].images == ("ollama/ollama",)
    assert by_name["db"].ref.kind == "StatefulSet"


def test_unknown_kinds_pass_through_untouched() -> None:
    objects, errors = load(
        """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ai}
spec: {anything: [1, 2]}
"""
    )
    assert errors == []
    assert [str(r) for r in objects.others] == ["HTTPRoute/ai/r"]
    assert [str(r) for r in objects.refs()] == ["HTTPRoute/ai/r"]


def test_malformed_fields_are_errors_with_lines_and_the_rest_is_read() -> None:
    objects, errors = load(
        """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: broken
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: 3600
    nginx.ingress.kubernetes.io/proxy-buffering: off
spec:
  rules:
    - host: ok.example.com
      http:
        paths: not-a-list
    - host: fine.example.com
      http:
        paths:
          - path: /
            backend:
              service: {name: s, port: {number: eighty}}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: [app]
  ports:
    - port: "80"
"""
    )
    messages = [str(e) for e in errors]
    assert any(
        m.startswith("in.yaml:6: Ingress/broken:") and 'quote it ("3600")' in m for m in messages
    )
    assert any(m.startswith("in.yaml:7:") and 'quote it ("off")' in m for m in messages)
    assert any(m.startswith("in.yaml:12:") and "paths must be a list" in m for m in messages)
    assert any(
        m.startswith("in.yaml:18:") and "port.number must be an integer" in m for m in messages
    )
    assert any(
        m.startswith("in.yaml:24:") and "spec.selector must be a mapping" in m for m in messages
    )
    assert any(
        m.startswith("in.yaml:26:") and "ports[0].port must be an integer" in m for m in messages
    )
    ingress = objects.ingresses[0]
    # the annotation is kept as written so the rest of the lint still sees it
    timeout = ingress.annotation("nginx.ingress.kubernetes.io/proxy-read-timeout")
    assert timeout is not None
    assert timeout.value == "3600"
    assert [r.host for r in ingress.rules] == ["ok.example.com", "fine.example.com"]
    assert objects.services[0].ports == ()


def test_class_field_and_a_different_legacy_annotation_is_an_error() -> None:
    text = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: both
  annotations:
    kubernetes.io/ingress.class: CLASS
spec:
  ingressClassName: nginx
"""
    _, same = load(text.replace("CLASS", "nginx"))
    assert same == []  # Kubernetes accepts both when they agree
    _, errors = load(text.replace("CLASS", "traefik"))
    assert len(errors) == 1
    assert errors[0].line == 6
    assert 'differs from spec.ingressClassName "nginx"' in errors[0].message


def test_default_ingress_class_annotation() -> None:
    objects, _ = load(
        """\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
"""
    )
    assert objects.ingress_classes[0].is_default
    assert objects.ingress_class("nginx") is objects.ingress_classes[0]


def test_lookup_by_namespace_tolerates_a_missing_namespace() -> None:
    objects, _ = load(
        """\
apiVersion: v1
kind: Service
metadata: {name: vllm}
spec: {selector: {app: vllm}, ports: [{port: 8000}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: ingress-nginx}
data: {a: "1"}
"""
    )
    assert objects.service("ai", "vllm") is not None  # Helm output without namespaces
    assert objects.configmap("ingress-nginx", "cfg") is not None
    assert objects.configmap("other", "cfg") is None
