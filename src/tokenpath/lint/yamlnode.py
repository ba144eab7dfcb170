"""A position-aware YAML tree: what the loader produces and what rules and fixes point at.

Every node keeps where it stands in the original text (character offsets and 1-based line and
column), so findings name a line and fixes are text edits on the original, never a re-dump.
Aliases are resolved by the loader into shared subtrees (bounded); ``anchor`` records an
anchor defined on the node so a fix can refuse to edit shared values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class NodeKind(StrEnum):
    MAP = "map"
    SEQ = "seq"
    SCALAR = "scalar"


@dataclass(frozen=True, slots=True)
class Span:
    start: int  # character offset of the first character in the document's file text
    end: int  # character offset just past the last character
    line: int  # 1-based line of ``start``
    column: int  # 1-based column of ``start``


@dataclass(frozen=True, slots=True)
class YNode:
    kind: NodeKind
    span: Span
    # SCALAR: the scalar's text value (always str; typed interpretation is the caller's job)
    value: str = ""
    # MAP: (key, value) pairs in file order; keys are SCALAR nodes
    items: tuple[tuple[YNode, YNode], ...] = ()
    # SEQ: the elements in order
    elements: tuple[YNode, ...] = ()
    tag: str = ""  # resolved YAML tag, e.g. "tag:yaml.org,2002:str" / ":int" / ":null"
    style: str = ""  # scalar style: "" plain, "'" single, '"' double, "|" literal, ">" folded
    flow: bool = False  # MAP/SEQ written in flow style ({...} / [...])
    anchor: str = ""  # anchor defined here (&name), or "" (aliases resolve to the target)
    alias: bool = False  # this occurrence is an alias (*name) of another node

    def get(self, key: str) -> YNode | None:
        """The value of ``key`` in a MAP node (first occurrence), else None."""
        if self.kind is not NodeKind.MAP:
            return None
        for k, v in self.items:
            if k.value == key:
                return v
        return None

    def key_node(self, key: str) -> YNode | None:
        """The key node of ``key`` in a MAP node, else None."""
        if self.kind is not NodeKind.MAP:
            return None
        for k, _ in self.items:
            if k.value == key:
                return k
        return None

    def path(self, *keys: str) -> YNode | None:
        """Follow MAP keys: ``doc.path("metadata", "annotations")``."""
        node: YNode | None = self
        for key in keys:
            if node is None:
                return None
            node = node.get(key)
        return node

    def text(self) -> str | None:
        """The scalar's value, or None for a non-scalar or a YAML null."""
        if self.kind is not NodeKind.SCALAR or self.tag.endswith(":null"):
            return None
        return self.value

    def pairs(self) -> Iterator[tuple[str, YNode]]:
        """(key text, value node) for a MAP node; nothing for other kinds."""
        for k, v in self.items:
            yield k.value, v
