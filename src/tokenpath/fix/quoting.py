"""YAML scalar quoting: how a string is written as a one-line scalar so it reads back unchanged.

A plain scalar stays plain only when every YAML reader Kubernetes tooling uses (YAML 1.1 as in
go-yaml v2 and PyYAML, and 1.2) reads the new text as the same string; otherwise it becomes
double-quoted, because annotation and ConfigMap values must be strings (``off``, ``yes``, ``y``,
``3600``, ``1e3``, ``0x1F``, ``2024-01-01`` would not be). Single quotes fall back to double
quotes for characters they cannot hold. Tabs are always escaped, never written raw. New keys
and values take the majority style of their siblings. Pure.
"""

from __future__ import annotations

import re
from collections import Counter

from tokenpath.lint.yamlnode import NodeKind, YNode

__all__ = [
    "DOUBLE",
    "PLAIN",
    "SINGLE",
    "is_safe_plain",
    "reads_as_str",
    "render",
    "render_key",
    "render_value",
]

PLAIN, SINGLE, DOUBLE = "", "'", '"'

# Plain text we are willing to write: ASCII words separated by single spaces, no YAML indicator
# at the start and no ':', '#', ',', brackets or quotes anywhere (safe in block and flow context).
_PLAIN_SHAPE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./+=@-]*(?: [A-Za-z0-9_./+=@-]+)*")
# Read as bool or null by YAML 1.1 (go-yaml v2 includes y/n) or 1.2; compared lower-cased.
_NOT_STR_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ""})
# Anything a 1.1/1.2 reader or Go's strconv might take for a number (int in any base, float,
# sexagesimal, underscores, inf/nan), or a timestamp.
_NUMBERISH = re.compile(
    r"[-+]?(?:\.?[0-9][0-9a-fA-F_xXoObB.:]*(?:[eEpP][-+]?[0-9_]*)?|\.?(?:inf|infinity|nan))",
    re.IGNORECASE,
)
_FLOW_COMMENT = re.compile(r"[ \t\r\n]#")  # or " #" inside a quoted value: refused alike
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")

_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def reads_as_str(value: str) -> bool:
    """Would ``value`` written plain be read back as this string by every YAML reader?"""
    if value.lower() in _NOT_STR_WORDS or value != value.strip():
        return False
    return not (_NUMBERISH.fullmatch(value) or _TIMESTAMP.match(value))


def is_safe_plain(value: str) -> bool:
    """``value`` can be written as a plain scalar (block or flow) and reads back unchanged."""
    return _PLAIN_SHAPE.fullmatch(value) is not None and reads_as_str(value)


def _printable(ch: str) -> bool:
    """YAML-printable, no tab, no line break (so single quotes and plain text can hold it)."""
    if " " <= ch <= "~":
        return True
    code = ord(ch)
    return (
        code >= 0xA0
        and ch not in "\u2028\u2029\ufeff\ufffe\uffff"
        and not (0xD800 <= code <= 0xDFFF)
    )


def _double(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _printable(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def render(value: str, style: str) -> str:
    """``value`` as a one-line scalar in ``style``, or double-quoted when it cannot be."""
    if style == PLAIN and is_safe_plain(value):
        return value
    if style == SINGLE and all(_printable(ch) for ch in value):
        return "'" + value.replace("'", "''") + "'"
    return _double(value)


def _majority(styles: list[str]) -> str | None:
    """Most common style; a tie goes to the one used last."""
    if not styles:
        return None
    counts = Counter(styles)
    top = max(counts.values())
    return next(s for s in reversed(styles) if counts[s] == top)


def render_key(key: str, siblings: YNode | None) -> str:
    keys = siblings.items if siblings is not None else ()
    style = _majority([k.style for k, _ in keys if k.style in (PLAIN, SINGLE, DOUBLE)])
    return render(key, PLAIN if style is None else style)


def render_value(value: str, siblings: YNode | None) -> str:
    styles = [
        v.style
        for _, v in (siblings.items if siblings is not None else ())
        if v.kind is NodeKind.SCALAR
        and v.style in (PLAIN, SINGLE, DOUBLE)
        and not v.tag.endswith(":null")
    ]
    style = _majority(styles)
    return render(value, DOUBLE if style is None else style)
