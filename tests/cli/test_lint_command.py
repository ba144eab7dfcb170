"""``tokenpath lint`` and ``tokenpath fix`` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "lint" / "rules" / "fixtures"

MANIFEST = """\
# ingress for the chat model
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: chat
  namespace: ai
  annotations:
    tokenpath.dev/streaming: "true"   # an LLM route
    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600s"  # meant as one hour
spec:
  ingressClassName: nginx
  rules:
    - host: chat.example.com
      http:
        paths:
          - path: /v1
            pathType: Prefix
            backend:
              service: {name: vllm, port: {number: 8000}}
"""


def tokenpath(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        input=stdin,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "ingress.yaml").write_text(MANIFEST, encoding="utf-8")
    (tmp_path / "clean.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ai\n")
    return tmp_path


def test_lint_reports_the_ignored_timeout_with_its_line_and_exits_1(repo: Path) -> None:
    done = tokenpath("lint", ".", cwd=repo)
    assert done.returncode == 1, done.stderr
    assert "TP203" in done.stdout
    assert "ingress.yaml" in done.stdout
    assert "9:" in done.stdout  # the annotation's line


def test_json_output_has_the_documented_keys(repo: Path) -> None:
    done = tokenpath("lint", ".", "--format", "json", cwd=repo)
    report = json.loads(done.stdout)
    assert set(report) >= {"findings", "errors"}
    finding = next(f for f in report["findings"] if f["code"] == "TP203")
    for key in (
        "code",
        "category",
        "severity",
        "message",
        "object",
        "file",
        "line",
        "setting",
        "value",
        "source",
        "fix",
    ):
        assert key in finding
    assert finding["object"] == "Ingress/ai/chat"
    assert finding["line"] == 9
    assert finding["value"] == "3600s"
    assert finding["category"] == "ignored-setting"


def test_fail_on_error_ignores_warnings_and_info(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MANIFEST.replace('"3600s"', '"30"'), encoding="utf-8")
    assert tokenpath("lint", ".", "--fail-on", "error", cwd=tmp_path).returncode == 0
    assert tokenpath("lint", ".", "--fail-on", "warning", cwd=tmp_path).returncode == 1


def test_stdin_like_helm_template(repo: Path) -> None:
    done = tokenpath("lint", "-", stdin=MANIFEST)
    assert done.returncode == 1
    assert "<stdin>" in done.stdout


def test_bad_input_is_one_line_per_problem_exit_2_and_the_rest_is_still_linted(
    repo: Path,
) -> None:
    (repo / "broken.yaml").write_text("kind: [unclosed\n", encoding="utf-8")
    (repo / "binary.yaml").write_bytes(b"\x00\x01\x02")
    done = tokenpath("lint", ".", cwd=repo)
    assert done.returncode == 2
    assert "TP203" in done.stdout  # the good file was still linted
    assert "broken.yaml:" in done.stdout + done.stderr
    assert "binary.yaml" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_fix_applies_the_safe_fix_keeps_comments_and_mode_and_is_idempotent(repo: Path) -> None:
    target = repo / "ingress.yaml"
    target.chmod(0o640)
    clean_before = (repo / "clean.yaml").stat().st_mtime_ns
    done = tokenpath("fix", ".", cwd=repo)
    assert done.returncode in (0, 1), done.stderr
    text = target.read_text(encoding="utf-8")
    assert 'proxy-read-timeout: "3600"  # meant as one hour' in text
    assert "# ingress for the chat model" in text
    assert text.replace('"3600"', '"3600s"') == MANIFEST  # nothing else changed
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert (repo / "clean.yaml").stat().st_mtime_ns == clean_before  # untouched
    again = tokenpath("fix", ".", cwd=repo)
    assert target.read_text(encoding="utf-8") == text
    assert "fixed 0" in again.stderr
    assert not [p for p in repo.iterdir() if p.name.startswith(".")]  # no temp files left


def test_fix_diff_writes_nothing(repo: Path) -> None:
    done = tokenpath("fix", ".", "--diff", cwd=repo)
    assert '+    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"' in done.stdout
    assert (repo / "ingress.yaml").read_text(encoding="utf-8") == MANIFEST


def test_fix_from_stdin_writes_the_fixed_stream_to_stdout() -> None:
    done = tokenpath("fix", "-", stdin=MANIFEST)
    assert done.stdout.rstrip("\n") == MANIFEST.replace('"3600s"', '"3600"').rstrip("\n")


def test_fix_refuses_a_file_it_cannot_parse(tmp_path: Path) -> None:
    broken = MANIFEST + "---\nkind: [unclosed\n"
    (tmp_path / "a.yaml").write_text(broken, encoding="utf-8")
    done = tokenpath("fix", ".", cwd=tmp_path)
    assert done.returncode == 2
    assert (tmp_path / "a.yaml").read_text(encoding="utf-8") == broken


def test_every_rule_fixture_converges_under_fix_with_unsafe_fixes(tmp_path: Path) -> None:
    work = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, work)
    first = tokenpath("fix", ".", "--unsafe-fixes", cwd=work)
    assert first.returncode in (0, 1), first.stderr
    snapshot = {p.name: p.read_text(encoding="utf-8") for p in work.iterdir()}
    second = tokenpath("fix", ".", "--unsafe-fixes", cwd=work)
    assert "fixed 0" in second.stderr
    assert {p.name: p.read_text(encoding="utf-8") for p in work.iterdir()} == snapshot


def test_show_routes_names_where_each_value_came_from(repo: Path) -> None:
    done = tokenpath("lint", ".", "--show-routes", cwd=repo)
    assert "chat.example.com/v1" in done.stdout
    assert "ignored" in done.stdout
    assert "3600s" in done.stdout
