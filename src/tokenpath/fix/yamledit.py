"""Minimal text edits on a YAML manifest, computed from node spans on the original text.

Nothing here re-dumps YAML: an edit replaces one scalar's characters or inserts one entry's
lines, so comments, key order, quoting, anchors, blank lines, the file's line endings and a
BOM survive by construction. Every builder is pure and returns ``None`` when it refuses.

Decisions:

* **Quoting.** A replaced scalar keeps its style. Quoted styles are re-escaped; a plain scalar
  stays plain only when every YAML reader reads it as the same string (``fix.quoting``).
* **Refusals.** Alias occurrences, anything inside an anchored subtree (the value may be shared
  with other objects), block scalars, multi-line plain scalars, explicitly tagged scalars
  (``!!str 3600``), duplicate keys, and multi-line or commented flow maps. Multi-line quoted
  scalars are replaced whole by a one-line scalar.
* **New entries** go after the map's last entry: at the end of that entry's last line, after any
  trailing comment and before any blank or comment lines that follow. Siblings decide the
  indentation and the quoting of key and value (majority style; plain values are written plain
  only when safe; an empty map gets plain keys and double-quoted values). The indentation
  step of a new nested map is the step its parent map already uses (else the object's, else 2).
* **Flow maps** without comments are appended to in flow style: on their line when they fit
  on one (``{a: "1"}`` -> ``{a: "1", b: "2"}``), else on a new line laid out like the last
  entry's, when that entry starts its own line (pretty-printed JSON). An empty ``{}`` that is
  the value of a block entry becomes a block map (``annotations: {}`` -> ``annotations:`` and
  one indented entry), as does a null value (``annotations:`` / ``annotations: ~``). Other
  flow maps (a comment inside, entries sharing lines across line breaks) are refused.
* **Annotations.** ``set_annotation`` creates a missing ``annotations:`` at the end of
  ``metadata`` (after ``labels:`` and its block when that comes last), which keeps the
  conventional name/namespace/labels/annotations order in the common case.
* ``set_map_value``, ``set_path_value`` and ``set_annotation`` return ``()`` when the map
  already holds that value (a recomputed fix changes nothing: idempotence).
* **Key paths.** ``set_path_value`` walks existing maps and creates the missing ones as one
  nested block entry (``timeouts:`` over ``request: "900s"``); a null value on the way
  becomes a block map, like ``annotations: ~``. A scalar or a list on the way is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tokenpath.fix.edit import Edit
from tokenpath.fix.quoting import (
    DOUBLE,
    PLAIN,
    SINGLE,
    reads_as_str,
    render,
    render_key,
    render_value,
)
from tokenpath.fix.quoting import (
    is_safe_plain as is_safe_plain,  # re-exported: callers import it from here
)
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.yamlnode import NodeKind, YNode

_BOM = "\ufeff"

_FLOW_COMMENT = re.compile(r"[ \t\r\n]#")  # or " #" inside a quoted value: refused alike


# -- public builders ------------------------------------------------------------------------


def replace_scalar(obj: ObjectRef, node: YNode, new_value: str) -> Edit | None:
    """Replace a scalar's text with ``new_value``, keeping its quoting style.

    The edit may be a no-op (replacement equal to the current text) when the scalar already
    reads as ``new_value``. ``None`` when the scalar cannot be edited safely.
    """
    path = _editable_path(obj, node)
    if (
        path is None
        or node.kind is not NodeKind.SCALAR
        or node.style not in (PLAIN, SINGLE, DOUBLE)
    ):
        return None
    text, start, end = obj.text, node.span.start, node.span.end
    if _tagged(text, start):
        return None  # '!!str 3600' or a custom tag: the new text might not suit the tag
    source = text[start:end]
    if node.style in (SINGLE, DOUBLE):
        if len(source) < 2 or source[0] != node.style or source[-1] != node.style:
            return None  # the span is not exactly the quoted text
        if new_value == node.value:
            return Edit(obj.file, start, end, source)
        return Edit(obj.file, start, end, render(new_value, node.style))
    if "\n" in source or "\r" in source or source != node.value:
        return None  # multi-line plain scalar, or a tag in front of it
    if new_value == node.value and reads_as_str(new_value):
        return Edit(obj.file, start, end, source)
    rendered = render(new_value, PLAIN)
    if start == end and text.startswith(" ", start):  # 'key: ' -> 'key: "v"', one space
        return Edit(obj.file, start + 1, end + 1, rendered)
    if start == end and start > 0 and text[start - 1] not in " \t":
        rendered = " " + rendered  # an empty null right after the colon: 'key:' -> 'key: "v"'
    return Edit(obj.file, start, end, rendered)


def set_map_value(obj: ObjectRef, map_node: YNode, key: str, value: str) -> tuple[Edit, ...] | None:
    """Set ``key`` to the string ``value`` in a map: replace its scalar, or insert an entry."""
    path = _editable_path(obj, map_node)
    if path is None or map_node.kind is not NodeKind.MAP:
        return None
    found = [v for k, v in map_node.items if k.value == key]
    if len(found) > 1:
        return None  # duplicate keys: which one a reader uses is not ours to guess
    if found:
        edit = replace_scalar(obj, found[0], value)
        if edit is None:
            return None
        return () if edit.replacement == obj.text[edit.start : edit.end] else (edit,)
    # an empty map takes its key quoting from the map around it (quoted keys in JSON)
    outer = next((n for n in reversed(path) if n.kind is NodeKind.MAP and n.items), None)
    entry = _Entry(render_key(key, outer), render_value(value, map_node))
    return _insert_entry(obj, path, entry)


def set_path_value(
    obj: ObjectRef, map_node: YNode, keys: tuple[str, ...], value: str
) -> tuple[Edit, ...] | None:
    """Set the key path ``keys`` below a map to the string ``value``, creating the missing
    intermediate maps: ``("timeouts", "request")`` adds ``timeouts:`` over ``request: "900s"``
    when the map has no ``timeouts``, or ``request`` inside an existing one."""
    if not keys:
        return None
    if len(keys) == 1:
        return set_map_value(obj, map_node, keys[0], value)
    path = _editable_path(obj, map_node)
    if path is None or map_node.kind is not NodeKind.MAP:
        return None
    found = [(k, v) for k, v in map_node.items if k.value == keys[0]]
    if len(found) > 1:
        return None  # duplicate keys: which one a reader uses is not ours to guess
    if not found:
        outer = next((n for n in reversed(path) if n.kind is NodeKind.MAP and n.items), None)
        return _insert_entry(obj, path, _nested_entry(keys, value, outer))
    key_node, child = found[0]
    if child.alias or child.anchor:
        return None
    if child.kind is NodeKind.MAP:
        return set_path_value(obj, child, keys[1:], value)
    is_null = child.kind is NodeKind.SCALAR and child.style == PLAIN and child.tag.endswith(":null")
    if is_null and not map_node.flow:
        return _blockify(obj, path, key_node, child, _nested_entry(keys[1:], value, map_node))
    return None  # a scalar or a list where a map is needed: not ours to replace


def _nested_entry(keys: tuple[str, ...], value: str, siblings: YNode | None) -> _Entry:
    """``keys[0]:`` over ``keys[1]:`` ... over ``keys[-1]: value``; the keys are quoted like
    ``siblings``' keys, the value like a fresh map's (``render_value`` without siblings)."""
    entry = _Entry(render_key(keys[-1], siblings), render_value(value, None))
    for key in reversed(keys[:-1]):
        entry = _Entry(render_key(key, siblings), child=entry)
    return entry


def set_annotation(obj: ObjectRef, key: str, value: str) -> tuple[Edit, ...] | None:
    """Set ``metadata.annotations[key]`` to ``value``, creating ``annotations:`` if missing."""
    root = obj.node
    if root is None or root.kind is not NodeKind.MAP or _count(root, "metadata") != 1:
        return None
    meta = root.get("metadata")
    if meta is None or meta.kind is not NodeKind.MAP:
        return None
    meta_path = _editable_path(obj, meta)
    if meta_path is None:
        return None
    child = _Entry(render_key(key, meta), render_value(value, None))
    count = _count(meta, "annotations")
    if count == 0:
        return _insert_entry(obj, meta_path, _Entry(render_key("annotations", meta), child=child))
    key_node, ann = next((k, v) for k, v in meta.items if k.value == "annotations")
    if count > 1 or ann.alias or ann.anchor:
        return None
    if ann.kind is NodeKind.MAP:
        return set_map_value(obj, ann, key, value)
    if ann.kind is NodeKind.SCALAR and ann.style == PLAIN and ann.tag.endswith(":null"):
        return _blockify(obj, meta_path, key_node, ann, child)
    return None


# -- where things are -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """A new map entry: ``key: value``, or ``key:`` over a one-entry nested map."""

    key: str
    value: str = ""
    child: _Entry | None = None

    def block(self, indent: str, step: str, eol: str) -> str:
        if self.child is None:
            return f"{indent}{self.key}: {self.value}"
        return f"{indent}{self.key}:{eol}{self.child.block(indent + step, step, eol)}"

    def flow(self) -> str:
        if self.child is None:
            return f"{self.key}: {self.value}"
        return f"{self.key}: {{{self.child.flow()}}}"


def _count(map_node: YNode, key: str) -> int:
    return sum(1 for k, _ in map_node.items if k.value == key)


def _tagged(text: str, start: int) -> bool:
    """Is the node starting at ``start`` preceded by an explicit ``!tag`` (or ``&anchor``)?"""
    end = start
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1
    begin = end
    while begin > 0 and text[begin - 1] not in " \t\r\n":
        begin -= 1
    return text[begin:end].lstrip("[{,").startswith(("!", "&"))


def _children(node: YNode) -> Iterator[YNode]:
    for k, v in node.items:
        yield k
        yield v
    yield from node.elements


def _find(node: YNode, target: YNode) -> list[YNode] | None:
    """Nodes from ``node`` down to ``target`` (by identity), or None."""
    if node is target:
        return [node]
    if node.alias:
        return None  # an alias repeats its target's subtree; the target is found at its anchor
    for child in _children(node):
        below = _find(child, target)
        if below is not None:
            return [node, *below]
    return None


def _editable_path(obj: ObjectRef, node: YNode) -> list[YNode] | None:
    """Path from the object's root to ``node`` when nothing on it is shared, else None."""
    if obj.node is None or not 0 <= node.span.start <= node.span.end <= len(obj.text):
        return None
    path = _find(obj.node, node)
    if path is None or any(n.alias or n.anchor for n in path):
        return None
    return path


