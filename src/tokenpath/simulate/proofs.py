"""The rule-proof matrix: every rule that predicts proxy behaviour, proven on the real proxy.

Each ``ProofCase`` is a rule's positive fixture: a manifest the rule fires on, a mock scenario,
the proxy of the route's family and the verdicts the rule predicts. ``prove_rules`` lints the
manifest, renders the flagged route's effective settings for that proxy (nginx: the directives
the controller would write, ``simulate.renderers.nginx.directives_for``; Envoy: the fields of a
one-route bootstrap, ``simulate.renderers.envoy.envoy_settings_for``), runs the scenario
through the real proxy with them and compares the verdict with the prediction ("fire"). Then
it applies the rule's fix (``fix.loop.fix_sources``, unsafe fixes included), re-lints, renders
again and expects the rule to be quiet and the stream healthy ("fixed"); a rule whose fix is
only advice has no "fixed" row. ``docs/rule-proofs.md`` is generated from the matrix
(``report.proofs``); a row that disagrees is a bug in a rule or a fact.

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
from tokenpath.lint.model import AnyRoute, Family
from tokenpath.lint.pipeline import LintOptions, LintResult, lint_sources
from tokenpath.lint.policy import Policy
from tokenpath.probe.verdict import CutKind, VerdictKind
from tokenpath.simulate.envoy import run_envoy
from tokenpath.simulate.predict_envoy import envoy_fields
from tokenpath.simulate.renderers.envoy import envoy_settings_for
from tokenpath.simulate.renderers.nginx import directives_for
from tokenpath.simulate.run import ScenarioRun, StartProxy, simulate_through
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


def gateway_route(rule_extra: str) -> str:
    """An Envoy Gateway (GatewayClass ``eg``) HTTPRoute to the backend; ``rule_extra`` is
    YAML added to its rule, indented by six spaces."""
    return f"""\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: eg
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: eg
  namespace: ai
