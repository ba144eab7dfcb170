"""The I/O edge of ``fix``: write a fixed manifest atomically, render a unified diff.

Text is written as UTF-8 with ``newline=""``, so the line endings (and a BOM) that the edits
kept are written back byte for byte. ``OSError`` is translated here into ``ManifestError``.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import stat
import tempfile

from tokenpath.errors import ManifestError

_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")
_NO_EOL = "\\ No newline at end of file\n"


def _umask() -> int:
    # os.umask can only be read by setting it; this is not thread-safe, but runs only for a
    # file that did not exist before
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str, text: str) -> None:
    """Replace ``path``'s content with ``text``, all at once or not at all.

    A temporary file in the same directory is written, fsynced and renamed over the target
    (through a symlink, the link is kept and its target replaced). The original mode is kept,
    and its owner and group when this process may set them. A failure leaves the original
    untouched and no temporary file behind.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    try:
        before: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        before = None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot write: {exc.strerror}") from exc
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tokenpath-tmp"
        )
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        mode = stat.S_IMODE(before.st_mode) if before is not None else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        if before is not None and hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # only root may give a file away
                if (before.st_uid, before.st_gid) != (os.getuid(), os.getgid()):
                    os.chown(tmp, before.st_uid, before.st_gid)
        os.replace(tmp, target)
        tmp = ""
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ManifestError(f"{path}: cannot write: {reason}; the file was left unchanged") from exc
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _sync_directory(directory)


def _sync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); best effort where directories cannot be opened."""
    flags = getattr(os, "O_DIRECTORY", 0) | os.O_RDONLY
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _lines(text: str) -> list[str]:
    # split on "\n" only: str.splitlines would also split on \x85, \u2028, \x0c inside values;
    # a "\r\n" line keeps its "\r", so the diff applies back byte for byte
    return _LINES.findall(text)


def unified_diff(path: str, old: str, new: str) -> str:
    """A ``git diff``-style unified diff of ``path`` (``""`` when nothing changed)."""
    if old == new:
        return ""
    out = []
    for line in difflib.unified_diff(_lines(old), _lines(new), f"a/{path}", f"b/{path}"):
        out.append(line if line.endswith("\n") else line + "\n" + _NO_EOL)
    return "".join(out)
