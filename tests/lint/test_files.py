"""read_inputs: files, directories and stdin -> texts, and every unreadable input as a value."""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

import pytest

from tokenpath.lint import files
from tokenpath.lint.document import InputError, SourceText
from tokenpath.lint.files import STDIN_NAME, read_inputs

FIXTURES = Path(__file__).parent / "fixtures" / "input"
MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"


def write(path: Path, content: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return str(path)


def test_reads_a_file_byte_for_byte(tmp_path: Path) -> None:
    text = "\ufeff" + MANIFEST.replace("\n", "\r\n")
    path = write(tmp_path / "crlf-bom.yaml", text)
    sources, errors = read_inputs([path])
    assert errors == []
    assert sources == [SourceText(path, text)]  # BOM and CRLF kept, for exact fixes


def test_directory_is_searched_recursively_in_sorted_order(tmp_path: Path) -> None:
    for name in (
        "b.yaml",
        "a.yml",
        "c.json",
        "D.YAML",
        "sub/z.yaml",
        "sub/deeper/y.yaml",
        "notes.txt",
        "chart/values.yaml.tpl",
        ".hidden.yaml",
        ".git/config.yaml",
        "sub/.cache/x.yaml",
    ):
        write(tmp_path / name, MANIFEST)
    sources, errors = read_inputs([str(tmp_path)])
    assert errors == []
    relative = [os.path.relpath(source.file, tmp_path) for source in sources]
    assert relative == [
        "D.YAML",
        "a.yml",
        "b.yaml",
        "c.json",
        os.path.join("sub", "deeper", "y.yaml"),
        os.path.join("sub", "z.yaml"),
    ]
    assert all(source.file.startswith(str(tmp_path)) for source in sources)


def test_explicit_hidden_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / ".hidden.yaml", MANIFEST)
    sources, errors = read_inputs([path])
    assert (len(sources), errors) == (1, [])


def test_directory_without_manifests(tmp_path: Path) -> None:
    write(tmp_path / "README.md", "# nothing here\n")
    sources, errors = read_inputs([str(tmp_path)])
    assert sources == []
    assert errors == [
        InputError(str(tmp_path), 0, "directory has no manifests (*.yaml, *.yml, *.json)")
    ]


def test_missing_path_does_not_stop_the_others(tmp_path: Path) -> None:
    good = write(tmp_path / "good.yaml", MANIFEST)
    missing = str(tmp_path / "missing.yaml")
    sources, errors = read_inputs([missing, good])
    assert [source.file for source in sources] == [good]
    assert errors == [InputError(missing, 0, "no such file or directory")]


def test_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", MANIFEST)
    sources, errors = read_inputs([path, str(tmp_path), path])
    assert [source.file for source in sources] == [path]
    assert errors == []


def test_permission_denied_as_any_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads any file, and CI runs as root: refuse the open itself.
    path = write(tmp_path / "secret.yaml", MANIFEST)

    def refuse(file: str, mode: str = "r") -> io.BufferedReader:
        raise PermissionError(13, "Permission denied", file)

    monkeypatch.setattr(files, "open", refuse, raising=False)
    sources, errors = read_inputs([path])
    assert sources == []
    assert errors == [InputError(path, 0, "permission denied")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlinked_directory_loops_are_not_followed(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", MANIFEST)
    os.symlink(tmp_path, tmp_path / "loop")
    sources, errors = read_inputs([str(tmp_path)])
    assert [source.file for source in sources] == [path]
    assert errors == []


def test_binary_file() -> None:
    path = str(FIXTURES / "binary.yaml")
    assert read_inputs([path]) == (
        [],
        [InputError(path, 0, "binary file (NUL byte at offset 51), not a manifest")],
    )


def test_non_utf8_file_names_the_first_bad_byte() -> None:
    path = str(FIXTURES / "latin1.yaml")
    assert read_inputs([path]) == (
        [],
        [InputError(path, 4, "not valid UTF-8: byte 0xe9 at offset 52; save it as UTF-8")],
    )


def test_utf16_file() -> None:
    path = str(FIXTURES / "utf16.yaml")
    sources, errors = read_inputs([path])
    assert sources == []
    assert len(errors) == 1
    assert errors[0].message.startswith("file is UTF-16 (byte order mark)")


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 64)
    big = write(tmp_path / "big.yaml", MANIFEST * 3)
    small = write(tmp_path / "small.yaml", MANIFEST)
    sources, errors = read_inputs([big, small])
    assert [source.file for source in sources] == [small]
    assert errors == [InputError(big, 0, "larger than 64 bytes; split it into smaller files")]


def test_size_cap_is_64_mib() -> None:
    assert files.MAX_FILE_BYTES == 64 * 1024 * 1024
    assert str(files._too_large("f")) == "f: larger than 64 MiB; split it into smaller files"


def test_size_cap_on_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 64)
    _, errors = read_inputs(["-"], stdin=io.BytesIO(MANIFEST.encode() * 3))
    assert [error.message for error in errors] == [
        "larger than 64 bytes; split it into smaller files"
    ]
    _, errors = read_inputs(["-"], stdin=io.StringIO(MANIFEST * 3))
    assert len(errors) == 1