def _line_start(text: str, pos: int) -> int:
    newline = text.rfind("\n", 0, pos)  # a lone CR (old Mac files) also ends a line
    return max(newline, text.rfind("\r", newline + 1, pos)) + 1


def _line_end(text: str, pos: int) -> int:
    newline = text.find("\n", pos)
    newline = len(text) if newline < 0 else newline
    cr = text.find("\r", pos, newline)
    return newline if cr < 0 else cr


def _eol_at(text: str, pos: int) -> str:
    """The line break at ``pos``; at the end of the file, the file's first line break."""
    if text.startswith("\r\n", pos):
        return "\r\n"
    if pos < len(text):
        return text[pos]
    first = _line_end(text, 0)
    if first == len(text):
        return "\n"
    return "\r\n" if text.startswith("\r\n", first) else text[first]


def _indent(text: str, pos: int) -> str | None:
    """Spaces that put a new line's first character in the column of ``pos``."""
    prefix = text[_line_start(text, pos) : pos].removeprefix(_BOM)
    if any(ch not in " -\t" for ch in prefix):
        return None  # e.g. '? ' complex keys or '--- key': not a layout we understand
    return " " * len(prefix)


def _deep_end(text: str, node: YNode) -> int | None:
    """Offset just past the last character of a block node's content, or None to refuse."""
    if node.alias or node.flow:
        return node.span.end
    if node.kind is NodeKind.MAP and node.items:
        key, value = node.items[-1]
        end = _deep_end(text, value)
        return None if end is None else max(key.span.end, end)
    if node.kind is NodeKind.SEQ and node.elements:
        return _deep_end(text, node.elements[-1])
    if node.kind is NodeKind.SCALAR and node.style in ("|", ">"):
        header = text[node.span.start : _line_end(text, node.span.start)]
        if "+" in header.split("#", 1)[0]:
            return None  # '|+' keeps trailing blank lines: an entry after it would steal them
        return node.span.start + len(text[node.span.start : node.span.end].rstrip(" \t\r\n"))
    return node.span.end


