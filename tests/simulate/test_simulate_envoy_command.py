"""``tokenpath simulate --proxy envoy``, run for real (mock + Envoy), through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from simcli import simulate_json


def _simulate(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    return simulate_json("envoy", tmp_path, *args)


@pytest.mark.proxy
def test_default_route_timeout_cuts_a_long_generation_and_0s_fixes_it(
    envoy_binary: str, tmp_path: Path
) -> None:
    # Unset: Envoy's 15 s route timeout, scaled to 0.75 s, cuts 60 s of tokens (3 s scaled)
    # while they still flow: a total timer.
    code, report = _simulate(tmp_path, "--scenario", "long-generation")
    assert code == 1
    assert report["proxy"] == "envoy"
    assert report["proxy_version"] == "1.40.0"
    assert report["time_scale"] == 0.05
    assert ["route.timeout", "0.75s"] in report["directives"]
    assert ["hcm.stream_idle_timeout", "15s"] in report["directives"]
    assert any("written out scaled" in note for note in report["notes"])
    (result,) = report["results"]
    assert result["settings"] == {}
    measured = result["measured"]
    assert measured["verdict"] == "CUT", measured
    assert measured["cut"]["kind"] == "total", measured
    assert measured["cut"]["status"] == 200

    code, report = _simulate(tmp_path, "--set", "route.timeout=0s", "--scenario", "long-generation")
    assert code == 0
    assert ["route.timeout", "0s"] in report["directives"]
    (result,) = report["results"]
    assert result["settings"] == {"route.timeout": "0s"}
    assert result["measured"]["verdict"] == "STREAMING", result["measured"]

    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, check=False)
    assert leftovers.stdout == b""
    assert list(tmp_path.iterdir()) == []


def test_envoy_usage_errors_exit_2() -> None:
    for args in (
        ["--set", "route.cluster=evil"],
        ["--set", "route.timeout=soon"],
        ["--set", "proxy_buffering=off"],
        ["--set", "compressor=off", "--set", "compressor.content_type=text/plain"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "tokenpath", "simulate", "--proxy", "envoy", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 2, (args, done.stderr)
        assert "error" in done.stderr.lower()
