"""Suppression by the tokenpath.dev/ignore annotation, per object; unused ones are reported."""

from __future__ import annotations

from tokenpath.lint.document import SourceText
from tokenpath.lint.finding import Category, Finding, Severity
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.objects import Objects
from tokenpath.lint.suppress import apply_suppressions, parse_suppression, suppressions

TEXT = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: chat
  namespace: ai
  annotations:
    tokenpath.dev/ignore: "TP201, TP101: long-poll route, timeout intended"
spec:
  rules:
    - host: llm.example.com
      http:
        paths:
          - path: /v1
            backend: {service: {name: vllm, port: {number: 80}}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  annotations:
    tokenpath.dev/ignore: "TP301 # gzip is reviewed, bogus"
data: {use-gzip: "true"}
---
apiVersion: v1
kind: Service
metadata: {name: vllm, namespace: ai}
"""


def load() -> Objects:
    documents, _ = load_documents(SourceText("in.yaml", TEXT))
    objects, _ = parse_objects(documents, {"in.yaml": TEXT})
    return objects


def finding(code: str, obj: ObjectRef, route: str = "") -> Finding:
    return Finding(
        code=code,
        name="x",
        category=Category.INFO,
        severity=Severity.WARNING,
        message="m",
        object=obj,
        line=obj.line,
        route=route,
    )


def test_parse_forms() -> None:
    ref = ObjectRef("Ingress", "a", "", "f", 1, 0)
    parsed = parse_suppression(ref, "TP201,tp101: long-poll route", 7)
    assert (parsed.codes, parsed.reason, parsed.line) == (("TP201", "TP101"), "long-poll route", 7)
    parsed = parse_suppression(ref, "TP201 TP203 # reason here", 1)
    assert (parsed.codes, parsed.reason) == (("TP201", "TP203"), "reason here")
    parsed = parse_suppression(ref, "TP201", 1)
    assert (parsed.codes, parsed.reason, parsed.invalid) == (("TP201",), "", ())
    assert parse_suppression(ref, "TP201, buffering", 1).invalid == ("buffering",)


def test_suppressions_read_the_annotation_with_its_line() -> None:
    objects = load()
    found = suppressions(objects.ingresses[0].ref)
    assert found is not None
    assert found.codes == ("TP201", "TP101")
    assert found.reason == "long-poll route, timeout intended"
    assert found.line == 7
    assert suppressions(objects.services[0].ref) is None


def test_apply_per_object_and_via_the_routes_ingress() -> None:
    objects = load()
    ingress = objects.ingresses[0].ref
    configmap = objects.configmaps[0].ref
    service = objects.services[0].ref
    on_ingress = finding("TP201", ingress, "llm.example.com/v1")
    # a value from the controller ConfigMap: the finding points at the ConfigMap, but the
    # route's Ingress suppresses TP101
    from_configmap = finding("TP101", configmap, "llm.example.com/v1")
    on_configmap = finding("TP301", configmap, "llm.example.com/v1")
    kept_one = finding("TP202", ingress, "llm.example.com/v1")
    elsewhere = finding("TP201", service)
    kept, suppressed, unused = apply_suppressions(
        [on_ingress, from_configmap, on_configmap, kept_one, elsewhere], objects
    )
    assert kept == [kept_one, elsewhere]
    assert suppressed == [on_ingress, from_configmap, on_configmap]
    assert unused == []


def test_unused_suppressions_and_bad_codes_are_reported() -> None:
    objects = load()
    kept, suppressed, problems = apply_suppressions([], objects)
    assert (kept, suppressed) == ([], [])
    messages = sorted(str(p) for p in problems)
    assert messages == [
        "in.yaml:22: ConfigMap/ingress-nginx/ingress-nginx-controller: tokenpath.dev/ignore: "
        "TP301 matches no finding on this object; remove it",
        "in.yaml:7: Ingress/ai/chat: tokenpath.dev/ignore: TP101 matches no finding on this "
        "object; remove it",
        "in.yaml:7: Ingress/ai/chat: tokenpath.dev/ignore: TP201 matches no finding on this "
        "object; remove it",
    ]
