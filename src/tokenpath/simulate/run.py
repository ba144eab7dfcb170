"""Run scenarios through a real proxy in front of the mock and collect what the probe saw.

``simulate_nginx`` / ``simulate_envoy`` start the mock (in a thread) and one nginx / Envoy
with the scaled settings,
probes each scenario once, in order, and returns plain values (``simulate_through`` is the
proxy-independent part a new proxy plugs into); the CLI draws them. Everything
started here is stopped on return, on error and on Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from tokenpath.errors import ProbeError
from tokenpath.mock.server import run_in_thread
from tokenpath.probe.classify import ProbeResult, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.request import build_request
from tokenpath.probe.verdict import VerdictKind
from tokenpath.simulate.envoy import run_envoy
from tokenpath.simulate.envoy_set import (
    envoy_settings,
    route_timeout_artefacts,
    scale_envoy_settings,
)
from tokenpath.simulate.runtime import RunningProxy, run_nginx
from tokenpath.simulate.scale import nginx_time_scale, scale_mock_scenario, scale_nginx_directives
from tokenpath.simulate.scenarios import Scenario, expected_duration_s, max_time_s
from tokenpath.stream.dialects import Dialect

Progress = Callable[[str], None]
#: Starts a proxy in front of (upstream host, port) for a ``with`` block.
StartProxy = Callable[[str, int], AbstractContextManager[RunningProxy]]


@dataclass(frozen=True, slots=True)
class ScenarioRun:
    """One scenario through the proxy. ``mock`` is the recipe as sent (scaled); ``result`` is
    None when the probe got no answer at all, with the reason in ``error``."""

    scenario: Scenario
    mock: str
    max_time_s: float
    result: ProbeResult | None
    error: str = ""

    @property
    def verdict(self) -> str:
        return "ERROR" if self.result is None else self.result.verdict.kind.value

    @property
    def streams(self) -> bool:
        return self.result is not None and self.result.verdict.kind is VerdictKind.STREAMING


@dataclass(frozen=True, slots=True)
class SimulateReport:
    proxy: str
    proxy_version: str
    time_scale: float
    settings: tuple[tuple[str, str], ...]  # as given with --set
    directives: tuple[tuple[str, str], ...]  # as rendered, scaled
    notes: tuple[str, ...]  # where scaling hit a floor
    runs: tuple[ScenarioRun, ...]

    @property
    def all_streaming(self) -> bool:
        return all(run.streams for run in self.runs)


def simulate_nginx(
    directives: Sequence[tuple[str, str]],
    scenarios: Sequence[Scenario],
    *,
    time_scale: float,
    progress: Progress = lambda _message: None,
) -> SimulateReport:
    """Probe every scenario through one nginx configured with ``directives`` (nginx's own
    names; everything else stays nginx's default), all durations scaled by ``time_scale``
    (raised when a short timeout would otherwise hit nginx's timer floor)."""
    effective = nginx_time_scale(directives, time_scale)
    scaled = scale_nginx_directives(directives, effective.value)

    def start(host: str, port: int) -> AbstractContextManager[RunningProxy]:
        return run_nginx(host, port, scaled.value)

    return simulate_through(
        start,
        tuple(directives),
        scaled.value,
        scenarios,
        time_scale=effective.value,
        notes=effective.notes + scaled.notes,
        progress=progress,
    )


def scenario_lengths(
    scenarios: Sequence[Scenario], time_scale: float
) -> tuple[tuple[str, float, float], ...]:
    """``(name, length at scale 1, length as sent at time_scale)`` of each scenario, seconds:
    what ``envoy_set.route_timeout_artefacts`` compares with the route timeout."""
    return tuple(
        (
            s.name,
            expected_duration_s(s.mock),
            expected_duration_s(scale_mock_scenario(s.mock, time_scale).value),
        )
        for s in scenarios
    )


def simulate_envoy(
    settings: Sequence[tuple[str, str]],
    scenarios: Sequence[Scenario],
    *,
    time_scale: float,
    progress: Progress = lambda _message: None,
) -> SimulateReport:
    """Probe every scenario through one Envoy configured with ``settings`` (checked
    ``(field by location, value)`` pairs from ``envoy_set.parse_envoy_settings``; everything
    else stays Envoy's default), all durations scaled by ``time_scale``."""
    scaled = scale_envoy_settings(settings, time_scale)
    envoy = envoy_settings(scaled.value)  # a contradiction is a usage error before any start
    lengths = scenario_lengths(scenarios, time_scale)
    artefacts = route_timeout_artefacts(settings, time_scale, lengths)

    def start(host: str, port: int) -> AbstractContextManager[RunningProxy]:
        return run_envoy(host, port, envoy)

    return simulate_through(
        start,
        tuple(settings),
        scaled.value,
        scenarios,
        time_scale=time_scale,
        notes=(*scaled.notes, *artefacts),
        progress=progress,
    )


def simulate_through(
    start: StartProxy,
    settings: tuple[tuple[str, str], ...],
    rendered: tuple[tuple[str, str], ...],
    scenarios: Sequence[Scenario],
    *,
    time_scale: float,
    notes: Sequence[str] = (),
    progress: Progress = lambda _message: None,
) -> SimulateReport:
    """The proxy-independent part: start the mock, then the proxy in front of it with
    ``start(mock_host, mock_port)``, and probe every scenario (scaled) through it in order.
    ``settings`` are as the user gave them, ``rendered`` as the proxy got them (scaled)."""
    all_notes = list(notes)
    recipes: list[str] = []
    for scenario in scenarios:
        recipe = scale_mock_scenario(scenario.mock, time_scale)
        recipes.append(recipe.value)
        all_notes.extend(recipe.notes)
    progress("starting the mock LLM server on 127.0.0.1")
    with run_in_thread() as mock:
        progress("starting the proxy with the given settings")
        with start(mock.host, mock.port) as proxy:
            runs = []
            for scenario, sent in zip(scenarios, recipes, strict=True):
                progress(f"scenario {scenario.name}: {sent}")
                runs.append(_run(proxy.url, scenario, sent))
            return SimulateReport(
                proxy=proxy.name,
                proxy_version=proxy.version,
                time_scale=time_scale,
                settings=settings,
                directives=rendered,
                notes=tuple(dict.fromkeys(all_notes)),
                runs=tuple(runs),
            )


def _run(base_url: str, scenario: Scenario, recipe: str) -> ScenarioRun:
    bound = max_time_s(recipe)
    request = build_request(
        f"{base_url}/v1/chat/completions",
        dialect=Dialect.OPENAI_CHAT,
        headers=(f"X-Tokenpath-Scenario: {recipe}",),
        accept_encoding=scenario.accept_encoding,
        timeout_s=bound,
        max_time_s=bound,
        connect_timeout_s=5.0,
    )
    try:
        return ScenarioRun(scenario, recipe, bound, analyse(fetch(request)))
    except ProbeError as exc:
        return ScenarioRun(scenario, recipe, bound, None, str(exc))
