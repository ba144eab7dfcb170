"""Reading the fields of one YAML-backed object: the generic shapes a Kubernetes schema is made
of (mapping, list, string, integer, int-or-string, map[string]string), each checked as it is read.

A field of the wrong shape becomes an ``InputError`` (file:line, prefixed with the object) and
reads as absent, so the caller leaves it out and reads on. Nothing here raises.
"""

from __future__ import annotations

from tokenpath.lint.document import InputError
from tokenpath.lint.objects import Entry
from tokenpath.lint.yamlnode import NodeKind, YNode

_NOT_STRING_TAGS = (":int", ":float", ":bool")


class FieldReader:
    """Reads fields of one object at a time and collects InputErrors for malformed ones."""

    def __init__(self) -> None:
        self.errors: list[InputError] = []
        self.file = ""
        self.obj = ""

    def error(self, node: YNode, message: str) -> None:
        self.errors.append(InputError(self.file, node.span.line, f"{self.obj}: {message}"))

    def map(self, node: YNode | None, where: str) -> YNode | None:
        if node is None or is_null(node):
            return None
        if node.kind is not NodeKind.MAP:
            self.error(node, f"{where} must be a mapping")
            return None
        return node

    def seq(self, node: YNode | None, where: str) -> tuple[YNode, ...]:
        if node is None or is_null(node):
            return ()
        if node.kind is not NodeKind.SEQ:
            self.error(node, f"{where} must be a list")
            return ()
        return node.elements

    def text(self, node: YNode | None, where: str) -> str:
        if node is None or is_null(node):
            return ""
        if node.kind is not NodeKind.SCALAR:
            self.error(node, f"{where} must be a single value")
            return ""
        return node.value

    def integer(self, node: YNode | None, where: str) -> int | None:
        if node is None or is_null(node):
            return None
        if node.kind is not NodeKind.SCALAR or not node.tag.endswith(":int"):
            self.error(node, f"{where} must be an integer")
            return None
        number = yaml_int(node.value)
        if number is None:
            self.error(node, f"{where} must be an integer")
        return number

    def int_or_string(self, node: YNode | None, where: str) -> str:
        value = self.text(node, where)
        if node is not None and node.tag.endswith(":int"):
            number = yaml_int(value)
            return value if number is None else str(number)
        return value

    def string_map(self, node: YNode | None, where: str) -> tuple[Entry, ...]:
        """A map[string]string (annotations, labels, ConfigMap data). Kubernetes accepts only
        strings here: an unquoted number or boolean is reported, and kept as written."""
        mapping = self.map(node, where)
        if mapping is None:
            return ()
        entries = []
        for key, value in mapping.items:
            if value.kind is not NodeKind.SCALAR:
                self.error(value, f"{where}.{key.value} must be a string")
                continue
            if value.tag.endswith(_NOT_STRING_TAGS) and value.style == "":
                self.error(
                    value,
                    f"{where}.{key.value}: {value.value} is not a string and Kubernetes "
                    f'rejects it; quote it ("{value.value}")',
                )
            text = "" if is_null(value) else value.value
            entries.append(Entry(key=key.value, value=text, line=value.span.line, node=value))
        return tuple(entries)

    def labels(self, node: YNode | None, where: str) -> tuple[tuple[str, str], ...]:
        return tuple((e.key, e.value) for e in self.string_map(node, where))


def is_null(node: YNode) -> bool:
    return node.kind is NodeKind.SCALAR and node.tag.endswith(":null")


def yaml_int(text: str) -> int | None:
    """A YAML integer's value: decimal, 0x/0o/0b, YAML 1.1 octal (``010``) and ``_`` groups."""
    cleaned = text.replace("_", "")
    try:
        return int(cleaned, 0)
    except ValueError:
        pass
    try:
        return int(cleaned, 8) if cleaned.lstrip("+-").startswith("0") else int(cleaned)
    except ValueError:
        return None
