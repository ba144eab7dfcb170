"""``simulate PATH…``: every LLM route of the manifests through the real nginx, predicted vs
measured per scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokenpath.cli.simulate_options import run_manifests
from tokenpath.lint.pipeline import LintOptions
from tokenpath.lint.policy import Policy
from tokenpath.report.manifests import render_manifests_json, render_manifests_text
from tokenpath.simulate.manifests import simulate_manifests
from tokenpath.simulate.proofs import BACKEND, ingress
from tokenpath.simulate.scale import DEFAULT_TIME_SCALE
from tokenpath.simulate.scenarios import select

HTTP10_BUFFERED = BACKEND + ingress(
    "nginx",
    '    nginx.ingress.kubernetes.io/proxy-buffering: "on"\n'
    '    nginx.ingress.kubernetes.io/proxy-http-version: "1.0"',
)
SHORT_READ_TIMEOUT = BACKEND + ingress(
    "nginx", '    nginx.ingress.kubernetes.io/proxy-read-timeout: "1"'
)


@pytest.mark.proxy
def test_each_route_is_measured_and_agrees_with_its_prediction(
    nginx_binary: str, tmp_path: Path
) -> None:
    first = tmp_path / "a.yaml"
    first.write_text(HTTP10_BUFFERED)
    second = tmp_path / "b.yaml"
    second.write_text(SHORT_READ_TIMEOUT.replace("name: llm", "name: llm-short"))
    # pause-30s at 0.05: 1.5 s of silence; the 1 s read timeout (nginx's floor) cuts it, the
    # 60 s default (3 s scaled) does not.
    report = simulate_manifests(
        [str(first), str(second)],
        LintOptions(policy=Policy(max_silence_s=3.0)),
        select(["fast-small", "pause-30s"]),
        time_scale=DEFAULT_TIME_SCALE,
    )
    assert not report.errors
    assert report.proxy == "nginx"
    assert report.proxy_version
    by_ingress = {route.obj: route for route in report.routes}
    assert set(by_ingress) == {"Ingress/ai/llm", "Ingress/ai/llm-short"}
    verdicts = {
        (route.obj, r.run.scenario.name): (r.run.verdict, r.prediction.label, r.agrees)
        for route in report.routes
        for r in route.results
    }
    assert verdicts[("Ingress/ai/llm", "fast-small")][0] in ("BUFFERED", "BURSTY")
    assert verdicts[("Ingress/ai/llm", "pause-30s")][0] in ("BUFFERED", "BURSTY")
    assert verdicts[("Ingress/ai/llm-short", "fast-small")][0] == "STREAMING"
    assert verdicts[("Ingress/ai/llm-short", "pause-30s")][:2] == ("CUT", "CUT (idle)")
    assert report.all_agree, verdicts
    assert not report.all_streaming

    text = render_manifests_text(report)
    assert "llm.example.com/v1 Ingress/ai/llm-short (ingress-nginx)" in text
    assert "DISAGREES" not in text
    assert "4 of 4 scenario results agree" in text

    document = render_manifests_json(report)
    # The keys issue 5 promises (extra keys are allowed).
    assert {"proxy", "proxy_version", "time_scale", "results"} <= set(document)
    assert len(document["results"]) == 4
    for result in document["results"]:
        assert {"route", "scenario", "predicted", "measured", "agrees"} <= set(result)
        assert {"verdict", "cut", "metrics"} <= set(result["measured"])
    assert document["proxy"] == "nginx"
    assert document["time_scale"] == DEFAULT_TIME_SCALE
    assert document["all_agree"] is True
    (row,) = [
        r
        for r in document["results"]
        if r["ingress"] == "Ingress/ai/llm-short" and r["scenario"] == "pause-30s"
    ]
    assert row["route"] == "llm.example.com/v1"
    assert row["predicted"] == {
        "verdicts": ["CUT"],
        "cut": "idle",
        "reason": row["predicted"]["reason"],
    }
    assert row["measured"]["verdict"] == "CUT"
    assert row["measured"]["cut"]["kind"] == "idle"
    assert row["agrees"] is True
    json.dumps(document)


def test_no_llm_routes_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    text, code = run_manifests([str(path)])
    assert code == 0
    assert "no LLM routes found" in text


def test_an_unreadable_input_exits_2(tmp_path: Path) -> None:
    text, code = run_manifests([str(tmp_path / "missing.yaml")], as_json=True)
    assert code == 2
    assert json.loads(text)["errors"]
