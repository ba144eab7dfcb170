"""The vLLM backend (Deployment + Service ``vllm`` in ``ai``, port 8000) and a pipeline run in
front of it, shared by the Istio and Contour tests (test_istio_routes, test_envoy_filter,
test_contour_routes). Holds no tests."""

from __future__ import annotations

from tokenpath.lint.document import SourceText
from tokenpath.lint.model import EnvoyRoute
from tokenpath.lint.pipeline import LintOptions, LintResult, lint_sources

BACKEND = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm, namespace: ai}
spec:
  selector: {matchLabels: {app: vllm}}
  template:
    metadata: {labels: {app: vllm}}
    spec:
      containers:
        - {name: vllm, image: "vllm/vllm-openai:v0.6.3"}
---
apiVersion: v1
kind: Service
metadata: {name: vllm, namespace: ai}
spec:
  selector: {app: vllm}
  ports: [{port: 8000}]
"""


def lint(file: str, text: str) -> LintResult:
    """The backend, then ``text`` (which starts its own document with ``---``), as ``file``."""
    return lint_sources([SourceText(file=file, text=BACKEND + text)], LintOptions())


def routes_of(file: str, text: str, kind: str) -> list[EnvoyRoute]:
    """The routes ``kind`` objects declare in ``lint(file, text)``, which must read cleanly."""
    result = lint(file, text)
    assert result.errors == ()
    return [r for r in result.routes if r.obj.kind == kind]
