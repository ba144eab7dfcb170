"""``simulate PATH…``: every LLM route of the manifests through the real proxy of its family,
predicted vs measured.

Each LLM route of the lint model gets its effective settings rendered for the proxy its
controller runs: an NGINX-family route into the directives its controller writes
(``simulate.renderers.nginx.directives_for``), run through nginx; an Envoy-family route
(Envoy Gateway, Istio, Contour, AI Gateway, raw Envoy) into the fields of a one-route Envoy
bootstrap (``simulate.renderers.envoy.envoy_settings_for``), run through Envoy. Both go through
``simulate.run.simulate_through`` (the proxy on loopback in front of the mock, every duration
scaled by ``time_scale`` as ``simulate --proxy nginx|envoy`` scales it), and each scenario's
measurement is paired with what the settings predict (``simulate.predict`` /
``simulate.predict_envoy``). A disagreement is a bug in a rule or a fact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tokenpath.errors import ProxyError
from tokenpath.lint.document import InputError
from tokenpath.lint.model import AnyRoute, EnvoyRoute, EnvoyRouteSettings, Family, NginxRoute
from tokenpath.lint.pipeline import LintOptions, LintResult, lint_paths
from tokenpath.simulate.envoy import run_envoy
from tokenpath.simulate.envoy_set import route_timeout_artefacts
from tokenpath.simulate.predict import Prediction, predict_nginx
from tokenpath.simulate.predict_envoy import envoy_fields, predict_envoy, scale_envoy
from tokenpath.simulate.renderers.envoy import envoy_settings_for
from tokenpath.simulate.renderers.nginx import directives_for
from tokenpath.simulate.run import (
    ScenarioRun,
    SimulateReport,
    StartProxy,
    scenario_lengths,
    simulate_through,
)
from tokenpath.simulate.runtime import run_nginx
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
    (nginx or Envoy rejected the rendered config), with the reason in ``error``."""

    route: str  # host + path
    obj: str  # the declaring object, Kind/namespace/name (Ingress, HTTPRoute, HTTPProxy, …)
    controller: str
    file: str
    line: int
    # nginx: the directives as the controller writes them; Envoy: the bootstrap's fields by
    # location (``route.timeout``, …, as ``simulate --proxy envoy --set`` names them). Unscaled.
    directives: tuple[tuple[str, str], ...]
    report: SimulateReport | None
    results: tuple[ScenarioResult, ...]
    error: str = ""
    notes: tuple[str, ...] = ()  # e.g. the controller refuses this Ingress
    proxy: str = "nginx"  # the proxy it ran through: "nginx" | "envoy"

    @property
    def ingress(self) -> str:
        """The declaring object (the name from when only Ingresses were simulated)."""
        return self.obj

    @property
    def proxy_version(self) -> str:
        return self.report.proxy_version if self.report is not None else ""

    @property
    def all_agree(self) -> bool:
        return self.report is not None and all(r.agrees for r in self.results)


@dataclass(frozen=True, slots=True)
class ManifestReport:
    time_scale: float
    routes: tuple[RouteRun, ...]
    errors: tuple[InputError, ...]  # the lint model's input errors

    @property
    def proxies(self) -> tuple[tuple[str, str], ...]:
        """Every (proxy, version) some route ran through, in the order first seen."""
        seen = ((r.proxy, r.proxy_version) for r in self.routes if r.report is not None)
        return tuple(dict.fromkeys(seen))

    @property
    def proxy(self) -> str:
        """The proxy every route ran through (``nginx`` when none ran), else the names joined
        by ``+``."""
        names = dict.fromkeys(name for name, _version in self.proxies)
        return "+".join(names) or "nginx"

    @property
    def proxy_version(self) -> str:
        return "+".join(dict.fromkeys(version for _name, version in self.proxies))

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
    for route in result.routes:
        progress(f"route {route.label()} ({route.obj})")
        runs.append(_simulate_route(route, scenarios, time_scale, progress))
    return ManifestReport(time_scale, tuple(runs), result.errors)


