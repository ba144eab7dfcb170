"""Time scaling keeps verdicts: every rule-proof scenario (its positive fixture and its fixed
version) measures the same verdict kind, and the same cut kind, through the real nginx at real
time (``time_scale`` 1) and at ``DEFAULT_TIME_SCALE``.

Both runs go through ``simulate_lint_result``, the path ``simulate PATH…`` takes: the route's
settings rendered into directives, the timeouts and the scenario scaled, nginx on loopback in
front of the mock.

A timeout that would land under nginx's 1 s timer floor raises the whole time scale for
that run (``scale.nginx_time_scale``), so TP201's 1 s read timeout against a 1.8 s pause runs
at real time and its verdict cannot change with the scale.
"""

from __future__ import annotations

import pytest

from tokenpath.lint.document import SourceText
from tokenpath.lint.pipeline import lint_sources
from tokenpath.simulate.manifests import simulate_lint_result
from tokenpath.simulate.proofs import PROOF_CASES, PROOF_FILE, ProofCase, case_scenario
from tokenpath.simulate.proofs import fixed_manifest as fixed_manifest_of
from tokenpath.simulate.scale import DEFAULT_TIME_SCALE

Measured = tuple[str, str | None]  # (verdict kind, cut kind)


#: (rule, which) pairs whose verdict is known to change at the default scale, and why.
def _params() -> list[object]:
    params: list[object] = []
    # nginx only: Envoy's unscaled 1 s delayed close makes a scaled idle cut look like a total
    # one (simulate.envoy_set), so the Envoy cases are proven at real time only.
    for case in (c for c in PROOF_CASES if c.proxy == "nginx"):
        for which in ("fire", "fixed"):
            params.append(pytest.param(case, which, id=f"{case.code}-{which}"))
    return params


def _measure(case: ProofCase, manifest: str, time_scale: float) -> tuple[Measured, tuple[str, ...]]:
    """The verdict and cut kinds of the case's scenario on ``manifest``'s one route, and the
    run's notes (where scaling hit a floor)."""
    result = lint_sources([SourceText(PROOF_FILE, manifest)], case.options)
    assert not result.errors, result.errors
    assert len(result.routes) == 1
    report = simulate_lint_result(result, (case_scenario(case),), time_scale=time_scale)
    (route,) = report.routes
    assert route.report is not None, route.error
    (scenario,) = route.results
    run = scenario.run
    assert run.result is not None, run.error
    verdict = run.result.verdict
    assert report.time_scale == time_scale
    cut = None if verdict.cut is None else verdict.cut.kind.value
    return (verdict.kind.value, cut), route.report.notes


@pytest.mark.proxy
@pytest.mark.parametrize(("case", "which"), _params())
def test_verdicts_are_the_same_at_real_time_and_at_the_default_scale(
    nginx_binary: str, case: ProofCase, which: str
) -> None:
    manifest = case.manifest if which == "fire" else fixed_manifest_of(case)
    real, _ = _measure(case, manifest, 1.0)
    scaled, notes = _measure(case, manifest, DEFAULT_TIME_SCALE)
    assert real == scaled, (
        f"{case.code} {which}: {real} at time scale 1, {scaled} at {DEFAULT_TIME_SCALE}; "
        f"notes at the default scale: {notes}"
    )
