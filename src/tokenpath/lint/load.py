"""Text -> Kubernetes documents with positions. Pure: no I/O, no exceptions for bad input.

``load_documents`` reads multi-document YAML and JSON into ``YNode`` trees whose spans are
character offsets into ``SourceText.text`` (so a fix is a text edit on the original), expands
``kind: List`` items and picks up Helm's ``# Source:`` comments. Every problem is an
``InputError`` value with file and 1-based line, and one bad document never hides the others.

PyYAML only supplies parser events (libyaml when available); the tree is composed here,
iteratively, which is what bounds the bad inputs: nesting depth is capped, aliases share the
anchored subtree and their expanded size is counted (alias bombs), duplicate keys are noticed.
A syntax error ends PyYAML's event stream, so the document that failed is parsed alone (up to
the next separator line) and the parse resumes after it, offsets and lines kept file-relative.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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

from tokenpath.lint.document import Document, InputError, SourceText
from tokenpath.lint.yamlnode import NodeKind, Span, YNode

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "load_documents"]

# libyaml parses in C; the pure-Python parser gives the same events, only slower.
_Loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

MAX_DEPTH = 200  # Kubernetes objects nest ~20 deep; deeper input is hostile or broken
MAX_ALIAS_NODES = 200_000  # nodes per document once aliases are expanded

_READ_SIZE = 2048  # characters handed to the parser per read
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = Resolver.yaml_implicit_resolvers
_SOURCE_COMMENT = re.compile(r"^#[ \t]*Source:[ \t]*(\S[^\r\n]*?)[ \t]*\r?$", re.MULTILINE)
_VALUE = attrgetter("value")
_LINE = attrgetter("line")
_SEPARATOR = re.compile(r"^(---|\.\.\.)(?=[ \t\r\n]|$)", re.MULTILINE)


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


class _TooDeep(Exception):
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
class _Composed:
    """One document of the stream: its root (None when empty or abandoned) and problems."""

    root: YNode | None
    end: int  # offset where the document ends
    errors: list[InputError]
    children: list[YNode] = field(default_factory=list)  # the root, once composed


def load_documents(source: SourceText) -> tuple[list[Document], list[InputError]]:
    """Every Kubernetes object of ``source`` as a Document, and every problem as an error.

    Empty and comment-only documents are skipped; a document with duplicate keys is kept
    (all pairs, in file order) and reported; any other bad document is reported and left out.
    """
    with _gc_paused():
        return _load(source)


def _load(source: SourceText) -> tuple[list[Document], list[InputError]]:
    text = source.text
    base = 1 if text.startswith("\ufeff") else 0  # the byte order mark is not YAML content
    composed = list(_compose_all(source.file, text, base))
    documents: list[Document] = []
    errors: list[InputError] = []
    previous_end = base
    for index, doc in enumerate(composed):
        errors.extend(doc.errors)
        if doc.root is not None:
            helm = _helm_source(text, previous_end, doc.root.span.start)
            _accept(source.file, index, doc.root, helm, documents, errors)
        # Helm's comment may stand before the "---", so search from the previous content.
        previous_end = doc.root.span.end if doc.root is not None else doc.end
    return documents, errors


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Keep the cyclic collector off the growing tree, which is acyclic and freed by refcounts.

    Collections during a load of 10k objects tripled its time. On the way out everything is
    moved to the oldest generation (``freeze`` + ``unfreeze`` splices lists, it scans nothing):
    otherwise the first young collection after ``gc.enable()`` scans the whole new tree
    (~0.8 s for 10k objects). The tree is long-lived, so the oldest generation is its place.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


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


_make_span, _make_node = _fast_constructors()


def _compose_all(file: str, text: str, base: int) -> Iterator[_Composed]:
    """Every document of ``text[base:]``, in order, one per bad document included.

    A syntax error ends the parser's stream, so the document that failed is parsed alone
    (from the end of the last good one to the next separator line) and the parse resumes
    after it. Offsets and lines stay file-relative throughout.
    """
    pos, line = base, 0
    while True:
        resume = pos
        try:
            for doc in _compose(file, text, pos, len(text), line):
                yield doc
                resume = doc.end
            return
        except (yaml.YAMLError, _TooDeep):
            pass
        resume_line = line + text.count("\n", pos, resume)
        for start, end, part_line in _split(text, resume, resume_line):
            found = list(_compose_part(file, text, start, end, part_line))
            yield from found
            if found:  # the failed document (or what the parser saw of it): go on after it
                pos, line = end, part_line + text.count("\n", start, end)
                break
        else:
            return


def _compose_part(file: str, text: str, start: int, end: int, line: int) -> Iterator[_Composed]:
    try:
        yield from _compose(file, text, start, end, line)
    except yaml.YAMLError as exc:
        where, message = _syntax_error(exc, text, start, end, line)
        yield _Composed(None, end, [InputError(file, where, message)])
    except _TooDeep as exc:
        yield _Composed(None, end, [exc.error])


def _split(text: str, base: int, line: int) -> Iterator[tuple[int, int, int]]:
    """(start, end, 0-based line of start) of the parts of ``text[base:]`` between document
    separator lines: a part starts at a "---" line (or at the directives before it) and
    after a "..." line."""
    start = base
    for match in _SEPARATOR.finditer(text, base):
        if match.group(1) == "---":
            cut = match.start()
            while cut > start:  # directives (%YAML, %TAG) belong to the document after them
                previous = max(text.rfind("\n", start, cut - 1) + 1, start)
                if not text.startswith("%", previous):
                    break
                cut = previous
        else:
            newline = text.find("\n", match.end())
            cut = len(text) if newline < 0 else newline + 1
        if cut > start:
            yield start, cut, line
            line += text.count("\n", start, cut)
            start = cut
    if start < len(text):
        yield start, len(text), line


def _syntax_error(
    exc: yaml.YAMLError, text: str, start: int, end: int, line: int
) -> tuple[int, str]:
    """(1-based line, one-line message) for a parser error in ``text[start:end]``."""
    if isinstance(exc, yaml.reader.ReaderError):  # a forbidden character, at an offset
        part = text[start:end]
        if _Loader is not yaml.SafeLoader:  # libyaml counts the offset in UTF-8 bytes
            where = line + part.encode("utf-8")[: exc.position].count(b"\n") + 1
        else:
            where = line + part.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
        return where, f"YAML syntax error: {exc.reason} (character U+{char:04X})"
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    where = line + int(mark.line) + 1 if mark is not None else line + 1
    message = str(getattr(exc, "problem", None) or exc)
    context = getattr(exc, "context", None)
    if context:  # e.g. "while scanning a quoted scalar", which began on another line
        began = line + int(context_mark.line) + 1 if context_mark is not None else where
        message = (
            f"{context} (line {began}): {message}" if began != where else context + ": " + message
        )
    return where, "YAML syntax error: " + " ".join(message.split())


def _compose(file: str, text: str, start: int, end: int, line0: int) -> Iterator[_Composed]:
    """The documents of ``text[start:end]``, built from its parser events.

    Raises ``yaml.YAMLError`` on a syntax error; the documents before it have been yielded.
    This loop runs once per node of every input, so it is written for speed: one function,
    locals, and the rare cases (properties, aliases, limits) kept out of the common path.
    """
    get_event = _Loader(_Window(text, start, end)).get_event
    line0 += 1  # marks count lines from 0
    resolved: dict[str, str] = {}  # plain scalar text -> implicit tag
    anchors: dict[str, tuple[YNode, int]] = {}
    stack: list[_Frame] = []
    children: list[YNode] = []  # of the innermost open collection (or the document)
    doc = _Composed(None, end, [])
    expanded = 0  # nodes of the document, aliases expanded
    skipping = False  # the document was abandoned: read on to its end
    scalar, mapping, sequence = NodeKind.SCALAR, NodeKind.MAP, NodeKind.SEQ
    make_span, make_node = _make_span, _make_node
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
            span = make_span(pos, stop, line, column)
            node = make_node(scalar, span, value, (), (), tag, style, False, anchor, False)
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
                raise _TooDeep(InputError(file, line, f"nested deeper than {MAX_DEPTH} levels"))
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
            doc = _Composed(None, end, [])
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
    span = _make_span(frame.start, stop, frame.line, frame.column)
    items: tuple[tuple[YNode, YNode], ...] = ()
    elements: tuple[YNode, ...] = ()
    if frame.kind is NodeKind.MAP:
        items = tuple(zip(kids[::2], kids[1::2], strict=True))
    else:
        elements = tuple(kids)
    tag, flow, anchor = frame.tag, frame.flow, frame.anchor
    return _make_node(frame.kind, span, "", items, elements, tag, "", flow, anchor, False)


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
        return _NULL
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


def _helm_source(text: str, start: int, stop: int) -> str:
    """The last ``# Source: path`` comment between the previous document and this one."""
    found = ""
    for match in _SOURCE_COMMENT.finditer(text, start, stop):
        found = match.group(1)
    return found