@dataclass(frozen=True, slots=True)
class _ProxyRun:
    """How one route runs: ``base`` (its RouteRun before the run), the proxy ``start`` starts
    in front of the mock with ``rendered`` (the settings, scaled), the time scale, the notes on
    the scaling, and what the route's settings predict for a scenario."""

    base: RouteRun
    start: StartProxy
    rendered: tuple[tuple[str, str], ...]
    time_scale: float
    notes: tuple[str, ...]
    predict: Callable[[Scenario], Prediction]


def _simulate_route(
    route: AnyRoute, scenarios: Sequence[Scenario], time_scale: float, progress: Progress
) -> RouteRun:
    """The route through the proxy of its family, every scenario paired with its prediction;
    with the error instead when the proxy could not be run with these settings."""
    if route.family is Family.ENVOY:
        plan = _envoy_run(route, scenarios, time_scale)
    else:
        plan = _nginx_run(route, time_scale)
    try:
        report = simulate_through(
            plan.start,
            plan.base.directives,
            plan.rendered,
            scenarios,
            time_scale=plan.time_scale,
            notes=plan.notes,
            progress=progress,
        )
    except ProxyError as exc:
        return dataclasses.replace(plan.base, error=str(exc))
    results = tuple(ScenarioResult(run, plan.predict(run.scenario)) for run in report.runs)
    return dataclasses.replace(plan.base, report=report, results=results)


def _base(route: AnyRoute, proxy: str, directives: tuple[tuple[str, str], ...]) -> RouteRun:
    return RouteRun(
        route=route.label(),
        obj=str(route.obj),
        controller=route.owner.controller.value,
        file=route.obj.file,
        line=route.line or route.obj.line,
        directives=directives,
        report=None,
        results=(),
        proxy=proxy,
    )


def _nginx_run(route: NginxRoute, time_scale: float) -> _ProxyRun:
    """An NGINX-family route as its controller's directives, through nginx."""
    settings = route.settings
    directives = directives_for(settings)
    effective = nginx_time_scale(directives, time_scale)
    scale = effective.value
    scaled = scale_nginx_directives(directives, scale)
    notes = tuple(
        f"the controller refuses this Ingress ({i.reason}); simulated as if it served it"
        for i in settings.refused
    )
    return _ProxyRun(
        base=dataclasses.replace(_base(route, "nginx", directives), notes=notes),
        start=lambda host, port: run_nginx(host, port, scaled.value),
        rendered=scaled.value,
        time_scale=scale,
        notes=effective.notes + scaled.notes,
        predict=lambda scenario: predict_nginx(settings, scenario, time_scale=scale),
    )


def _envoy_run(route: EnvoyRoute, scenarios: Sequence[Scenario], time_scale: float) -> _ProxyRun:
    """One Envoy-family route through the real Envoy, scaled as ``simulate --proxy envoy``."""
    settings = envoy_settings_for(route.settings)
    fields = envoy_fields(settings)
    scaled = scale_envoy(settings, time_scale)
    lengths = scenario_lengths(scenarios, time_scale)
    return _ProxyRun(
        base=dataclasses.replace(_base(route, "envoy", fields), notes=_envoy_notes(route.settings)),
        start=lambda host, port: run_envoy(host, port, scaled.value),
        rendered=envoy_fields(scaled.value),
        time_scale=time_scale,
        notes=(*scaled.notes, *route_timeout_artefacts(fields, time_scale, lengths)),
        predict=lambda scenario: predict_envoy(settings, scenario, time_scale=time_scale),
    )


def _envoy_notes(settings: EnvoyRouteSettings) -> tuple[str, ...]:
    """What the one-route bootstrap leaves out, said once per route."""
    notes = [
        f"Envoy rejects {i.raw!r} ({i.reason}); simulated without it" for i in settings.refused
    ]
    notes += [
        f"not interpreted, so not simulated: {i.source.describe()} ({i.reason})"
        for i in settings.uninterpreted
    ]
    if settings.body_buffered.value:
        notes.append(
            "the request body is buffered (limit "
            f"{settings.request_buffer_limit.value} bytes): not simulated, the scenarios send "
            "small requests"
        )
    return tuple(notes)
