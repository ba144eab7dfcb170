"""Rules about nginx behaviour, proven with the real nginx.

Each case lints a manifest, renders the flagged route's effective settings into the
directives the controller would write (``simulate.renderers.nginx.directives_for``), runs
nginx with them in front of the mock and asserts the verdict the rule predicts. Then it
applies the rule's fix, re-lints, renders again and asserts the stream is healthy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tokenpath.fix.loop import fix_sources
from tokenpath.lint.document import SourceText
from tokenpath.lint.pipeline import LintOptions, lint_sources
from tokenpath.lint.policy import Policy
from tokenpath.mock.server import MockHandle
from tokenpath.probe.classify import CutKind, ProbeResult, VerdictKind, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.request import build_request
from tokenpath.simulate.renderers.nginx import directives_for
from tokenpath.simulate.runtime import run_nginx
from tokenpath.stream.dialects import Dialect

pytestmark = pytest.mark.proxy

BACKEND = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm
  namespace: ai
spec:
  selector:
    matchLabels: {app: vllm}
  template:
    metadata:
      labels: {app: vllm}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.3
          ports: [{containerPort: 8000}]
---
apiVersion: v1
kind: Service
metadata:
  name: vllm
  namespace: ai
spec:
  selector: {app: vllm}
  ports: [{port: 8000}]
---
"""


def ingress(class_name: str, annotations: str) -> str:
    return f"""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: llm
  namespace: ai
  annotations:
{annotations}
spec:
  ingressClassName: {class_name}
  rules:
    - host: llm.example.com
      http:
        paths:
          - path: /v1
            pathType: Prefix
            backend:
              service: {{name: vllm, port: {{number: 8000}}}}
"""


NIC_CLASS = """\
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx-inc
spec:
  controller: nginx.org/ingress-controller
"""


INGRESS_NGINX_WITH_GZIP = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  selector:
    matchLabels: {app: ingress-nginx}
  template:
    metadata:
      labels: {app: ingress-nginx}
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v1.12.1
          args:
            - /nginx-ingress-controller
            - --configmap=ingress-nginx/ingress-nginx-controller
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
data:
  use-gzip: "true"
  gzip-types: "application/json text/event-stream"
  proxy-buffering: "on"
"""


@dataclass(frozen=True)
class Case:
    code: str
    manifest: str
    scenario: str
    predicted: tuple[VerdictKind, ...]
    policy: Policy = field(default_factory=Policy)


CASES = [
    Case(
        "TP101",  # F5 NIC buffers by default; a Content-Length upstream is held to the end
        BACKEND + ingress("nginx-inc", '    tokenpath.dev/streaming: "true"') + NIC_CLASS,
        "ttft=50ms;itl=30ms;tokens=12;framing=length",
        (VerdictKind.BUFFERED,),
    ),
    Case(
        "TP102",  # HTTP/1.0 upstream + buffering: close-delimited body held in 4 KB buffers
        BACKEND
        + ingress(
            "nginx",
            '    nginx.ingress.kubernetes.io/proxy-buffering: "on"\n'
            '    nginx.ingress.kubernetes.io/proxy-http-version: "1.0"',
        ),
        "ttft=50ms;itl=30ms;tokens=10",
        (VerdictKind.BUFFERED,),
    ),
    Case(
        "TP201",  # read timeout shorter than the model's silence: the 200 stream is cut
        BACKEND + ingress("nginx", '    nginx.ingress.kubernetes.io/proxy-read-timeout: "1"'),
        "ttft=50ms;itl=20ms;tokens=8;pause=3@1800ms",
        (VerdictKind.CUT,),
        Policy(max_silence_s=3.0),
    ),
    Case(
        # Measured on nginx 1.22.1 (FACTS §1 had it as unverified): gzip on SSE with
        # buffering on holds the whole compressed answer to the end, even from a chunked
        # HTTP/1.1 upstream; with buffering off each event is compressed and flushed.
        "TP301",
        BACKEND + ingress("nginx", '    tokenpath.dev/streaming: "true"') + INGRESS_NGINX_WITH_GZIP,
        "ttft=50ms;itl=30ms;tokens=30",
        (VerdictKind.COMPRESSED, VerdictKind.BUFFERED),
    ),
]


def probe(mock: MockHandle, directives: tuple[tuple[str, str], ...], scenario: str) -> ProbeResult:
    with run_nginx(mock.host, mock.port, directives) as nginx:
        request = build_request(
            f"{nginx.url}/v1/chat/completions",
            dialect=Dialect.OPENAI_CHAT,
            headers=(f"X-Tokenpath-Scenario: {scenario}",),
        )
        return analyse(fetch(request))


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_rule_prediction_holds_on_real_nginx_and_the_fix_streams(
    nginx_binary: str, mock_server: MockHandle, case: Case
) -> None:
    options = LintOptions(policy=case.policy)
    source = SourceText("proof.yaml", case.manifest)
    result = lint_sources([source], options)
    assert not result.errors, result.errors
    assert case.code in {f.code for f in result.findings}
    (route,) = result.routes
    measured = probe(mock_server, directives_for(route.settings), case.scenario)
    assert measured.verdict.kind in case.predicted, measured.verdict.evidence
    if case.code == "TP201":
        assert measured.verdict.cut is not None
        assert measured.verdict.cut.kind is CutKind.IDLE

    fixed = fix_sources([source], options, unsafe=True)
    fixed_text = fixed.texts["proof.yaml"]
    after = lint_sources([SourceText("proof.yaml", fixed_text)], options)
    assert case.code not in {f.code for f in after.findings}
    (fixed_route,) = after.routes
    healthy = probe(mock_server, directives_for(fixed_route.settings), case.scenario)
    assert healthy.verdict.kind is VerdictKind.STREAMING, healthy.verdict.evidence