def _indent_step(obj: ObjectRef, path: list[YNode]) -> str:
    """The indentation step of the map at ``path[-1]``, else the object's first one, else 2."""
    text = obj.text
    pairs: list[tuple[YNode, YNode]] = []
    if len(path) >= 2 and path[-2].kind is NodeKind.MAP:
        pairs += [(k, v) for k, v in path[-2].items if v is path[-1]]
    pairs += list(_nested_block_maps(obj.node)) if obj.node is not None else []
    for key, child in pairs:
        if child.flow or not child.items:
            continue
        outer, inner = _indent(text, key.span.start), _indent(text, child.items[0][0].span.start)
        if outer is not None and inner is not None and len(inner) > len(outer):
            return " " * (len(inner) - len(outer))
    return "  "


def _nested_block_maps(node: YNode) -> Iterator[tuple[YNode, YNode]]:
    """(key, value) of block-map entries whose value is a non-empty block map, depth first."""
    if node.alias:
        return
    for k, v in node.items:
        if not node.flow and v.kind is NodeKind.MAP and v.items and not v.flow and not v.alias:
            yield k, v
        yield from _nested_block_maps(v)
    for element in node.elements:
        yield from _nested_block_maps(element)


# -- inserting entries ----------------------------------------------------------------------


def _insert_entry(obj: ObjectRef, path: list[YNode], entry: _Entry) -> tuple[Edit, ...] | None:
    map_node, text = path[-1], obj.text
    if map_node.flow:
        return _insert_flow(obj, path, entry)
    if not map_node.items:
        return None
    last_key, last_value = map_node.items[-1]
    indent = _indent(text, last_key.span.start)
    end = _deep_end(text, last_value)
    if indent is None or end is None:
        return None
    line_end = _line_end(text, max(last_key.span.end, end))
    eol = _eol_at(text, line_end)
    block = entry.block(indent, _indent_step(obj, path), eol)
    return (Edit(obj.file, line_end, line_end, eol + block),)


