"""``tokenpath mock`` as a user runs it: a real process, its stderr line, Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from tokenpath.cli.mock import mock
from tokenpath.mock.scenarios import KEYS

COMMAND = [sys.executable, "-m", "tokenpath", "mock", "--host", "127.0.0.1", "--port", "0"]


@pytest.fixture
def running() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [*COMMAND, "--scenario", "tokens=5;ttft=0;itl=0", "--tokens", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.fullmatch(r"tokenpath mock listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serves_until_ctrl_c(running: tuple[subprocess.Popen[str], str]) -> None:
    process, url = running
    response = httpx.post(url + "/v1/completions", json={"stream": True})
    data_lines = [line for line in response.text.split("\n\n") if line.startswith("data: {")]
    assert len(data_lines) == 2  # --tokens wins over --scenario
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert process.stderr is not None
    assert process.stderr.read() == ""


def test_sigterm_is_graceful(running: tuple[subprocess.Popen[str], str]) -> None:
    process, _ = running
    process.terminate()
    assert process.wait(timeout=10) == 0


def test_bad_flag_is_a_one_line_usage_error() -> None:
    result = subprocess.run([*COMMAND, "--ttft", "soon"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --ttft 'soon': invalid duration 'soon'")
    assert result.stderr.count("\n") == 1
    result = subprocess.run([*COMMAND, "--scenario", "warp=9"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "unknown scenario key 'warp'" in result.stderr


def test_help_has_a_flag_per_scenario_key() -> None:
    result = CliRunner().invoke(mock, ["--help"])
    assert result.exit_code == 0
    for doc in KEYS:
        assert "--" + doc.key.replace("_", "-") in result.output
    assert "X-Tokenpath-Scenario" in result.output
