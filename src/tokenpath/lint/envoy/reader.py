"""What the readers of Envoy-family objects share: picking the objects of one API group, and
the metadata fields every kind has (read with ``FieldReader``'s shape checks)."""

from __future__ import annotations

from collections.abc import Iterator

from tokenpath.lint.fields import FieldReader
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.objects import Entry, Objects
from tokenpath.lint.yamlnode import YNode

ISTIO_GROUP = "networking.istio.io"
CONTOUR_GROUP = "projectcontour.io"


def api_group(root: YNode) -> str:
    """The group of the object's ``apiVersion`` ("" for the core group or none)."""
    api_version = root.get("apiVersion")
    text = api_version.text() if api_version is not None else None
    return (text or "").partition("/")[0] if "/" in (text or "") else ""


def objects_of(objects: Objects, kind: str, group: str) -> Iterator[tuple[ObjectRef, YNode]]:
    """(ref, root node) of every object of ``kind`` in API ``group``, in input order."""
    for ref in objects.others:
        if ref.kind == kind and ref.node is not None and api_group(ref.node) == group:
            yield ref, ref.node


class ObjectReader(FieldReader):
    """A ``FieldReader`` that reads one object after another."""

    def at(self, ref: ObjectRef) -> None:
        """Report the errors that follow against ``ref``."""
        self.file, self.obj = ref.file, str(ref)

    def labels_of(self, root: YNode) -> tuple[tuple[str, str], ...]:
        meta = self.map(root.get("metadata"), "metadata")
        return self.labels(meta.get("labels"), "metadata.labels") if meta is not None else ()

    def annotations_of(self, root: YNode) -> tuple[Entry, ...]:
        meta = self.map(root.get("metadata"), "metadata")
        if meta is None:
            return ()
        return self.string_map(meta.get("annotations"), "metadata.annotations")