spec:
  gatewayClassName: eg
  listeners: [{{name: http, protocol: HTTP, port: 80}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: llm
  namespace: ai
spec:
  parentRefs: [{{name: eg}}]
  hostnames: [llm.example.com]
  rules:
    - matches: [{{path: {{type: PathPrefix, value: /v1}}}}]
      backendRefs: [{{name: vllm, port: 8000}}]
{rule_extra}"""


def http_proxy(route_extra: str) -> str:
    """A Contour HTTPProxy to the backend; ``route_extra`` is YAML added to its route,
    indented by six spaces."""
    return f"""\
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata:
  name: llm
  namespace: ai
spec:
  virtualhost: {{fqdn: llm.example.com}}
  routes:
    - conditions: [{{prefix: /v1}}]
      services: [{{name: vllm, port: 8000}}]
{route_extra}"""


#: A raw Envoy bootstrap whose compressor lists text/event-stream (route timeout off).
ENVOY_BOOTSTRAP_SSE_COMPRESSOR = """\
static_resources:
  listeners:
    - name: main
      address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": HCM_TYPE
                stat_prefix: llm
                route_config:
                  virtual_hosts:
                    - name: llm
                      domains: [llm.example.com]
                      routes:
                        - match: {prefix: /v1}
                          route: {cluster: vllm, timeout: 0s}
                http_filters:
                  - name: envoy.filters.http.compressor
                    typed_config:
                      "@type": COMPRESSOR_TYPE
                      response_direction_config:
                        common_config:
                          content_type: [application/json, text/event-stream]
                      compressor_library:
                        name: gzip
                        typed_config:
                          "@type": GZIP_TYPE
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": ROUTER_TYPE
  clusters:
    - name: vllm
      type: STRICT_DNS
      load_assignment:
        cluster_name: vllm
        endpoints:
          - lb_endpoints:
              - endpoint: {address: {socket_address: {address: vllm.ai.svc, port_value: 8000}}}
"""
_TYPES = "type.googleapis.com/envoy.extensions"
for _name, _type in (
    ("HCM_TYPE", "filters.network.http_connection_manager.v3.HttpConnectionManager"),
    ("COMPRESSOR_TYPE", "filters.http.compressor.v3.Compressor"),
    ("GZIP_TYPE", "compression.gzip.compressor.v3.Gzip"),
    ("ROUTER_TYPE", "filters.http.router.v3.Router"),
):
    ENVOY_BOOTSTRAP_SSE_COMPRESSOR = ENVOY_BOOTSTRAP_SSE_COMPRESSOR.replace(
        _name, f"{_TYPES}.{_type}"
    )


class Proxy:
    """The proxies a case runs through (the family of the fixture's route)."""

    NGINX = "nginx"
    ENVOY = "envoy"


@dataclass(frozen=True, slots=True)
class ProofCase:
    """A rule's positive fixture: ``manifest`` makes ``code`` fire, and ``proxy`` (``nginx`` |
    ``envoy``) with the route's rendered settings turns ``scenario`` (a mock recipe) into one
    of ``predicted``. ``encoding``: the Content-Encoding the response must carry (checked when
    given). ``fixed``: False for a rule whose fix is only advice, so there is no fixed row."""

    code: str
    manifest: str
    scenario: str
    predicted: tuple[VerdictKind, ...]
    policy: Policy = field(default_factory=Policy)
    cut: CutKind | None = None  # the kind of cut predicted, when the rule is about a cut
    why: str = ""
    proxy: str = Proxy.NGINX
    encoding: str = ""
    fixed: bool = True

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
    ProofCase(
        # Envoy Gateway: the HTTPRoute's request timeout is the route's total (FACTS.md §4, §6).
        "TP204",
        BACKEND + gateway_route('      timeouts:\n        request: "2s"\n'),
        "ttft=50ms;itl=100ms;tokens=35",
        (VerdictKind.CUT,),
        Policy(max_generation_s=4.0),
        CutKind.TOTAL,
        why="Envoy Gateway HTTPRoute `timeouts.request: 2s`: the route timeout cuts a 3.5 s "
        "generation while tokens still flow",
        proxy=Proxy.ENVOY,
    ),
    ProofCase(
        # Measured on Envoy 1.40.0 (FACTS.md §5 says "total"; the binary disagrees): the
        # per-try timeout bounds only the wait for the response headers.
        "TP205",
        BACKEND
        + gateway_route(
            "      retry:\n        attempts: 1\n"
            '      timeouts:\n        request: "20s"\n        backendRequest: "1s"\n'
        ),
        "headers=2s;ttft=50ms;itl=20ms;tokens=5",
        (VerdictKind.CUT,),
        Policy(max_silence_s=2.5, max_generation_s=10.0),
        CutKind.BEFORE_HEADERS,
        why="Envoy Gateway HTTPRoute with a retry and `backendRequest: 1s` (Envoy's "
        "per_try_timeout): a server that sends its headers after 2 s gets a 504",
        proxy=Proxy.ENVOY,
    ),
    ProofCase(
        # Contour: timeoutPolicy.idle is the route's idle_timeout (FACTS.md §8).
        "TP206",
        BACKEND + http_proxy("      timeoutPolicy:\n        idle: 1s\n"),
        "ttft=50ms;itl=20ms;tokens=10;pause=5@2s",
        (VerdictKind.CUT,),
        Policy(max_silence_s=2.5),
        CutKind.IDLE,
        why="Contour HTTPProxy `timeoutPolicy.idle: 1s`: the route idle timeout cuts the 200 "
        "stream in a 2 s silence",
        proxy=Proxy.ENVOY,
    ),
    ProofCase(
        # Contour reads timeoutPolicy.response "0s" as unset (FACTS.md §8, §17): Envoy's own
        # 15 s route timeout applies. The only case that needs Envoy's real 15 s (~33 s).
        "TP207",
        BACKEND + http_proxy("      timeoutPolicy:\n        response: 0s\n"),
        "ttft=50ms;itl=500ms;tokens=33",
        (VerdictKind.CUT,),
        cut=CutKind.TOTAL,
        why="Contour HTTPProxy `timeoutPolicy.response: 0s` is read as unset: Envoy's 15 s "
        "route timeout cuts a 16.5 s generation; the fix writes `infinity`",
        proxy=Proxy.ENVOY,
    ),
    ProofCase(
        # Measured on Envoy 1.40.0 (FACTS.md §5): compressed, and still sent per event.
        "TP302",
        ENVOY_BOOTSTRAP_SSE_COMPRESSOR,
        "ttft=50ms;itl=50ms;tokens=10",
        (VerdictKind.STREAMING, VerdictKind.COMPRESSED),
        why="raw Envoy bootstrap whose compressor lists text/event-stream: SSE is gzipped and "
        "still sent per event",
        proxy=Proxy.ENVOY,
        encoding="gzip",
        fixed=False,
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
    predicted_encoding: str = ""  # the Content-Encoding predicted ("": not part of the proof)
    measured_encoding: str = ""

    @property
    def predicted_label(self) -> str:
        text = "|".join(v.value for v in self.predicted)
        text = f"{text} ({self.predicted_cut.value})" if self.predicted_cut is not None else text
        return f"{text}, {self.predicted_encoding}" if self.predicted_encoding else text

    @property
    def measured_label(self) -> str:
        text = self.measured
        if self.measured_cut is not None and self.predicted_cut is not None:
            text = f"{self.measured} ({self.measured_cut.value})"
        if self.predicted_encoding:
            return f"{text}, {self.measured_encoding or 'identity'}"
        return text


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
    """Run every case and its fixed version through the real proxy; one row each."""
    rows: list[ProofRow] = []
    for case in cases:
        progress(f"{case.code}: the positive fixture")
        rows.append(
            _row(case, "fire", case.manifest, case.predicted, case.cut, progress, expect_fired=True)
        )
        if not case.fixed:
            continue
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
    encoding = case.encoding if which == "fire" else ""
    row = ProofRow(
        rule=case.code,
        proxy=case.proxy,
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
        predicted_encoding=encoding,
    )
    problem = _lint_problem(result, case.proxy)
    if problem:
        return dataclasses.replace(row, evidence=problem)
    directives, start = rendered_settings(result.routes[0])
    row = dataclasses.replace(row, directives=directives)
    try:
        report = simulate_through(
            start, directives, directives, (case_scenario(case),), time_scale=1.0, progress=progress
        )
    except ProxyError as exc:
        return dataclasses.replace(row, evidence=str(exc))
    (run,) = report.runs
    kind, measured_cut = _measured(run)
    measured_encoding = "" if run.result is None else run.result.timeline.content_encoding
    agrees = (
        fired is expect_fired
        and kind is not None
        and kind in predicted
        and (cut is None or kind is not VerdictKind.CUT or measured_cut is cut)
        and (not encoding or measured_encoding.strip().lower() == encoding)
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
        measured_encoding=measured_encoding,
    )


def rendered_settings(route: AnyRoute) -> tuple[tuple[tuple[str, str], ...], StartProxy]:
    """The route's settings as its proxy gets them (for display) and how to start it."""
    if route.family is Family.ENVOY:
        settings = envoy_settings_for(route.settings)

        def start_envoy(host: str, port: int) -> AbstractContextManager[RunningProxy]:
            return run_envoy(host, port, settings)

        return envoy_fields(settings), start_envoy
    directives = directives_for(route.settings)

    def start_nginx(host: str, port: int) -> AbstractContextManager[RunningProxy]:
        return run_nginx(host, port, directives)

    return directives, start_nginx


def _measured(run: ScenarioRun) -> tuple[VerdictKind | None, CutKind | None]:
    if run.result is None:
        return None, None
    verdict = run.result.verdict
    return verdict.kind, None if verdict.cut is None else verdict.cut.kind


def _lint_problem(result: LintResult, proxy: str) -> str:
    if result.errors:
        return "; ".join(str(error) for error in result.errors)
    if len(result.routes) != 1:
        return f"expected one LLM route in the fixture, found {len(result.routes)}"
    family = result.routes[0].family
    if family.value != proxy:
        return f"the fixture's route is of the {family.value} family, the case runs {proxy}"
    return ""
