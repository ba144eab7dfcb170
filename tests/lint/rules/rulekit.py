"""Hand-built routes for rule unit tests: real YAML objects (so fixes are real text edits) with
settings given explicitly, independent of the adapters' resolution."""

from __future__ import annotations

import dataclasses
from typing import Any

from tokenpath.fix.apply import apply_edits
from tokenpath.fix.edit import Fix
from tokenpath.lint.document import SourceText
from tokenpath.lint.finding import Finding
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import (
    Controller,
    Ignored,
    ObjectRef,
    Ownership,
    Route,
    RouteSettings,
    Setting,
    Source,
    SourceKind,
)
from tokenpath.lint.policy import Policy
from tokenpath.lint.rule import RuleContext

# Codes without a fixture in rules/fixtures, tested elsewhere: TP507 concerns raw Envoy
# bootstrap files, which have no object names to tell cases apart
# (tests/lint/envoy/test_envoy_field_rejected.py, test_envoy_validate.py).
NO_FIXTURE = frozenset({"TP507"})

IN = Controller.INGRESS_NGINX
NIC = Controller.NGINX_INC

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: llm
  namespace: ai
  annotations:
{annotations}
spec:
  ingressClassName: nginx
  rules:
    - host: llm.example.com
      http:
        paths:
          - path: /v1
            pathType: Prefix
            backend:
              service:
                name: vllm
                port:
                  number: 8000
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
data:
{data}
"""


def load_object(text: str, file: str) -> ObjectRef:
    documents, errors = load_documents(SourceText(file=file, text=text))
    assert not errors, errors
    root = documents[0].root
    meta = root.get("metadata")
    assert meta is not None
    name, namespace, kind = meta.get("name"), meta.get("namespace"), root.get("kind")
    return ObjectRef(
        kind=kind.value if kind else "",
        name=name.value if name else "",
        namespace=namespace.value if namespace else "",
        file=file,
        line=root.span.line,
        doc_index=0,
        node=root,
        text=text,
    )


def ingress(annotations: dict[str, str] | None = None) -> ObjectRef:
    lines = [f'    {k}: "{v}"' for k, v in (annotations or {}).items()] or ["    {}"]
    text = INGRESS.format(annotations="\n".join(lines))
    if not annotations:
        text = text.replace("  annotations:\n    {}\n", "")
    return load_object(text, "ingress.yaml")


def configmap(data: dict[str, str]) -> ObjectRef:
    lines = [f'  {k}: "{v}"' for k, v in data.items()]
    return load_object(CONFIGMAP.format(data="\n".join(lines)), "configmap.yaml")


def annotation(obj: ObjectRef, key: str) -> Source:
    return _entry(obj, ("metadata", "annotations"), key, SourceKind.ANNOTATION)


def cm_key(obj: ObjectRef, key: str) -> Source:
    return _entry(obj, ("data",), key, SourceKind.CONFIGMAP)


def _entry(obj: ObjectRef, path: tuple[str, ...], key: str, kind: SourceKind) -> Source:
    assert obj.node is not None
    parent = obj.node.path(*path)
    assert parent is not None
    node = parent.get(key)
    assert node is not None, key
    return Source(kind=kind, key=key, obj=obj, line=node.span.line, node=node)


def default(key: str) -> Source:
    return Source(kind=SourceKind.DEFAULT, key=key, detail="test default")


def written(value: Any, source: Source) -> Setting[Any]:
    assert source.node is not None
    return Setting(value=value, source=source, raw=source.node.value)


def ignored(fallback: Setting[Any], source: Source, reason: str = "does not parse") -> Setting[Any]:
    """``fallback`` in effect, with the value at ``source`` written but ignored."""
    assert source.node is not None
    entry = Ignored(source=source, raw=source.node.value, reason=reason)
    return dataclasses.replace(fallback, ignored=(*fallback.ignored, entry))


def settings(controller: Controller = IN, **overrides: Any) -> RouteSettings:
    nic = controller is NIC
    base = RouteSettings(
        buffering=Setting(nic, default("proxy_buffering")),
        request_buffering=Setting(True, default("proxy_request_buffering")),
        http_version=Setting("1.1", default("proxy_http_version")),
        read_timeout=Setting(60.0, default("proxy_read_timeout")),
        send_timeout=Setting(60.0, default("proxy_send_timeout")),
        connect_timeout=Setting(60.0 if nic else 5.0, default("proxy_connect_timeout")),
        gzip=Setting(False, default("gzip")),
        gzip_types=Setting((), default("gzip_types")),
        brotli=Setting(False, default("brotli")),
        brotli_types=Setting((), default("brotli_types")),
        body_size=Setting(1024 * 1024, default("client_max_body_size")),
        modsecurity=Setting(False, default("modsecurity")),
    )
    return dataclasses.replace(base, **overrides)


def route(
    obj: ObjectRef | None = None,
    controller: Controller = IN,
    configmap_ref: ObjectRef | None = None,
    path: str = "/v1",
    **overrides: Any,
) -> Route:
    obj = obj or ingress()
    return Route(
        obj=obj,
        host="llm.example.com",
        path=path,
        service="vllm",
        port="8000",
        workload=None,
        images=("vllm/vllm-openai:latest",),
        owner=Ownership(controller=controller, version="", reason="test", configmap=configmap_ref),
        llm_reason="test",
        settings=settings(controller, **overrides),
        line=14,
    )


def run(module: Any, r: Route, policy: Policy | None = None) -> list[Finding]:
    return list(module.check(r, RuleContext(policy=policy or Policy())))


def only(module: Any, r: Route, policy: Policy | None = None) -> Finding:
    found = run(module, r, policy)
    assert len(found) == 1, found
    return found[0]


def fixed(obj: ObjectRef, fix: Fix | None) -> str:
    """The object's file text with ``fix`` applied."""
    assert fix is not None
    return apply_edits(obj.text, [e for e in fix.edits if e.file == obj.file])
