"""load_documents: positions, document shapes, and every kind of bad input as a value.

Most tests run twice, with libyaml and with PyYAML's pure-Python parser (the fallback when
libyaml is missing); both must give the same trees and positions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from tokenpath.lint import load
from tokenpath.lint.document import Document, InputError, SourceText
from tokenpath.lint.load import MAX_ALIAS_NODES, MAX_DEPTH, load_documents
from tokenpath.lint.yamlnode import NodeKind, Span, YNode

FIXTURES = Path(__file__).parent / "fixtures" / "input"
LOADERS = [pytest.param(yaml.SafeLoader, id="pure")]
if hasattr(yaml, "CSafeLoader"):
    LOADERS.insert(0, pytest.param(yaml.CSafeLoader, id="libyaml"))

OBJECT = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


@pytest.fixture(params=LOADERS, autouse=True)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    monkeypatch.setattr(load, "_Loader", request.param)
    loader_class: type = request.param
    return loader_class


def run(text: str, file: str = "in.yaml") -> tuple[list[Document], list[InputError]]:
    return load_documents(SourceText(file, text))


def one(text: str) -> YNode:
    docs, errors = run(text)
    assert errors == []
    assert len(docs) == 1
    return docs[0].root


def fixture(name: str) -> tuple[str, list[Document], list[InputError]]:
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    docs, errors = load_documents(SourceText(name, text))
    return text, docs, errors


def at(text: str, node: YNode | None) -> str:
    """The source text a node's span covers."""
    assert node is not None
    return text[node.span.start : node.span.end]


def walk(node: YNode) -> Iterator[YNode]:
    yield node
    for key, value in node.items:
        yield from walk(key)
        yield from walk(value)
    for element in node.elements:
        yield from walk(element)


def check_positions(text: str, root: YNode) -> None:
    """Every node's line and column agree with its start offset."""
    for node in walk(root):
        before = text[: node.span.start]
        assert node.span.line == before.count("\n") + 1, node
        line_start = before.rfind("\n") + 1
        if line_start == 0 and text.startswith("\ufeff"):
            line_start = 1  # the byte order mark takes no column
        assert node.span.column == node.span.start - line_start + 1, node


def names(docs: list[Document]) -> list[str | None]:
    return [_name(doc.root) for doc in docs]


def _name(root: YNode) -> str | None:
    node = root.path("metadata", "name")
    return node.text() if node is not None else None


# --- positions ---------------------------------------------------------------------------


def test_spans_slice_exactly_the_scalar_text() -> None:
    text = (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: demo\n"
        "  annotations:\n"
        "    plain: on\n"
        "    single: 'it''s'\n"
        '    double: "tab\\there"\n'
        "    empty:\n"
        "    multi: first\n"
        "      second\n"
        "data:\n"
        "  literal: |\n"
        "    line one\n"
        "    line two\n"
        "\n"
        "\n"
        "  folded: >-\n"
        "    folded\n"
        "    text\n"
        "  flow: {a: 1, 'b': [x, \"y\"]}\n"
    )
    root = one(text)
    annotations = root.path("metadata", "annotations")
    assert annotations is not None
    assert at(text, annotations.get("plain")) == "on"
    assert at(text, annotations.get("single")) == "'it''s'"
    assert at(text, annotations.get("double")) == '"tab\\there"'
    assert at(text, annotations.get("multi")) == "first\n      second"
    assert at(text, annotations.key_node("single")) == "single"
    empty = annotations.get("empty")
    assert empty is not None
    assert (at(text, empty), empty.tag) == ("", "tag:yaml.org,2002:null")
    data = root.get("data")
    assert data is not None
    assert at(text, data.get("literal")) == "|\n    line one\n    line two"
    assert at(text, data.get("folded")) == ">-\n    folded\n    text"
    assert at(text, data.get("flow")) == "{a: 1, 'b': [x, \"y\"]}"
    assert at(text, data.path("flow", "b")) == '[x, "y"]'
    # A block collection ends at its last child, not at the next key.
    assert at(text, annotations).endswith("second")
    assert at(text, root) == text.rstrip("\n")
    check_positions(text, root)


