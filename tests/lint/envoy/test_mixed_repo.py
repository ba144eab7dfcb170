"""Acceptance: one repository with ingress-nginx, Envoy Gateway and Istio manifests.

``tokenpath lint --show-routes`` must list every LLM route of both proxy families with its
effective timeouts and where each came from, and ``lint`` must report the new rules in JSON
and SARIF. Runs the real CLI in a subprocess on ``tests/lint/fixtures/mixed``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

MIXED = Path(__file__).parents[1] / "fixtures" / "mixed"


def tokenpath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def routes_by_label() -> dict[str, dict[str, Any]]:
    done = tokenpath("lint", "--show-routes", "--format", "json", str(MIXED))
    assert done.returncode == 1, done.stderr  # the routes have findings: lint's exit code
    document = json.loads(done.stdout)
    assert document["errors"] == []
    return {route["route"]: route for route in document["routes"]}


def setting(route: dict[str, Any], name: str) -> tuple[str, str]:
    entry = route["settings"][name]
    return entry["text"], entry["source"]["description"]


def test_show_routes_lists_every_llm_route_of_both_families() -> None:
    routes = routes_by_label()
    assert sorted(routes) == [
        "chat.example.com/v1/chat/completions",
        "chat.example.com/v1/completions",
        "legacy.example.com/v1",
        "vllm.ai.svc.cluster.local/v1",
    ]
    assert {label: r["family"] for label, r in routes.items()} == {
        "chat.example.com/v1/chat/completions": "envoy",
        "chat.example.com/v1/completions": "envoy",
        "legacy.example.com/v1": "nginx",
        "vllm.ai.svc.cluster.local/v1": "envoy",
    }
    assert all(r["llm"] and "vllm" in r["llm_reason"] for r in routes.values())


def test_effective_timeouts_and_provenance() -> None:
    routes = routes_by_label()
    legacy = routes["legacy.example.com/v1"]
    assert legacy["controller"]["name"] == "ingress-nginx"
    text, _ = setting(legacy, "read_timeout")
    assert text == "60s"  # "3600s" is ignored by ingress-nginx
    assert legacy["settings"]["read_timeout"]["ignored"][0]["raw"] == "3600s"

    chat = routes["chat.example.com/v1/chat/completions"]
    assert chat["controller"]["name"] == "envoy-gateway"
    text, source = setting(chat, "route_timeout")
    assert text == "15s"
    assert "envoy default 15s" in source
    text, source = setting(chat, "idle_timeout")
    assert text == "120s"
    assert "BackendTrafficPolicy/ai/eg-defaults" in source

    completions = routes["chat.example.com/v1/completions"]
    text, source = setting(completions, "route_timeout")
    assert text == "1200s"
    assert "HTTPRoute/ai/chat" in source
    assert "gateway.yaml" in source

    mesh = routes["vllm.ai.svc.cluster.local/v1"]
    assert mesh["controller"]["name"] == "istio"
    text, source = setting(mesh, "route_timeout")
    assert text == "30s"
    assert "VirtualService/ai/chat-mesh" in source


def test_text_output_shows_both_families() -> None:
    done = tokenpath("lint", "--show-routes", str(MIXED))
    assert done.returncode == 1, done.stderr
    out = done.stdout
    for expected in (
        "Ingress/ai/chat-legacy",
        "HTTPRoute/ai/chat",
        "VirtualService/ai/chat-mesh",
        "route timeout",
        "read timeout",
        "4 routes (4 LLM).",
    ):
        assert expected in out


def test_findings_of_both_families_in_json_and_sarif() -> None:
    done = tokenpath("lint", "--format", "json", str(MIXED))
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    codes = {(f["code"], f["object"]) for f in findings}
    assert ("TP203", "Ingress/ai/chat-legacy") in codes  # "3600s" ignored
    assert ("TP204", "HTTPRoute/ai/chat") in codes  # implicit 15 s
    assert ("TP204", "VirtualService/ai/chat-mesh") in codes  # 30 s
    assert ("TP206", "BackendTrafficPolicy/ai/eg-defaults") in codes  # idle 120 s < 300 s
    sarif = tokenpath("lint", "--format", "sarif", str(MIXED))
    assert sarif.returncode == 1, sarif.stderr
    run = json.loads(sarif.stdout)["runs"][0]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {"TP203", "TP204", "TP206"} <= rule_ids
    assert {r["ruleId"] for r in run["results"]} >= {"TP203", "TP204", "TP206"}