def _insert_flow(obj: ObjectRef, path: list[YNode], entry: _Entry) -> tuple[Edit, ...] | None:
    map_node, text = path[-1], obj.text
    start, end = map_node.span.start, map_node.span.end
    source = text[start:end]
    if not (source.startswith("{") and source.endswith("}")) or _FLOW_COMMENT.search(source):
        return None
    one_line = "\n" not in source and "\r" not in source
    parent = path[-2] if len(path) >= 2 else None
    if not map_node.items:
        if not one_line:
            return None
        if parent is not None and parent.kind is NodeKind.MAP and not parent.flow:
            key = next(k for k, v in parent.items if v is map_node)
            return _blockify(obj, path[:-1], key, map_node, entry)
        return (Edit(obj.file, start + 1, end - 1, entry.flow()),)
    if one_line:
        inner = source[1:-1].rstrip(" \t")
        at = start + 1 + len(inner)
        sep = " " if inner.endswith(",") else ", "
        return (Edit(obj.file, at, at, sep + entry.flow()),)
    # one entry a line (pretty-printed JSON): a new line laid out like the last entry's
    last_key, last_value = map_node.items[-1]
    prefix = text[_line_start(text, last_key.span.start) : last_key.span.start]
    if prefix.strip(" ") or last_value.span.end < last_key.span.end:
        return None
    at = last_value.span.end
    eol = _eol_at(text, _line_end(text, at))
    return (Edit(obj.file, at, at, "," + eol + prefix + entry.flow()),)


def _blockify(
    obj: ObjectRef, path: list[YNode], key: YNode, value: YNode, child: _Entry
) -> tuple[Edit, ...] | None:
    """Turn ``key: {}`` or ``key: ~`` (an entry of the block map ``path[-1]``) into ``key:``
    over a block map holding ``child``; a trailing comment stays on the key's line."""
    text = obj.text
    colon = re.compile(r"[ \t]*:").match(text, key.span.end)
    if colon is None or value.alias or value.anchor or path[-1].flow:
        return None
    line_end = _line_end(text, value.span.end)
    between, rest = text[colon.end() : value.span.start], text[value.span.end : line_end]
    if between.strip(" \t") or (rest.strip(" \t") and not rest.lstrip(" \t").startswith("#")):
        return None  # a tag, a line break or more content around the value
    indent = _indent(text, key.span.start)
    if indent is None:
        return None
    eol = _eol_at(text, line_end)
    step = _indent_step(obj, path)
    block = child.block(indent + step, step, eol)
    rest = rest if rest.strip(" \t") else ""  # no trailing blanks after 'key:'
    return (Edit(obj.file, colon.end(), line_end, rest + eol + block),)
