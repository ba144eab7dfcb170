"""``tokenpath demo``: the README's first command, run for real (mock + nginx)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.proxy


def test_demo_measures_what_it_claims_and_leaves_nothing_behind(
    nginx_binary: str, tmp_path: Path
) -> None:
    # A private TMPDIR: nginx's command line names its workdir inside it, so leftovers of
    # this run (and only this run) can be found by path.
    done = subprocess.run(
        [sys.executable, "-m", "tokenpath", "demo", "--json"],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["as_expected"] is True
    verdicts = [row["probe"]["verdict"] for s in report["sections"] for row in s["rows"]]
    assert verdicts[0] == "STREAMING"
    assert verdicts[1] in ("BUFFERED", "BURSTY")
    assert verdicts[3] == "CUT"
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, check=False)
    assert leftovers.stdout == b""