def test_values_styles_and_tags() -> None:
    text = (
        OBJECT.format(name="demo")
        + "data:\n"
        + "  single: 'it''s'\n  double: \"a\\nb\"\n  literal: |\n    x\n  folded: >\n    y\n"
        + "  int: 42\n  bool: true\n  null: ~\n  str: '42'\n  flow: [1]\n"
    )
    data = one(text).get("data")
    assert data is not None
    values = {key: (node.value, node.style) for key, node in data.pairs()}
    assert values["single"] == ("it's", "'")
    assert values["double"] == ("a\nb", '"')
    assert values["literal"] == ("x\n", "|")
    assert values["folded"] == ("y\n", ">")
    tags = {key: node.tag.rsplit(":", 1)[1] for key, node in data.pairs()}
    assert tags == {
        "single": "str",
        "double": "str",
        "literal": "str",
        "folded": "str",
        "int": "int",
        "bool": "bool",
        "null": "null",
        "str": "str",
        "flow": "seq",
    }
    flow = data.get("flow")
    assert flow is not None
    assert (flow.kind, flow.flow) == (NodeKind.SEQ, True)
    assert data.flow is False


def test_lines_and_columns_with_multibyte_characters() -> None:
    text = OBJECT.format(name="caf\u00e9") + 'data:\n  \u00e9\U0001f600: "\u00fcber"\n'
    root = one(text)
    data = root.get("data")
    assert data is not None
    key, value = data.items[0]
    assert at(text, key) == "\u00e9\U0001f600"
    assert (value.span.line, value.span.column) == (6, 7)
    assert at(text, value) == '"\u00fcber"'
    check_positions(text, root)


def test_crlf_line_endings() -> None:
    text = OBJECT.format(name="crlf").replace("\n", "\r\n") + "data:\r\n  k: |\r\n    v\r\n\r\n"
    root = one(text)
    name = root.path("metadata", "name")
    assert at(text, name) == "crlf"
    assert name is not None
    assert (name.span.line, name.span.column) == (4, 9)
    assert at(text, root.path("data", "k")) == "|\r\n    v"
    check_positions(text, root)


def test_byte_order_mark_is_kept_out_of_spans() -> None:
    text = "\ufeff" + OBJECT.format(name="bom")
    docs, errors = run(text)
    assert errors == []
    root = docs[0].root
    assert root.span == Span(1, len(text) - 1, 1, 1)
    assert at(text, root.get("apiVersion")) == "v1"
    check_positions(text, root)


def test_json_positions() -> None:
    text, docs, errors = fixture("service.json")
    assert errors == []
    assert names(docs) == ["from-json"]
    root = docs[0].root
    note = root.path("metadata", "annotations", "example.com/note")
    assert note is not None
    assert (note.value, at(text, note), note.span.line) == ("caf\u00e9", '"caf\\u00e9"', 7)
    port = root.path("spec", "ports")
    assert port is not None
    assert at(text, port.elements[0].get("targetPort")) == "8080"
    assert port.elements[0].span.line == 11
    check_positions(text, root)


def test_anchors_and_aliases() -> None:
    text = (
        OBJECT.format(name="anchors")
        + "data:\n  base: &port 8080\n  copy: *port\n"
        + "spec:\n  defaults: &defaults\n    a: 1\n    b: [2]\n  again: *defaults\n"
        + "  tagged: &t !!str 5\n"
    )
    root = one(text)
    base, copy = root.path("data", "base"), root.path("data", "copy")
    assert base is not None
    assert copy is not None
    assert (base.anchor, base.alias, at(text, base)) == ("port", False, "8080")
    assert (copy.anchor, copy.alias, at(text, copy), copy.value) == ("", True, "*port", "8080")
    defaults, again = root.path("spec", "defaults"), root.path("spec", "again")
    assert defaults is not None
    assert again is not None
    assert defaults.anchor == "defaults"
    assert at(text, defaults) == "a: 1\n    b: [2]"
    assert (defaults.span.line, defaults.span.column) == (10, 5)
    assert again.alias
    assert again.items is defaults.items  # shared, not copied
    assert at(text, again) == "*defaults"
    tagged = root.path("spec", "tagged")
    assert tagged is not None
    assert (at(text, tagged), tagged.tag, tagged.anchor) == ("5", "tag:yaml.org,2002:str", "t")
    check_positions(text, root)


def test_custom_tags_keep_their_text() -> None:
    text = OBJECT.format(name="tags") + "data:\n  a: !vault secret\n  b: ! 12\n  c: !!int 7\n"
    data = one(text).get("data")
    assert data is not None
    a, b, c = (data.get(key) for key in "abc")
    assert a is not None
    assert b is not None
    assert c is not None
    assert (a.value, a.tag, a.text(), at(text, a)) == ("secret", "!vault", "secret", "secret")
    assert (b.value, b.tag) == ("12", "tag:yaml.org,2002:str")
    assert (c.value, c.tag) == ("7", "tag:yaml.org,2002:int")


