"""Test-only: manifest text -> ObjectRefs whose nodes come from the real loader."""

from __future__ import annotations

from tokenpath.lint.document import SourceText
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.yamlnode import YNode


def _field(root: YNode, *keys: str) -> str:
    found = root.path(*keys)
    return found.value if found is not None else ""


def objects(text: str, file: str = "m.yaml") -> list[ObjectRef]:
    """Every object of ``text`` as an ObjectRef carrying its root node and the whole text."""
    documents, errors = load_documents(SourceText(file, text))
    assert not errors, errors
    return [
        ObjectRef(
            kind=_field(doc.root, "kind"),
            name=_field(doc.root, "metadata", "name"),
            namespace=_field(doc.root, "metadata", "namespace"),
            file=file,
            line=doc.root.span.line,
            doc_index=doc.index,
            node=doc.root,
            text=text,
        )
        for doc in documents
    ]


def obj(text: str, file: str = "m.yaml") -> ObjectRef:
    """The single object of ``text``."""
    (only,) = objects(text, file)
    return only
