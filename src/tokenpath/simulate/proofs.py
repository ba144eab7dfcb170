"""The rule-proof matrix: every rule that predicts proxy behaviour, proven on the real proxy.

Each ``ProofCase`` is a rule's positive fixture: a manifest the rule fires on, a mock scenario
and the verdicts the rule predicts. ``prove_rules`` lints the manifest, renders the flagged
route's effective settings into the directives the controller would write
(``simulate.renderers.nginx.directives_for``), runs the scenario through a real nginx with them
and compares the verdict with the prediction ("fire"). Then it applies the rule's fix
(``fix.loop.fix_sources``, unsafe fixes included), re-lints, renders again and expects the rule
to be quiet and the stream healthy ("fixed"). ``docs/rule-proofs.md`` is generated from the
matrix (``report.proofs``); a row that disagrees is a bug in a rule or a fact.

The scenarios are short enough to run at real time (``time_scale`` 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from tokenpath.errors import ProxyError
from tokenpath.fix.loop import fix_sources
from tokenpath.lint.document import SourceText
from tokenpath.lint.pipeline import LintOptions, LintResult, lint_sources
from tokenpath.lint.policy import Policy
from tokenpath.probe.verdict import CutKind, VerdictKind
from tokenpath.simulate.renderers.nginx import directives_for
from tokenpath.simulate.run import ScenarioRun, simulate_through
from tokenpath.simulate.runtime import RunningProxy, run_nginx
from tokenpath.simulate.scenarios import Scenario

Progress = Callable[[str], None]

PROOF_FILE = "proof.yaml"

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


@dataclass(frozen=True, slots=True)
class ProofCase:
    """A rule's positive fixture: ``manifest`` makes ``code`` fire, and nginx with the route's
    rendered settings turns ``scenario`` (a mock recipe) into one of ``predicted``."""

    code: str
    manifest: str
    scenario: str
    predicted: tuple[VerdictKind, ...]
    policy: Policy = field(default_factory=Policy)
    cut: CutKind | None = None  # the kind of cut predicted, when the rule is about a cut
    why: str = ""

    @property
    def options(self) -> LintOptions:
        return LintOptions(policy=self.policy)

    @property
    def source(self) -> SourceText:
        return SourceText(PROOF_FILE, self.manifest)


PROOF_CASES: tuple[ProofCase, ...] = (
    ProofCase(
        "TP101",
        BACKEND + ingress("nginx-inc", '    tokenpath.dev/streaming: "true"') + NIC_CLASS,
        "ttft=50ms;itl=30ms;tokens=12;framing=length",
        (VerdictKind.BUFFERED,),
        why="F5 NIC buffers by default; a Content-Length upstream is held to the end",
    ),
    ProofCase(
        "TP102",
        BACKEND
        + ingress(
            "nginx",
            '    nginx.ingress.kubernetes.io/proxy-buffering: "on"\n'
            '    nginx.ingress.kubernetes.io/proxy-http-version: "1.0"',
        ),
        "ttft=50ms;itl=30ms;tokens=10",
        (VerdictKind.BUFFERED,),
        why="HTTP/1.0 upstream + buffering: the close-delimited body is held in 4 KB buffers",
    ),
    ProofCase(
        "TP201",
        BACKEND + ingress("nginx", '    nginx.ingress.kubernetes.io/proxy-read-timeout: "1"'),
        "ttft=50ms;itl=20ms;tokens=8;pause=3@1800ms",
        (VerdictKind.CUT,),
        Policy(max_silence_s=3.0),
        CutKind.IDLE,
        why="a read timeout shorter than the model's silence cuts the 200 stream",
    ),
    ProofCase(
        # Measured on nginx 1.22.1 (FACTS §1 had it as unverified): gzip on SSE with
        # buffering on holds the whole compressed answer to the end, even from a chunked
        # HTTP/1.1 upstream; with buffering off each event is compressed and flushed.
        "TP301",
        BACKEND + ingress("nginx", '    tokenpath.dev/streaming: "true"') + INGRESS_NGINX_WITH_GZIP,
        "ttft=50ms;itl=30ms;tokens=30",
        (VerdictKind.COMPRESSED, VerdictKind.BUFFERED),
        why="gzip of SSE with buffering on holds the compressed answer to the end",
    ),
)

#: What the fixed version of every case must measure.
FIXED_PREDICTED: tuple[VerdictKind, ...] = (VerdictKind.STREAMING,)


def case_scenario(case: ProofCase) -> Scenario:
    return Scenario(case.code, case.scenario, case.why or f"{case.code} positive fixture")


def fixed_manifest(case: ProofCase) -> str:
    """The case's manifest after every fix (unsafe ones included) was applied."""
    fixed = fix_sources([case.source], case.options, unsafe=True)
    return fixed.texts[PROOF_FILE]