def test_non_string_keys_keep_their_text() -> None:
    text = OBJECT.format(name="keys") + "data:\n  1: one\n  true: yes\n  ~: nothing\n"
    data = one(text).get("data")
    assert data is not None
    assert [(key.value, key.tag.rsplit(":", 1)[1]) for key, _ in data.items] == [
        ("1", "int"),
        ("true", "bool"),
        ("~", "null"),
    ]


def test_merge_keys_are_kept_as_written() -> None:
    text = OBJECT.format(name="merge") + "data:\n  base: &b {x: 1}\n  more:\n    <<: *b\n"
    more = one(text).path("data", "more")
    assert more is not None
    key, value = more.items[0]
    assert (key.value, value.alias, value.get("x") is not None) == ("<<", True, True)


def test_fast_constructors_build_the_same_instances() -> None:
    span = load._make_span(1, 2, 3, 4)
    assert span == Span(1, 2, 3, 4)
    assert type(span) is Span
    args = (NodeKind.SCALAR, span, "v", (), (), "t", "'", False, "a", True)
    node = load._make_node(*args)
    assert node == YNode(*args)
    assert [getattr(node, f.name) for f in fields(YNode)] == list(args)


# --- documents ---------------------------------------------------------------------------


def test_multi_document_indexes_and_lines() -> None:
    text = OBJECT.format(name="a") + "---\n" + OBJECT.format(name="b") + "...\n---\n---\n"
    text += "# comment\n" + OBJECT.format(name="c")
    docs, errors = run(text)
    assert errors == []
    assert names(docs) == ["a", "b", "c"]
    assert [doc.index for doc in docs] == [0, 1, 3]
    assert [doc.root.span.line for doc in docs] == [1, 6, 14]
    assert {doc.file for doc in docs} == {"in.yaml"}


def test_helm_template_source_comments() -> None:
    text, docs, errors = fixture("helm-template.yaml")
    assert errors == []
    assert [(doc.index, doc.helm_source, _kind(doc)) for doc in docs] == [
        (0, "llm/templates/serviceaccount.yaml", "ServiceAccount"),
        (2, "llm/templates/service.yaml", "Service"),
        (3, "llm/templates/ingress.yaml", "Ingress"),
    ]
    annotation = docs[2].root.path(
        "metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-buffering"
    )
    assert at(text, annotation) == '"off"'
    assert annotation is not None
    assert annotation.span.line == 30
    for doc in docs:
        check_positions(text, doc.root)


def test_helm_source_before_the_separator() -> None:
    text = "# Source: c/templates/a.yaml\n" + OBJECT.format(name="a")
    text += "# Source: c/templates/b.yaml\n---\n" + OBJECT.format(name="b") + "---\n"
    text += OBJECT.format(name="c")
    docs, errors = run(text)
    assert errors == []
    assert [doc.helm_source for doc in docs] == ["c/templates/a.yaml", "c/templates/b.yaml", ""]


def _kind(doc: Document) -> str | None:
    kind = doc.root.get("kind")
    return kind.text() if kind is not None else None


def test_kind_list_items_become_documents() -> None:
    text, docs, errors = fixture("list.yaml")
    assert [(doc.index, doc.item, _name(doc.root)) for doc in docs] == [
        (0, 0, "svc-a"),
        (0, 1, "ing-b"),
    ]
    assert [doc.root.span.line for doc in docs] == [6, 10]
    assert errors == [
        InputError("list.yaml", 14, "List item 2: not a Kubernetes object: missing apiVersion")
    ]
    for doc in docs:
        check_positions(text, doc.root)


def test_typed_lists_and_empty_lists() -> None:
    item = OBJECT.format(name="s").rstrip("\n").replace("\n", "\n  ")
    text = "apiVersion: v1\nkind: ServiceList\nitems:\n- " + item + "\n"
    text += "---\napiVersion: v1\nkind: List\nitems: []\n---\napiVersion: v1\nkind: List\n"
    docs, errors = run(text)
    assert errors == []
    assert [(doc.index, doc.item, _name(doc.root)) for doc in docs] == [(0, 0, "s")]


