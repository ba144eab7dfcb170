"""Text -> Kubernetes documents (and raw Envoy bootstraps) with positions. Pure: no I/O, no
exceptions for bad input.

``load_documents`` reads multi-document YAML and JSON into ``YNode`` trees whose spans are
character offsets into ``SourceText.text`` (so a fix is a text edit on the original), expands
``kind: List`` items and picks up Helm's ``# Source:`` comments. Every problem is an
``InputError`` value with file and 1-based line, and one bad document never hides the others.

The trees come from ``lint.yamltree``. A syntax error ends PyYAML's event stream, so the
document that failed is parsed alone (up to the next separator line) and the parse resumes
after it, offsets and lines kept file-relative.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager

import yaml  # type: ignore[import-untyped, unused-ignore]

from tokenpath.lint.document import Document, InputError, SourceText
from tokenpath.lint.yamlnode import NodeKind, YNode
from tokenpath.lint.yamltree import (
    LOADER,
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    NULL_TAG,
    Composed,
    TooDeep,
    compose,
    make_node,
    make_span,
)

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "is_envoy_bootstrap", "load_documents"]

_Loader = LOADER  # the parser's loader class (a module attribute, so tests can swap it)
_make_span, _make_node = make_span, make_node  # the tree's fast constructors
_SOURCE_COMMENT = re.compile(r"^#[ \t]*Source:[ \t]*(\S[^\r\n]*?)[ \t]*\r?$", re.MULTILINE)
_SEPARATOR = re.compile(r"^(---|\.\.\.)(?=[ \t\r\n]|$)", re.MULTILINE)


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


def _compose_all(file: str, text: str, base: int) -> Iterator[Composed]:
    """Every document of ``text[base:]``, in order, one per bad document included.

    A syntax error ends the parser's stream, so the document that failed is parsed alone
    (from the end of the last good one to the next separator line) and the parse resumes
    after it. Offsets and lines stay file-relative throughout.
    """
    pos, line = base, 0
    while True:
        resume = pos
        try:
            for doc in compose(file, text, pos, len(text), line, _Loader):
                yield doc
                resume = doc.end
            return
        except (yaml.YAMLError, TooDeep):
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


def _compose_part(file: str, text: str, start: int, end: int, line: int) -> Iterator[Composed]:
    try:
        yield from compose(file, text, start, end, line, _Loader)
    except yaml.YAMLError as exc:
        where, message = _syntax_error(exc, text, start, end, line)
        yield Composed(None, end, [InputError(file, where, message)])
    except TooDeep as exc:
        yield Composed(None, end, [exc.error])


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
    if root.kind is NodeKind.SCALAR and root.tag == NULL_TAG:
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
    if items is None or items.tag == NULL_TAG:
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
    if is_envoy_bootstrap(node):
        return ""
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


def is_envoy_bootstrap(node: YNode) -> bool:
    """A raw Envoy bootstrap (``envoy.yaml`` / ``envoy.json``): a map with ``static_resources``
    and neither ``apiVersion`` nor ``kind``, which no Kubernetes object is."""
    return (
        node.kind is NodeKind.MAP
        and node.get("static_resources") is not None
        and node.get("apiVersion") is None
        and node.get("kind") is None
    )


def _string(node: YNode | None) -> bool:
    return node is not None and node.kind is NodeKind.SCALAR and bool(node.text())
