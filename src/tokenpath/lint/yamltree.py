"""libyaml events -> position-aware ``YNode`` trees. Pure.

PyYAML only supplies parser events (libyaml when available); the tree is composed here,
iteratively, which is what bounds the bad inputs: nesting depth is capped, aliases share the
anchored subtree and their expanded size is counted (alias bombs), duplicate keys are noticed.
Spans are character offsets into the whole text, lines 1-based, both file-relative.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from operator import attrgetter
from types import MemberDescriptorType

import yaml  # type: ignore[import-untyped, unused-ignore]
from yaml.events import (  # type: ignore[import-untyped, unused-ignore]
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.resolver import Resolver  # type: ignore[import-untyped, unused-ignore]

from tokenpath.lint.document import InputError
from tokenpath.lint.yamlnode import NodeKind, Span, YNode

__all__ = [
    "LOADER",
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "NULL_TAG",
    "Composed",
    "TooDeep",
    "compose",
    "make_node",
    "make_span",
]

# libyaml parses in C; the pure-Python parser gives the same events, only slower.
LOADER = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

MAX_DEPTH = 200  # Kubernetes objects nest ~20 deep; deeper input is hostile or broken
MAX_ALIAS_NODES = 200_000  # nodes per document once aliases are expanded

_READ_SIZE = 2048  # characters handed to the parser per read
_STR = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = Resolver.yaml_implicit_resolvers
_VALUE = attrgetter("value")
_LINE = attrgetter("line")


class _Window:
    """``text[start:end]`` as a stream: a parse that stops at an error early in a long text
    reads (and the C parser encodes) only what it got to, never the whole rest again."""

    __slots__ = ("end", "pos", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.pos, self.end = text, start, end

    def read(self, size: int = -1) -> str:
        # Small reads: libyaml decodes each one whole, even when it fails on the first line.
        start = self.pos
        self.pos = min(self.end, start + (_READ_SIZE if size < 0 else min(size, _READ_SIZE)))
        return self.text[start : self.pos]


class TooDeep(Exception):
    """Nesting passed MAX_DEPTH: the parse of this part of the text ends here."""

    def __init__(self, error: InputError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(slots=True)
class _Frame:
    """A collection being composed: what its node will need once its end event arrives."""

    kind: NodeKind
    start: int
    line: int
    column: int
    anchor: str
    tag: str
    flow: bool
    first: int  # the document's expanded-node count when this collection opened
    children: list[YNode] = field(default_factory=list)


@dataclass(slots=True)
class Composed:
    """One document of the stream: its root (None when empty or abandoned) and problems."""

    root: YNode | None
    end: int  # offset where the document ends
    errors: list[InputError]
    children: list[YNode] = field(default_factory=list)  # the root, once composed


_SpanMaker = Callable[[int, int, int, int], Span]
_NodeMaker = Callable[
    [
        NodeKind,
        Span,
        str,
        tuple[tuple[YNode, YNode], ...],
        tuple[YNode, ...],
        str,
        str,
        bool,
        str,
        bool,
    ],
    YNode,
]


def _fast_constructors() -> tuple[_SpanMaker, _NodeMaker]:
    """Constructors of Span and YNode that take every field positionally, about twice as fast.

    A frozen dataclass's ``__init__`` assigns each field through ``object.__setattr__``;
    with ~80 nodes per Kubernetes object that was the loader's largest cost. These fill the
    same slots through their descriptors, so the instances are identical. If the classes no
    longer have exactly these slot fields, the classes themselves are used.
    """
    span_fields = ("start", "end", "line", "column")
    node_fields = (
        *("kind", "span", "value", "items", "elements"),
        *("tag", "style", "flow", "anchor", "alias"),
    )
    if not (_slots(Span, span_fields) and _slots(YNode, node_fields)):
        return Span, YNode
    new = object.__new__
    s0, s1, s2, s3 = (vars(Span)[name].__set__ for name in span_fields)
    n0, n1, n2, n3, n4, n5, n6, n7, n8, n9 = (vars(YNode)[name].__set__ for name in node_fields)

    def make_span(start: int, end: int, line: int, column: int) -> Span:
        span: Span = new(Span)
        s0(span, start), s1(span, end), s2(span, line), s3(span, column)
        return span

    def make_node(
        kind: NodeKind,
        span: Span,
        value: str,
        items: tuple[tuple[YNode, YNode], ...],
        elements: tuple[YNode, ...],
        tag: str,
        style: str,
        flow: bool,
        anchor: str,
        alias: bool,
    ) -> YNode:
        node: YNode = new(YNode)
        n0(node, kind), n1(node, span), n2(node, value), n3(node, items), n4(node, elements)
        n5(node, tag), n6(node, style), n7(node, flow), n8(node, anchor), n9(node, alias)
        return node

    return make_span, make_node


def _slots(cls: type, names: tuple[str, ...]) -> bool:
    """``cls`` is a dataclass of exactly these slot fields, with nothing run after init."""
    described = all(isinstance(vars(cls).get(name), MemberDescriptorType) for name in names)
    plain = not hasattr(cls, "__post_init__")
    return described and plain and tuple(f.name for f in fields(cls)) == names


make_span, make_node = _fast_constructors()


def compose(
    file: str, text: str, start: int, end: int, line0: int, loader: type = LOADER
) -> Iterator[Composed]:
    """The documents of ``text[start:end]``, built from its parser events.

    Raises ``yaml.YAMLError`` on a syntax error; the documents before it have been yielded.
    This loop runs once per node of every input, so it is written for speed: one function,
    locals, and the rare cases (properties, aliases, limits) kept out of the common path.
    """
    get_event = loader(_Window(text, start, end)).get_event
    line0 += 1  # marks count lines from 0
    resolved: dict[str, str] = {}  # plain scalar text -> implicit tag
    anchors: dict[str, tuple[YNode, int]] = {}
    stack: list[_Frame] = []
    children: list[YNode] = []  # of the innermost open collection (or the document)
    doc = Composed(None, end, [])
    expanded = 0  # nodes of the document, aliases expanded
    skipping = False  # the document was abandoned: read on to its end
    scalar, mapping, sequence = NodeKind.SCALAR, NodeKind.MAP, NodeKind.SEQ
    new_span, new_node = make_span, make_node
    while True:
        event = get_event()
        cls = type(event)
        if skipping and cls is not DocumentEndEvent:
            continue
        if cls is ScalarEvent:
            mark = event.start_mark
            pos = start + mark.index
            stop = start + event.end_mark.index
            line = line0 + mark.line
            column = mark.column + 1
            value = event.value
            tag = event.tag
            anchor = event.anchor or ""
            style = event.style or ""
            if anchor or tag:
                pos, line, column = _skip_properties(text, pos, stop, line, column)
            if style == "|" or style == ">":  # the end mark sits past trailing blank lines
                stop = _trim_end(text, pos, stop)
            if tag is None:
                if not event.implicit[0]:
                    tag = _STR
                else:
                    tag = resolved.get(value)
                    if tag is None:
                        tag = resolved[value] = _resolve(value)
            elif tag == "!":
                tag = _STR
            span = new_span(pos, stop, line, column)
            node = new_node(scalar, span, value, (), (), tag, style, False, anchor, False)
            expanded += 1
            if anchor:
                anchors[anchor] = (node, 1)
            children.append(node)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            mark = event.start_mark
            line = line0 + mark.line
            if len(stack) >= MAX_DEPTH:
                # Stop here: parsing on to the end of the document costs time (quadratic in
                # the pure-Python parser); the caller resumes at the next separator.
                raise TooDeep(InputError(file, line, f"nested deeper than {MAX_DEPTH} levels"))
            pos, column = start + mark.index, mark.column + 1
            tag = event.tag
            anchor = event.anchor or ""
            if anchor or tag:
                pos, line, column = _skip_properties(text, pos, len(text), line, column)
            is_map = cls is MappingStartEvent
            if tag is None or tag == "!":
                tag = _MAP if is_map else _SEQ
            kind = mapping if is_map else sequence
            frame = _Frame(kind, pos, line, column, anchor, tag, bool(event.flow_style), expanded)
            expanded += 1
            stack.append(frame)
            children = frame.children
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            frame = stack.pop()
            node = _collection(frame, start + event.end_mark.index)
            if frame.kind is mapping and len(frame.children) > 2:
                _check_keys(file, frame.children, doc.errors)
            if frame.anchor:
                anchors[frame.anchor] = (node, expanded - frame.first)
            children = stack[-1].children if stack else doc.children
            children.append(node)
        elif cls is AliasEvent:
            mark = event.start_mark
            line = line0 + mark.line
            found = anchors.get(event.anchor)
            if found is not None:
                expanded += found[1]
            problem = _alias_problem(event.anchor, found, expanded)
            if problem:
                doc.errors.append(InputError(file, line, problem))
                skipping = True
                continue
            assert found is not None
            target = found[0]
            # The alias keeps its own span, so an edit at this node never rewrites the anchor.
            span = Span(start + mark.index, start + event.end_mark.index, line, mark.column + 1)
            children.append(replace(target, span=span, anchor="", alias=True))
        elif cls is DocumentStartEvent:
            doc = Composed(None, end, [])
            children = doc.children
            stack.clear()
            anchors.clear()
            expanded = 0
            skipping = False
        elif cls is DocumentEndEvent:
            doc.end = start + event.end_mark.index
            if doc.children and not skipping:
                doc.root = doc.children[0]
            doc.errors.sort(key=_LINE)
            skipping = False
            yield doc
        elif cls is StreamEndEvent or event is None:
            return


def _collection(frame: _Frame, end_offset: int) -> YNode:
    kids = frame.children
    # A block collection's end mark is the next token's start: end at its last child.
    stop = end_offset if frame.flow else kids[-1].span.end if kids else frame.start
    span = make_span(frame.start, stop, frame.line, frame.column)
    items: tuple[tuple[YNode, YNode], ...] = ()
    elements: tuple[YNode, ...] = ()
    if frame.kind is NodeKind.MAP:
        items = tuple(zip(kids[::2], kids[1::2], strict=True))
    else:
        elements = tuple(kids)
    tag, flow, anchor = frame.tag, frame.flow, frame.anchor
    return make_node(frame.kind, span, "", items, elements, tag, "", flow, anchor, False)


def _check_keys(file: str, children: list[YNode], errors: list[InputError]) -> None:
    """Report each repeated scalar key of a mapping (its pairs are all kept, in file order)."""
    keys = children[::2]
    if len(set(map(_VALUE, keys))) == len(keys):
        return
    seen: dict[str, YNode] = {}
    for key in keys:
        if key.kind is not NodeKind.SCALAR:
            continue
        earlier = seen.setdefault(key.value, key)
        if earlier is not key:
            line = earlier.span.line
            lines = f"lines {line} and {key.span.line}" if line != key.span.line else f"line {line}"
            errors.append(InputError(file, key.span.line, f"duplicate key {key.value!r} ({lines})"))


def _alias_problem(name: str, found: tuple[YNode, int] | None, expanded: int) -> str:
    if found is None:
        return f"alias *{name} has no anchor &{name} before it in this document"
    if expanded > MAX_ALIAS_NODES:
        return f"more than {MAX_ALIAS_NODES} nodes after expanding aliases (alias bomb?)"
    return ""


def _trim_end(text: str, start: int, stop: int) -> int:
    while stop > start and text[stop - 1] in " \t\r\n":
        stop -= 1
    return stop


def _resolve(value: str) -> str:
    """The implicit tag of a plain scalar, as PyYAML's safe resolver decides it."""
    if not value:
        return NULL_TAG
    for tag, pattern in _IMPLICIT.get(value[0], ()):
        if pattern.match(value):
            return tag
    return _STR


def _skip_properties(
    text: str, pos: int, stop: int, line: int, column: int
) -> tuple[int, int, int]:
    """Move past ``&anchor`` / ``!tag`` (and spaces, comments, line breaks after them)."""
    while pos < stop:
        char = text[pos]
        if char == "&" or char == "!":
            while pos < stop and text[pos] not in " \t\r\n":
                pos += 1
                column += 1
        elif char == " " or char == "\t" or char == "\r":
            pos += 1
            column += 1
        elif char == "#":
            while pos < stop and text[pos] != "\n":
                pos += 1
        elif char == "\n":
            pos += 1
            line += 1
            column = 1
        else:
            break
    return pos, line, column