# --- bad input -----------------------------------------------------------------------------


def test_syntax_error_loses_only_its_document() -> None:
    _, docs, errors = fixture("syntax-error.yaml")
    assert names(docs) == ["first", "second", "fourth", "fifth"]
    assert [doc.index for doc in docs] == [0, 1, 3, 4]
    assert len(errors) == 1
    error = errors[0]
    assert error.file == "syntax-error.yaml"
    assert error.line == 18  # "data:" where the unclosed flow mapping fails
    assert error.message.startswith("YAML syntax error: while parsing a flow mapping (line 17)")


def test_syntax_error_positions_stay_file_relative() -> None:
    text = OBJECT.format(name="a") + "---\nkey: [unclosed\n---\n" + OBJECT.format(name="b")
    text += "data:\n  k: 'v'\n"
    docs, errors = run(text)
    assert names(docs) == ["a", "b"]
    assert [error.line for error in errors] == [7]
    value = docs[1].root.path("data", "k")
    assert at(text, value) == "'v'"
    assert value is not None
    assert value.span.line == 13
    check_positions(text, docs[1].root)


def test_syntax_error_in_the_first_document_without_separator() -> None:
    docs, errors = run("a: b: c\n---\n" + OBJECT.format(name="ok"))
    assert names(docs) == ["ok"]
    assert len(errors) == 1
    assert errors[0].line == 1


def test_many_documents_with_several_errors() -> None:
    bad = {10, 500, 1999}
    parts = [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n"
        if index in bad
        else OBJECT.format(name=f"cm-{index}")
        for index in range(2000)
    ]
    text = "---\n".join(parts)
    docs, errors = run(text)
    assert [doc.index for doc in docs] == [index for index in range(2000) if index not in bad]
    assert names(docs)[:11] == [f"cm-{index}" for index in (*range(10), 11)]
    starts = [1]  # the line where each part begins
    for part in parts:
        starts.append(starts[-1] + part.count("\n") + 1)
    # Each error is found at the separator line after its unclosed flow sequence.
    assert [error.line for error in errors] == [starts[index] + 3 for index in sorted(bad)]
    assert docs[-1].root.span.line == starts[1998]


def test_bare_document_after_an_end_marker() -> None:
    # YAML 1.1 (libyaml) wants "---" after "..."; each part still parses alone.
    docs, errors = run(OBJECT.format(name="a") + "...\n" + OBJECT.format(name="b"))
    assert names(docs) == ["a", "b"]
    assert errors == []


def test_alias_bomb_is_capped_quickly() -> None:
    started = time.perf_counter()
    _, docs, errors = fixture("alias-bomb.yaml")
    assert time.perf_counter() - started < 1
    assert names(docs) == ["after-the-bomb"]
    assert len(errors) == 1
    assert errors[0].line == 12  # the second *e passes the cap
    assert errors[0].message == (
        f"more than {MAX_ALIAS_NODES} nodes after expanding aliases (alias bomb?)"
    )


def test_aliases_below_the_cap_are_fine() -> None:
    text = OBJECT.format(name="many") + "data:\n  a: &a [" + ", ".join(["x"] * 100) + "]\n"
    text += "  b: [" + ", ".join(["*a"] * 1000) + "]\n"  # 100k nodes expanded
    root = one(text)
    b = root.path("data", "b")
    assert b is not None
    assert len(b.elements) == 1000


def test_undefined_alias() -> None:
    _, docs, errors = fixture("undefined-alias.yaml")
    assert names(docs) == ["fine"]
    assert errors == [
        InputError(
            "undefined-alias.yaml",
            6,
            "alias *nowhere has no anchor &nowhere before it in this document",
        )
    ]


def test_deep_flow_nesting_is_capped_quickly() -> None:
    started = time.perf_counter()
    _, docs, errors = fixture("deep-nesting.yaml")
    assert time.perf_counter() - started < 1
    assert names(docs) == ["shallow"]
    assert errors == [InputError("deep-nesting.yaml", 6, f"nested deeper than {MAX_DEPTH} levels")]


def test_deep_block_nesting_is_capped_quickly() -> None:
    depth = MAX_DEPTH + 50
    lines = [f"{' ' * level}k{level}:" for level in range(depth)]
    text = OBJECT.format(name="deep") + "data:\n" + "\n".join(" " + line for line in lines)
    text += " leaf\n---\n" + OBJECT.format(name="next")
    started = time.perf_counter()
    docs, errors = run(text)
    assert time.perf_counter() - started < 1
    assert names(docs) == ["next"]
    assert [error.message for error in errors] == [f"nested deeper than {MAX_DEPTH} levels"]


