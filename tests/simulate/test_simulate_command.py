"""``tokenpath simulate --proxy nginx``, run for real (mock + nginx), through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from simcli import simulate_json

from tokenpath.cli.simulate import parse_nginx_settings
from tokenpath.errors import UsageError


def _simulate(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    return simulate_json("nginx", tmp_path, *args)


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {r["scenario"]: r["measured"]["verdict"] for r in report["results"]}


@pytest.mark.proxy
def test_buffering_on_holds_and_off_streams(nginx_binary: str, tmp_path: Path) -> None:
    code, report = _simulate(tmp_path, "--set", "proxy_buffering=on", "--scenario", "fast-small")
    assert code == 1
    assert report["schema_version"] == 1
    assert report["proxy"] == "nginx"
    assert report["time_scale"] == 0.05
    assert report["results"][0]["settings"] == {"proxy_buffering": "on"}
    assert _verdicts(report)["fast-small"] in ("BUFFERED", "BURSTY")

    code, report = _simulate(tmp_path, "--set", "proxy_buffering=off", "--scenario", "fast-small")
    assert (code, _verdicts(report)) == (0, {"fast-small": "STREAMING"})
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, check=False)
    assert leftovers.stdout == b""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.proxy
def test_scaled_read_timeout_cuts_a_long_pause_not_a_short_one(
    nginx_binary: str, tmp_path: Path
) -> None:
    # 10 s timeout x 0.05 is clamped to 1 s; the 30 s pause becomes 1.5 s: cut, as at scale 1.
    code, report = _simulate(
        tmp_path,
        "--set",
        "proxy_buffering=off",
        "--set",
        "proxy_read_timeout=10s",
        "--scenario",
        "pause-5s",
        "--scenario",
        "pause-30s",
    )
    assert code == 1
    assert _verdicts(report) == {"pause-5s": "STREAMING", "pause-30s": "CUT"}
    assert ["proxy_read_timeout", "1s"] in report["directives"]
    assert any("time scale raised from 0.05 to 0.1" in note for note in report["notes"])


def test_usage_errors_exit_2() -> None:
    for args in (
        ["--proxy", "nginx", "--set", "proxy_pass=http://evil"],
        ["--proxy", "nginx", "--set", "proxy_read_timeout=soon"],
        ["--proxy", "nginx", "--time-scale", "0"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "tokenpath", "simulate", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 2, (args, done.stderr)
        assert "error" in done.stderr.lower()


def test_parse_nginx_settings() -> None:
    assert parse_nginx_settings(
        [
            "proxy_buffering=on",
            "proxy_buffering=off",
            "proxy_set_header=A 1",
            "proxy_set_header=B 2",
        ]
    ) == (
        ("proxy_buffering", "off"),
        ("proxy_set_header", "A 1"),
        ("proxy_set_header", "B 2"),
    )
    with pytest.raises(UsageError, match="NAME=VALUE"):
        parse_nginx_settings(["proxy_buffering"])