def _accept(
    file: str,
    index: int,
    root: YNode,
    helm: str,
    documents: list[Document],
    errors: list[InputError],
) -> None:
    """Keep ``root`` if it is a Kubernetes object; expand a List; skip empty documents."""
    if root.kind is NodeKind.SCALAR and root.tag == _NULL:
        return
    kind = _list_kind(root)
    if not kind:
        problem = _not_an_object(root)
        if problem:
            errors.append(InputError(file, root.span.line, problem))
        else:
            documents.append(Document(file, index, root, helm))
        return
    items = root.get("items")
    if items is None or items.tag == _NULL:
        return
    if items.kind is not NodeKind.SEQ:
        errors.append(InputError(file, items.span.line, f"{kind}: items is not a list"))
        return
    for position, item in enumerate(items.elements):
        problem = _not_an_object(item)
        if problem:
            message = f"{kind} item {position}: {problem}"
            errors.append(InputError(file, item.span.line, message))
        else:
            documents.append(Document(file, index, item, helm, position))


def _list_kind(root: YNode) -> str:
    """``List`` (kubectl's), or ``FooList`` with an items sequence (an API list); else ""."""
    kind = root.path("kind")
    name = kind.text() if kind is not None else None
    if name == "List":
        return name
    items = root.get("items")
    if name and name.endswith("List") and items is not None and items.kind is NodeKind.SEQ:
        return name
    return ""


def _not_an_object(node: YNode) -> str:
    """Why ``node`` is not a Kubernetes object, or "" when it is one."""
    if node.kind is not NodeKind.MAP:
        found = "a list" if node.kind is NodeKind.SEQ else "a scalar"
        return f"not a Kubernetes object: expected a mapping, found {found}"
    missing = [key for key in ("apiVersion", "kind") if not _string(node.get(key))]
    metadata = node.get("metadata")
    # generateName: the API server picks the name (Jobs, Pods of some charts)
    if metadata is None or not (
        _string(metadata.get("name")) or _string(metadata.get("generateName"))
    ):
        missing.append("metadata.name")
    if not missing:
        return ""
    return "not a Kubernetes object: missing " + ", ".join(missing)


def _string(node: YNode | None) -> bool:
    return node is not None and node.kind is NodeKind.SCALAR and bool(node.text())
