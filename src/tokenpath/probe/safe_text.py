"""Server-controlled text made safe to print. Server text is never trusted."""

from __future__ import annotations

TEXT_PREVIEW_CHARS = 60

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_BIDI_AND_SEPARATORS = frozenset(
    "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)


def sanitize(text: str, limit: int | None = TEXT_PREVIEW_CHARS) -> str:
    """Escape everything a terminal could act on (C0/C1 controls, ESC, DEL, bidi overrides,
    line separators); keep ordinary Unicode."""
    clipped = text if limit is None or len(text) <= limit else text[:limit]
    out = [_escape_char(ch) for ch in clipped]
    return "".join(out) + ("…" if clipped is not text else "")


def _escape_char(ch: str) -> str:
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"\\x{code:02x}"
    if ch in _BIDI_AND_SEPARATORS:
        return f"\\u{code:04x}"
    return ch
