"""The only file I/O of lint: paths (files, directories, "-") -> texts, and input errors.

A path that cannot be used becomes an ``InputError`` value (line 0, or the line of the first
bad byte), never an exception, so the other paths are still linted. Texts keep their bytes:
no newline translation and no byte order mark removal, so fixes edit exactly what is on disk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO, TextIO

from tokenpath.lint.document import InputError, SourceText

__all__ = ["MANIFEST_SUFFIXES", "MAX_FILE_BYTES", "STDIN_NAME", "read_inputs"]

MAX_FILE_BYTES = 64 * 1024 * 1024
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_NAME = "<stdin>"


def read_inputs(
    paths: Sequence[str], *, stdin: TextIO | BinaryIO | None = None
) -> tuple[list[SourceText], list[InputError]]:
    """Read every manifest that ``paths`` name, in order; "-" reads ``stdin`` (default:
    the process's). Directories are searched recursively for *.yaml, *.yml and *.json,
    sorted, skipping hidden entries. A file named twice is read once."""
    sources: list[SourceText] = []
    errors: list[InputError] = []
    seen: set[str] = set()
    for path in paths:
        if path == "-":
            if path not in seen:
                seen.add(path)
                _append(_read_stdin(stdin or sys.stdin), sources, errors)
            continue
        for file in _expand(path, errors):
            key = os.path.realpath(file)
            if key not in seen:
                seen.add(key)
                _append(_read_file(file), sources, errors)
    return sources, errors


def _append(
    result: SourceText | InputError, sources: list[SourceText], errors: list[InputError]
) -> None:
    if isinstance(result, InputError):
        errors.append(result)
    else:
        sources.append(result)


def _expand(path: str, errors: list[InputError]) -> Iterator[str]:
    """``path`` itself, or the manifests below it when it is a directory."""
    if not os.path.isdir(path):
        yield path  # a missing or unreadable file is reported when it is read
        return
    found = sorted(_walk(path, errors), key=lambda file: file.split(os.sep))
    if not found and not any(error.file == path for error in errors):
        suffixes = ", ".join("*" + suffix for suffix in MANIFEST_SUFFIXES)
        errors.append(InputError(path, 0, f"directory has no manifests ({suffixes})"))
    yield from found


def _walk(root: str, errors: list[InputError]) -> Iterator[str]:
    def report(exc: OSError) -> None:
        name = exc.filename if isinstance(exc.filename, str) else root
        errors.append(InputError(name, 0, _os_problem(exc)))

    # Symlinked directories are not followed, so a link loop cannot make the walk endless.
    for directory, subdirs, files in os.walk(root, onerror=report):
        subdirs[:] = [name for name in subdirs if not name.startswith(".")]
        for name in files:
            if not name.startswith(".") and name.lower().endswith(MANIFEST_SUFFIXES):
                yield os.path.join(directory, name)


def _read_file(path: str) -> SourceText | InputError:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                return _too_large(path)
            data = handle.read(MAX_FILE_BYTES + 1)  # bounded: pipes and devices have no size
    except OSError as exc:
        return InputError(path, 0, _os_problem(exc))
    return _decode(path, data, is_stdin=False)


def _read_stdin(stream: TextIO | BinaryIO | None) -> SourceText | InputError:
    if stream is None:  # the process was started without a standard input
        return InputError(STDIN_NAME, 0, "no standard input to read")
    # Prefer the bytes under a text stream: the encoding check and the size cap are the
    # same as for files, and no newline translation happens.
    source: TextIO | BinaryIO = getattr(stream, "buffer", None) or stream
    try:
        data = source.read(MAX_FILE_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        return InputError(STDIN_NAME, 0, f"cannot read standard input: {exc}")
    if isinstance(data, bytes):
        return _decode(STDIN_NAME, data, is_stdin=True)
    if len(data) > MAX_FILE_BYTES:
        return _too_large(STDIN_NAME)
    if "\0" in data:
        return _binary(STDIN_NAME, data.index("\0"))
    return SourceText(STDIN_NAME, data, is_stdin=True)


def _decode(name: str, data: bytes, *, is_stdin: bool) -> SourceText | InputError:
    if len(data) > MAX_FILE_BYTES:
        return _too_large(name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = "file is UTF-16 (byte order mark); convert it to UTF-8, e.g. iconv -f UTF-16"
        return InputError(name, 0, message + " -t UTF-8")
    nul = data.find(b"\0")
    if nul >= 0:
        return _binary(name, nul)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start]
        message = f"not valid UTF-8: byte 0x{bad:02x} at offset {exc.start}; save it as UTF-8"
        return InputError(name, line, message)
    return SourceText(name, text, is_stdin=is_stdin)


def _binary(name: str, offset: int) -> InputError:
    return InputError(name, 0, f"binary file (NUL byte at offset {offset}), not a manifest")


def _too_large(name: str) -> InputError:
    mib = 1024 * 1024
    limit = (
        f"{MAX_FILE_BYTES // mib} MiB" if MAX_FILE_BYTES % mib == 0 else f"{MAX_FILE_BYTES} bytes"
    )
    return InputError(name, 0, f"larger than {limit}; split it into smaller files")


def _os_problem(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return f"cannot read: {exc.strerror or exc}"