@dataclass(frozen=True, slots=True)
class ProofRow:
    rule: str
    proxy: str
    version: str
    case: str  # "fire" (the positive fixture) or "fixed" (after the rule's fix)
    predicted: tuple[VerdictKind, ...]
    predicted_cut: CutKind | None
    measured: str  # the verdict, "ERROR" when there was no answer
    measured_cut: CutKind | None
    fired: bool  # whether the rule fired on the manifest of this row
    agrees: bool
    scenario: str
    directives: tuple[tuple[str, str], ...]
    evidence: str = ""  # the probe's evidence, or why there is no measurement
    seconds: float | None = None  # the stream's length as measured

    @property
    def predicted_label(self) -> str:
        text = "|".join(v.value for v in self.predicted)
        return f"{text} ({self.predicted_cut.value})" if self.predicted_cut is not None else text

    @property
    def measured_label(self) -> str:
        if self.measured_cut is not None and self.predicted_cut is not None:
            return f"{self.measured} ({self.measured_cut.value})"
        return self.measured


@dataclass(frozen=True, slots=True)
class ProofMatrix:
    rows: tuple[ProofRow, ...]

    @property
    def all_agree(self) -> bool:
        return bool(self.rows) and all(row.agrees for row in self.rows)


def prove_rules(
    progress: Progress = lambda _message: None,
    cases: tuple[ProofCase, ...] = PROOF_CASES,
) -> ProofMatrix:
    """Run every case and its fixed version through a real nginx; one row each."""
    rows: list[ProofRow] = []
    for case in cases:
        progress(f"{case.code}: the positive fixture")
        rows.append(
            _row(case, "fire", case.manifest, case.predicted, case.cut, progress, expect_fired=True)
        )
        progress(f"{case.code}: the fixed version")
        rows.append(
            _row(
                case,
                "fixed",
                fixed_manifest(case),
                FIXED_PREDICTED,
                None,
                progress,
                expect_fired=False,
            )
        )
    return ProofMatrix(tuple(rows))


def _row(
    case: ProofCase,
    which: str,
    manifest: str,
    predicted: tuple[VerdictKind, ...],
    cut: CutKind | None,
    progress: Progress,
    *,
    expect_fired: bool,
) -> ProofRow:
    result = lint_sources([SourceText(PROOF_FILE, manifest)], case.options)
    fired = case.code in {f.code for f in result.findings}
    row = ProofRow(
        rule=case.code,
        proxy="nginx",
        version="",
        case=which,
        predicted=predicted,
        predicted_cut=cut,
        measured="ERROR",
        measured_cut=None,
        fired=fired,
        agrees=False,
        scenario=case.scenario,
        directives=(),
    )
    problem = _lint_problem(result)
    if problem:
        return dataclasses.replace(row, evidence=problem)
    directives = directives_for(result.routes[0].settings)
    row = dataclasses.replace(row, directives=directives)

    def start(host: str, port: int) -> AbstractContextManager[RunningProxy]:
        return run_nginx(host, port, directives)

    try:
        report = simulate_through(
            start, directives, directives, (case_scenario(case),), time_scale=1.0, progress=progress
        )
    except ProxyError as exc:
        return dataclasses.replace(row, evidence=str(exc))
    (run,) = report.runs
    kind, measured_cut = _measured(run)
    agrees = (
        fired is expect_fired
        and kind is not None
        and kind in predicted
        and (cut is None or kind is not VerdictKind.CUT or measured_cut is cut)
    )
    evidence = run.error if run.result is None else "; ".join(run.result.verdict.evidence)
    if fired is not expect_fired:
        state = "fires" if fired else "does not fire"
        evidence = f"{case.code} {state} on this manifest. {evidence}"
    return dataclasses.replace(
        row,
        proxy=report.proxy,
        version=report.proxy_version,
        measured=run.verdict,
        measured_cut=measured_cut,
        agrees=agrees,
        evidence=evidence,
        seconds=None if run.result is None else run.result.metrics.e2e_stream_s,
    )


def _measured(run: ScenarioRun) -> tuple[VerdictKind | None, CutKind | None]:
    if run.result is None:
        return None, None
    verdict = run.result.verdict
    return verdict.kind, None if verdict.cut is None else verdict.cut.kind


def _lint_problem(result: LintResult) -> str:
    if result.errors:
        return "; ".join(str(error) for error in result.errors)
    if len(result.routes) != 1:
        return f"expected one LLM route in the fixture, found {len(result.routes)}"
    return ""
