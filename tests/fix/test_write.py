"""The I/O edge: atomic writes that keep bytes and mode, and unified diffs."""

from __future__ import annotations

import os
import pathlib
import stat

import pytest
from fixtree import obj

from tokenpath.errors import ManifestError
from tokenpath.fix.apply import apply_edits
from tokenpath.fix.write import unified_diff, write_atomic
from tokenpath.fix.yamledit import set_annotation

TEXT = "\ufeffapiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: c  # é\r\ndata: {}\r\n"


def test_write_keeps_mode_and_bytes_and_leaves_no_temp_file(tmp_path: pathlib.Path):
    path = tmp_path / "m.yaml"
    path.write_bytes(b"old\n")
    path.chmod(0o640)
    write_atomic(str(path), TEXT)
    assert path.read_bytes() == TEXT.encode("utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["m.yaml"]


def test_write_through_a_symlink_replaces_the_target(tmp_path: pathlib.Path):
    target = tmp_path / "real.yaml"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    write_atomic(str(link), "new\n")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == "new\n"


def test_a_new_file_gets_the_umask_mode(tmp_path: pathlib.Path):
    path = tmp_path / "new.yaml"
    old = os.umask(0o027)
    try:
        write_atomic(str(path), "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_failed_write_keeps_the_original_and_leaves_no_temp_file(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "m.yaml"
    path.write_text("old\n", encoding="utf-8")

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ManifestError, match=r"m\.yaml: cannot write: No space left on device"):
        write_atomic(str(path), "new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["m.yaml"]


def test_a_missing_directory_is_a_manifest_error(tmp_path: pathlib.Path):
    with pytest.raises(ManifestError, match="cannot write"):
        write_atomic(str(tmp_path / "nope" / "m.yaml"), "x\n")


def test_unified_diff_touches_only_the_changed_lines_and_keeps_crlf():
    new = apply_edits(TEXT, set_annotation(obj(TEXT), "a", "b") or ())
    diff = unified_diff("m.yaml", TEXT, new)
    assert diff.startswith("--- a/m.yaml\n+++ b/m.yaml\n@@ ")
    changed = [ln for ln in diff.splitlines(keepends=True)[2:] if ln[0] in "+-"]
    assert changed == ["+  annotations:\r\n", '+    a: "b"\r\n']


def test_unified_diff_edge_cases():
    assert unified_diff("m.yaml", "same\n", "same\n") == ""
    diff = unified_diff("m.yaml", "a\nb", "a\nc")
    assert diff.endswith("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n")
    # a line separator inside a value is not a line break
    diff = unified_diff("m.yaml", "k: 'a\u2028b'\nx: 1\n", "k: 'a\u2028b'\nx: 2\n")
    assert "-x: 1\n+x: 2\n" in diff
    assert " k: 'a\u2028b'\n" in diff
