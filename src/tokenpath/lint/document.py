"""Input documents and input errors: what ``lint.load`` returns, as values."""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.lint.yamlnode import YNode


@dataclass(frozen=True, slots=True)
class InputError:
    """A file, document or object that could not be read. Reported one line each, exit 2."""

    file: str
    line: int  # 1-based; 0 when it concerns the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML/JSON document of an input, or one item of a ``kind: List``."""

    file: str  # path as given by the user, or "<stdin>"
    index: int  # 0-based position of the document in the file (List items share it)
    root: YNode
    helm_source: str = ""  # Helm's "# Source: chart/templates/x.yaml" comment, when present
    item: int = -1  # position inside a ``kind: List``, or -1


@dataclass(frozen=True, slots=True)
class SourceText:
    """The full text of one input, kept so fixes can edit it."""

    file: str
    text: str
    is_stdin: bool = False
