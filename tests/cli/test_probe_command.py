"""``tokenpath probe`` as a user runs it: a real process against the real mock on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tokenpath.mock.server import MockHandle

SECRET = "sk-test-5f2b9c0d1e"


def tokenpath(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def chat(mock_server: MockHandle) -> str:
    return f"{mock_server.url}/v1/chat/completions"


def test_streaming_stream_exits_0_with_the_documented_json(mock_server: MockHandle) -> None:
    done = tokenpath("probe", chat(mock_server), "--scenario", "tokens=6;itl=10ms", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["schema_version"] == 1
    assert report["status"] == 200
    assert report["verdict"] == "STREAMING"
    assert report["cut"] is None
    assert report["end_state"] == "done"
    for key in ("ttfb_headers_s", "ttft_s", "e2e_stream_s", "content_events", "max_burst_events"):
        assert key in report["metrics"]
    assert report["metrics"]["content_events"] == 6
    assert report["evidence"]


def test_a_cut_stream_exits_1_and_says_so(mock_server: MockHandle) -> None:
    done = tokenpath("probe", chat(mock_server), "--scenario", "tokens=10;itl=10ms;fin=4")
    assert done.returncode == 1, done.stderr
    assert "VERDICT: CUT" in done.stdout


def test_jsonl_has_one_line_per_event_then_a_summary(mock_server: MockHandle) -> None:
    done = tokenpath("probe", chat(mock_server), "--scenario", "tokens=4;itl=5ms", "--jsonl")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[-1]["type"] == "summary"
    assert sum(1 for line in lines if line.get("kind") == "content") == 4


def test_refused_connection_is_a_one_line_error_with_exit_2() -> None:
    done = tokenpath("probe", "http://127.0.0.1:1/v1/chat/completions")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "refused" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("flag", ["--json", "--jsonl", "--no-color"])
def test_the_api_key_never_appears_in_any_output(mock_server: MockHandle, flag: str) -> None:
    url = chat(mock_server).replace("http://", f"http://user:{SECRET}@")
    done = tokenpath(
        "probe",
        url,
        "--api-key-env",
        "TP_TEST_KEY",
        "--scenario",
        "status=401",
        flag,
        env={"TP_TEST_KEY": SECRET},
    )
    assert done.returncode == 1
    assert SECRET not in done.stdout + done.stderr


def test_compare_attributes_no_difference_between_two_direct_paths(mock_server: MockHandle) -> None:
    done = tokenpath(
        "probe",
        chat(mock_server),
        "--compare",
        chat(mock_server),
        "--repeat",
        "2",
        "--scenario",
        "tokens=5;itl=10ms",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["comparison"]["attribution"]
    assert len(report["runs"]) == 2


def test_bad_duration_is_a_usage_error() -> None:
    done = tokenpath("probe", "http://127.0.0.1:1/", "--timeout", "soon")
    assert done.returncode == 2
    assert "invalid duration" in done.stderr
