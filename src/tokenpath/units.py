"""Parsing and formatting of durations and sizes given by users."""

from __future__ import annotations

import re

from tokenpath.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_FACTORS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+)\s*([kKmMgG]i?[bB]?|[bB])?\s*$")
_SIZE_FACTORS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_duration(text: str) -> float:
    """``"150ms"``, ``"2s"``, ``"1.5"``, ``"5m"``, ``"1h"`` -> seconds. A bare number is seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(
            f"invalid duration {text!r}: use a number with ms, s, m or h (e.g. 250ms, 2s)"
        )
    return float(match.group(1)) * _DURATION_FACTORS[match.group(2)]


def parse_size(text: str) -> int:
    """``"1MiB"``, ``"512k"``, ``"4096"`` -> bytes (binary multiples)."""
    match = _SIZE.match(text)
    if match is None:
        raise UsageError(
            f"invalid size {text!r}: use a byte count with an optional k, M or G (e.g. 1M)"
        )
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * _SIZE_FACTORS[unit]


def format_seconds(seconds: float) -> str:
    """A short human form: ``0.8 ms``, ``152 ms``, ``4.10 s``."""
    if seconds < 0.01:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2f} s"


def format_seconds_or_dash(seconds: float | None) -> str:
    """``format_seconds`` for a value that may be missing ("—"); negatives show as zero."""
    return "—" if seconds is None else format_seconds(max(0.0, seconds))


def format_bytes(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024**2:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024**2:.1f} MiB"