def test_very_deep_flow_nesting(loader: type) -> None:
    # libyaml refuses beyond 1000 flow levels itself; either way it is one error. The
    # pure-Python scanner looks ~1000 characters ahead with a cost per open bracket, so the
    # fallback parser gets more time.
    text = OBJECT.format(name="x") + "data: " + "[" * 5000 + "]" * 5000 + "\n---\n"
    started = time.perf_counter()
    docs, errors = run(text + OBJECT.format(name="y"))
    assert time.perf_counter() - started < (5 if loader is yaml.SafeLoader else 1)
    assert names(docs) == ["y"]
    assert len(errors) == 1
    assert errors[0].line == 5


def test_duplicate_keys_are_reported_and_the_document_kept() -> None:
    _, docs, errors = fixture("duplicate-keys.yaml")
    assert errors == [
        InputError(
            "duplicate-keys.yaml",
            8,
            "duplicate key 'nginx.ingress.kubernetes.io/proxy-buffering' (lines 6 and 8)",
        )
    ]
    assert names(docs) == ["dup"]
    annotations = docs[0].root.path("metadata", "annotations")
    assert annotations is not None
    assert [key for key, _ in annotations.pairs()] == [
        "nginx.ingress.kubernetes.io/proxy-buffering",
        "nginx.ingress.kubernetes.io/proxy-read-timeout",
        "nginx.ingress.kubernetes.io/proxy-buffering",
    ]
    first = annotations.get("nginx.ingress.kubernetes.io/proxy-buffering")
    assert first is not None
    assert first.value == "off"


def test_duplicate_keys_on_one_line() -> None:
    docs, errors = run(OBJECT.format(name="x") + "data: {a: 1, b: 2, a: 3}\n")
    assert names(docs) == ["x"]
    assert errors == [InputError("in.yaml", 5, "duplicate key 'a' (line 5)")]


def test_not_kubernetes_objects() -> None:
    _, docs, errors = fixture("not-kubernetes.yaml")
    assert names(docs) == [None]  # the Job with generateName
    assert _kind(docs[0]) == "Job"
    prefix = "not a Kubernetes object: "
    assert [(error.line, error.message.removeprefix(prefix)) for error in errors] == [
        (3, "expected a mapping, found a scalar"),
        (5, "expected a mapping, found a list"),
        (13, "missing apiVersion, kind, metadata.name"),
        (16, "missing kind"),
        (20, "missing metadata.name"),
    ]
    assert all(error.message.startswith(prefix) for error in errors)


def test_control_characters() -> None:
    _, docs, errors = fixture("control-character.yaml")
    assert names(docs) == ["clean"]
    assert len(errors) == 1
    assert errors[0].line == 6
    assert errors[0].message.endswith("(character U+0007)")


def test_empty_and_comment_only_inputs() -> None:
    for text in ("", "\n\n", "# nothing\n", "---\n", "---\n...\n", "~\n", "\ufeff"):
        assert run(text) == ([], []), repr(text)


def test_directives() -> None:
    text = "%YAML 1.1\n---\n" + OBJECT.format(name="a") + "...\n%YAML 1.1\n---\n"
    text += OBJECT.format(name="b")
    docs, errors = run(text)
    assert errors == []
    assert names(docs) == ["a", "b"]
    assert [doc.root.span.line for doc in docs] == [3, 10]


@pytest.mark.parametrize(
    "text",
    [
        "a: b: c\n",
        "key: [1, 2\n",
        "key: 'open\n",
        "- a\nb: c\n",
        "\tkey: tab\n",
        "a: !<tag:x> &a *b\n",
        "key: *\n",
        "? [a\n",
        "%YAML 2.0\n---\na: 1\n",
        "{{ .Values.x }}\n",
        "a:\n  - b\n c: d\n",
    ],
)
def test_bad_yaml_gives_one_line_errors(text: str) -> None:
    docs, errors = run(text + "---\n" + OBJECT.format(name="survivor"))
    assert names(docs) == ["survivor"]
    assert errors
    for error in errors:
        assert "\n" not in error.message
        assert error.line >= 1
        assert str(error).startswith(f"in.yaml:{error.line}: ")