def test_stdin_bytes_text_and_wrapped() -> None:
    raw = ("\ufeff" + MANIFEST.replace("\n", "\r\n")).encode("utf-8")
    expected = SourceText(STDIN_NAME, raw.decode("utf-8"), is_stdin=True)
    for stream in (io.BytesIO(raw), io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")):
        assert read_inputs(["-"], stdin=stream) == ([expected], [])
    # A text stream without bytes beneath it is taken as it reads.
    text = MANIFEST
    assert read_inputs(["-"], stdin=io.StringIO(text)) == (
        [SourceText(STDIN_NAME, text, is_stdin=True)],
        [],
    )


def test_stdin_bad_bytes() -> None:
    _, errors = read_inputs(["-"], stdin=io.BytesIO(b"kind: x\nname: \xff\n"))
    assert errors == [
        InputError(STDIN_NAME, 2, "not valid UTF-8: byte 0xff at offset 14; save it as UTF-8")
    ]
    _, errors = read_inputs(["-"], stdin=io.StringIO("a\0b"))
    assert errors == [
        InputError(STDIN_NAME, 0, "binary file (NUL byte at offset 1), not a manifest")
    ]


def test_stdin_once_and_in_order(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", MANIFEST)
    sources, errors = read_inputs([path, "-", "-"], stdin=io.BytesIO(b"kind: List\n"))
    assert [(source.file, source.is_stdin) for source in sources] == [
        (path, False),
        (STDIN_NAME, True),
    ]
    assert errors == []


def test_default_stdin_is_the_process_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.TextIOWrapper(io.BytesIO(MANIFEST.encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stream)
    assert read_inputs(["-"]) == ([SourceText(STDIN_NAME, MANIFEST, is_stdin=True)], [])


def test_no_process_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    assert read_inputs(["-"]) == ([], [InputError(STDIN_NAME, 0, "no standard input to read")])


def test_fixture_directory_reads_every_input() -> None:
    sources, errors = read_inputs([str(FIXTURES)])
    read = {Path(source.file).name for source in sources}
    failed = {Path(error.file).name for error in errors}
    assert failed == {"binary.yaml", "latin1.yaml", "utf16.yaml"}
    assert read | failed == {path.name for path in FIXTURES.iterdir()}


def test_unreadable_subdirectory_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "ok.yaml", MANIFEST)
    locked = tmp_path / "locked"
    write(locked / "x.yaml", MANIFEST)
    os.chmod(locked, 0)
    try:
        sources, errors = read_inputs([str(tmp_path)])
    finally:
        os.chmod(locked, 0o755)
        shutil.rmtree(locked)
    assert "ok.yaml" in [Path(source.file).name for source in sources]
    if os.geteuid() != 0:  # root lists the directory anyway
        assert errors == [InputError(str(locked), 0, "permission denied")]
