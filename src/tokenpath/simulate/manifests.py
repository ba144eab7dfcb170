"""``simulate PATH…``: every LLM route of the manifests through a real nginx, predicted vs measured.

Each LLM route of the lint model gets its effective settings rendered into the directives its
NGINX-family controller writes (``simulate.renderers.nginx.directives_for``); those go through
``simulate.run.simulate_through`` (nginx on loopback in front of the mock, every duration scaled
by ``time_scale``), and each scenario's measurement is paired with what the settings predict
(``simulate.predict``). A disagreement is a bug in a rule or a fact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from tokenpath.errors import ProxyError
from tokenpath.lint.document import InputError
from tokenpath.lint.model import NginxRoute
from tokenpath.lint.pipeline import LintOptions, LintResult, lint_paths
from tokenpath.simulate.predict import Prediction, predict_nginx
from tokenpath.simulate.renderers.nginx import directives_for
from tokenpath.simulate.run import ScenarioRun, SimulateReport, simulate_through
from tokenpath.simulate.runtime import RunningProxy, run_nginx
from tokenpath.simulate.scale import nginx_time_scale, scale_nginx_directives
from tokenpath.simulate.scenarios import Scenario

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """One scenario on one route: the prediction, the measurement and whether they agree."""

    run: ScenarioRun
    prediction: Prediction

    @property
    def agrees(self) -> bool:
        result = self.run.result
        if result is None:
            return False
        cut = None if result.verdict.cut is None else result.verdict.cut.kind
        return self.prediction.agrees(result.verdict.kind, cut)


@dataclass(frozen=True, slots=True)
class RouteRun:
    """One LLM route. ``report`` is None when the proxy could not be run with its settings
    (nginx rejected the rendered config), with the reason in ``error``."""

    route: str  # host + path
    ingress: str  # Kind/namespace/name
    controller: str
    file: str
    line: int
    directives: tuple[tuple[str, str], ...]  # as the controller writes them, unscaled
    report: SimulateReport | None
    results: tuple[ScenarioResult, ...]
    error: str = ""
    notes: tuple[str, ...] = ()  # e.g. the controller refuses this Ingress

    @property
    def all_agree(self) -> bool:
        return self.report is not None and all(r.agrees for r in self.results)


@dataclass(frozen=True, slots=True)
class ManifestReport:
    proxy: str
    proxy_version: str
    time_scale: float
    routes: tuple[RouteRun, ...]
    errors: tuple[InputError, ...]  # the lint model's input errors

    @property
    def all_agree(self) -> bool:
        return all(route.all_agree for route in self.routes)

    @property
    def all_streaming(self) -> bool:
        return all(route.report is not None and route.report.all_streaming for route in self.routes)


def simulate_manifests(
    paths: Sequence[str],
    options: LintOptions,
    scenarios: Sequence[Scenario],
    *,
    time_scale: float,
    progress: Progress = lambda _message: None,
) -> ManifestReport:
    """Read and lint ``paths``, then run ``scenarios`` through nginx for every LLM route."""
    progress(f"reading {len(paths)} path(s)")
    return simulate_lint_result(
        lint_paths(paths, options), scenarios, time_scale=time_scale, progress=progress
    )


def simulate_lint_result(
    result: LintResult,
    scenarios: Sequence[Scenario],
    *,
    time_scale: float,
    progress: Progress = lambda _message: None,
) -> ManifestReport:
    """``simulate_manifests`` for a lint result already at hand."""
    runs: list[RouteRun] = []
    proxy, version = "nginx", ""
    for route in result.routes:
        progress(f"route {route.label()} ({route.obj})")
        run = _simulate_route(route, scenarios, time_scale, progress)
        if run.report is not None:
            proxy, version = run.report.proxy, run.report.proxy_version
        runs.append(run)
    return ManifestReport(proxy, version, time_scale, tuple(runs), result.errors)


def _simulate_route(
    route: NginxRoute, scenarios: Sequence[Scenario], time_scale: float, progress: Progress
) -> RouteRun:
    settings = route.settings
    directives = directives_for(settings)
    effective = nginx_time_scale(directives, time_scale)
    time_scale = effective.value
    scaled = scale_nginx_directives(directives, time_scale)
    notes = tuple(
        f"the controller refuses this Ingress ({i.reason}); simulated as if it served it"
        for i in settings.refused
    )
    base = RouteRun(
        route=route.label(),
        ingress=str(route.obj),
        controller=route.owner.controller.value,
        file=route.obj.file,
        line=route.line or route.obj.line,
        directives=directives,
        report=None,
        results=(),
        notes=notes,
    )

    def start(host: str, port: int) -> AbstractContextManager[RunningProxy]:
        return run_nginx(host, port, scaled.value)

    try:
        report = simulate_through(
            start,
            directives,
            scaled.value,
            scenarios,
            time_scale=time_scale,
            notes=effective.notes + scaled.notes,
            progress=progress,
        )
    except ProxyError as exc:
        return dataclasses.replace(base, error=str(exc))
    results = tuple(
        ScenarioResult(run, predict_nginx(settings, run.scenario, time_scale=time_scale))
        for run in report.runs
    )
    return dataclasses.replace(base, report=report, results=results)
