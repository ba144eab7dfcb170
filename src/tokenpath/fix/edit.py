"""Fixes are text edits on the original text, never a re-dump of the YAML, so comments,
quoting, key order and anchors survive by construction."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Safety(StrEnum):
    SAFE = "safe"  # same meaning as the user intended (e.g. "3600s" -> "3600"); applied by default
    UNSAFE = "unsafe"  # changes behaviour (e.g. raises a timeout); only with --unsafe-fixes
    DISPLAY_ONLY = "display-only"  # shown as advice, never applied


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` of ``file`` with ``replacement`` (character offsets)."""

    file: str
    start: int
    end: int
    replacement: str


@dataclass(frozen=True, slots=True)
class Fix:
    title: str  # what the fix does, imperative: 'set proxy-read-timeout to "3600"'
    edits: tuple[Edit, ...]
    safety: Safety
