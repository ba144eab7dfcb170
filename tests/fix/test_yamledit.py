"""Text edits on YAML: minimal, style-keeping, refusing what they cannot do safely."""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest
import yaml
from fixtree import obj, objects

from tokenpath.fix.apply import apply_edits
from tokenpath.fix.edit import Edit
from tokenpath.fix.yamledit import is_safe_plain, replace_scalar, set_annotation, set_map_value
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.yamlnode import YNode

KEY = "nginx.ingress.kubernetes.io/proxy-buffering"


def load(text: str) -> Any:
    return yaml.safe_load(text)


def node(o: ObjectRef, *keys: str) -> YNode:
    assert o.node is not None
    found = o.node.path(*keys)
    assert found is not None
    return found


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines, line endings included."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def annotate(text: str, key: str = KEY, value: str = "off") -> str:
    """set_annotation, applied; checks the result parses, is idempotent and keeps line ends."""
    edits = set_annotation(obj(text), key, value)
    assert edits, "refused"
    new = apply_edits(text, edits)
    annotations = load(new)["metadata"]["annotations"]
    assert annotations[key] == value
    assert isinstance(annotations[key], str)
    assert set_annotation(obj(new), key, value) == ()  # idempotent
    if "\r\n" in text:
        assert new.count("\n") == new.count("\r\n")
    assert new.count("\t") == text.count("\t")
    assert new.startswith("\ufeff") == text.startswith("\ufeff")
    return new


ING = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: llm  # the gateway
  namespace: ai
spec:
  rules: []
"""


# -- set_annotation -------------------------------------------------------------------------


def test_creates_annotations_at_end_of_metadata_with_two_space_indent():
    new = annotate(ING)
    assert new == ING.replace(
        "  namespace: ai\n", f'  namespace: ai\n  annotations:\n    {KEY}: "off"\n'
    )


def test_creates_annotations_with_four_space_indent():
    text = ING.replace("\n  ", "\n    ")
    new = annotate(text)
    assert new == text.replace(
        "    namespace: ai\n", f'    namespace: ai\n    annotations:\n        {KEY}: "off"\n'
    )


def test_creates_annotations_after_labels_block_with_labels_indent_step():
    text = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
    name: llm
    labels:
        app: llm   # app label
        tier: edge

    # spec follows
spec: {}
"""
    new = annotate(text)
    removed, added = changed_lines(text, new)
    assert removed == []
    assert added == ["    annotations:\n", f'        {KEY}: "off"\n']
    assert new.index("tier: edge\n    annotations:") > 0
    assert load(new)["metadata"]["labels"] == {"app": "llm", "tier": "edge"}


def test_adds_to_existing_annotations_after_a_trailing_comment():
    text = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: llm
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"  # one hour
  labels: {app: llm}
spec: {}
"""
    new = annotate(text)
    assert new == text.replace("# one hour\n", f'# one hour\n    {KEY}: "off"\n')


def test_replaces_existing_annotation_keeping_comment_and_order():
    text = ING.replace(
        "  namespace: ai\n",
        f"  namespace: ai\n  annotations:\n    {KEY}: 'on'   # why\n    b: x\n",
    )
    new = annotate(text)
    assert new == text.replace("'on'   # why", "'off'   # why")


@pytest.mark.parametrize(
    ("value_text", "expected"),
    [
        ("{}", f'\n    {KEY}: "off"'),
        ("{}  # none yet", f'  # none yet\n    {KEY}: "off"'),
        ("", f'\n    {KEY}: "off"'),
        ("~", f'\n    {KEY}: "off"'),
        ("null # later", f' # later\n    {KEY}: "off"'),
    ],
)
def test_empty_or_null_annotations_become_a_block(value_text: str, expected: str):
    sep = " " if value_text else ""
    text = ING.replace("  namespace: ai\n", f"  namespace: ai\n  annotations:{sep}{value_text}\n")
    new = annotate(text)
    assert new == ING.replace("  namespace: ai\n", f"  namespace: ai\n  annotations:{expected}\n")


def test_flow_annotations_on_one_line_are_appended_in_flow_style():
    text = ING.replace("  namespace: ai\n", "  namespace: ai\n  annotations: {a: '1'}\n")
    new = annotate(text, "b", "on")
    assert new == text.replace("{a: '1'}", """{a: '1', b: 'on'}""")


def test_flow_metadata_gets_flow_annotations():
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: n}\n"
    new = annotate(text)
    assert new == text.replace("n}", f'n, annotations: {{{KEY}: "off"}}}}')


def test_multiline_flow_annotations_get_a_new_line_like_the_last_entry():
    text = ING.replace("  namespace: ai\n", "  namespace: ai\n  annotations: {\n    a: b}\n")
    assert annotate(text) == text.replace("a: b}", f'a: b,\n    {KEY}: "off"}}')
    text = text.replace("{\n    a: b}", "{a: b,\n    c: d, e: f}")
    assert set_annotation(obj(text), KEY, "off") is None


def test_crlf_file_keeps_crlf():
    text = ING.replace("\n", "\r\n")
    new = annotate(text)
    assert new == text.replace(
        "  namespace: ai\r\n", f'  namespace: ai\r\n  annotations:\r\n    {KEY}: "off"\r\n'
    )


def test_bom_is_kept_and_edits_land_in_the_right_place():
    text = "\ufeff" + ING
    new = annotate(text)
    assert new == "\ufeff" + annotate(ING)


def test_file_without_final_newline():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c"
    new = annotate(text)
    assert new == text + f'\n  annotations:\n    {KEY}: "off"'


def test_only_the_targeted_document_changes():
    second = ING.replace("name: llm", "name: other")
    text = ING + "---\n" + second
    first, target = objects(text)
    edits = set_annotation(target, KEY, "off")
    assert edits is not None
    new = apply_edits(text, edits)
    assert new.startswith(ING + "---\n")
    docs = list(yaml.safe_load_all(new))
    assert "annotations" not in docs[0]["metadata"]
    assert docs[1]["metadata"]["annotations"] == {KEY: "off"}
    assert first.name == "llm"


def test_list_item_objects():
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: a
- apiVersion: v1
  kind: Service
  metadata:
    name: b
    labels:
      x: y
"""
    a, b = objects(text)
    new = apply_edits(text, set_annotation(a, KEY, "off") or ())
    assert new == text.replace("name: a\n", f'name: a\n    annotations:\n      {KEY}: "off"\n')
    new = apply_edits(text, set_annotation(b, KEY, "off") or ())
    assert new == text + f'    annotations:\n      {KEY}: "off"\n'


def test_anchored_metadata_or_annotations_are_refused():
    shared = ING.replace("metadata:\n", "metadata: &meta\n")
    assert set_annotation(obj(shared), KEY, "off") is None
    anchored = ING.replace("  namespace: ai\n", "  namespace: ai\n  annotations: &a\n    x: y\n")
    assert set_annotation(obj(anchored), KEY, "off") is None


def test_alias_annotations_are_refused():
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: a
    labels: &l
      app: x
    annotations: *l
"""
    (only,) = objects(text)
    assert set_annotation(only, KEY, "off") is None


# -- set_map_value --------------------------------------------------------------------------

CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
data:
  # buffering
  proxy-buffering: "on"
  proxy-read-timeout: "60"   # seconds
"""


def cm_set(text: str, key: str, value: str) -> str:
    o = obj(text)
    edits = set_map_value(o, node(o, "data"), key, value)
    assert edits is not None, "refused"
    new = apply_edits(text, edits)
    assert load(new)["data"][key] == value
    o2 = obj(new)
    assert set_map_value(o2, node(o2, "data"), key, value) == ()
    return new


def test_configmap_existing_key_keeps_quotes_and_comment():
    new = cm_set(CM, "proxy-read-timeout", "3600")
    assert changed_lines(CM, new) == (
        ['  proxy-read-timeout: "60"   # seconds\n'],
        ['  proxy-read-timeout: "3600"   # seconds\n'],
    )


def test_configmap_new_key_goes_after_the_last_entry_and_its_comment():
    new = cm_set(CM, "proxy-send-timeout", "3600")
    assert new == CM + '  proxy-send-timeout: "3600"\n'


@pytest.mark.parametrize(
    ("sibling", "value", "written"),
    [
        ('"x"', "3600", '"3600"'),
        ("'x'", "3600", "'3600'"),
        ("'x'", "it's", "'it''s'"),
        ("'x'", "a\tb", '"a\\tb"'),
        ("x", "3600", '"3600"'),
        ("x", "off", '"off"'),
        ("x", "text/event-stream", "text/event-stream"),
        ("x", "a: b", '"a: b"'),
    ],
)
def test_new_entry_follows_sibling_value_quoting(sibling: str, value: str, written: str):
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: {sibling}\n"
    new = cm_set(text, "b", value)
    assert new == text + f"  b: {written}\n"


def test_new_entry_follows_sibling_key_quoting():
    text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  "a": "1"\n'
    assert cm_set(text, "b", "2") == text + '  "b": "2"\n'


def test_new_key_that_is_not_a_plain_string_is_quoted():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n"
    assert cm_set(text, "on", "x") == text + "  \"on\": 'x'\n"


def test_insert_after_nested_block_and_sequence():
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        args:
        - --x
        - --y  # last arg

  # trailing comment
"""
    o = obj(text)
    edits = set_map_value(o, node(o, "spec"), "replicas", "2")
    new = apply_edits(text, edits or ())
    assert new == text.replace("# last arg\n", '# last arg\n  replicas: "2"\n')


def test_map_inside_a_sequence_item():
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  containers:
  - name: a
"""
    o = obj(text)
    item = node(o, "spec", "containers").elements[0]
    new = apply_edits(text, set_map_value(o, item, "image", "vllm") or ())
    assert new == text + "    image: vllm\n"


def test_empty_flow_map_becomes_block_and_nonempty_appends():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {}\n"
    assert cm_set(text, "a", "1") == text.replace("data: {}", 'data:\n  a: "1"')
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {a: x,}\n"
    assert cm_set(text, "b", "z") == text.replace("{a: x,}", "{a: x, b: z}")


@pytest.mark.parametrize(
    "data",
    [
        "{a: x, b: y,\n  c: z, d: w}",
        "{\n  }",
        "{a: 'x #y'}",
        "{a: x,  # c\n  }",
        "{\n  a: x,\n# c\n}",
    ],
)
def test_flow_map_with_comment_or_line_breaks_is_refused(data: str):
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {data}\n"
    o = obj(text)
    assert set_map_value(o, node(o, "data"), "e", "y") is None


def test_comment_after_a_flow_map_is_not_inside_it():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {a: x}  # c\n"
    assert cm_set(text, "b", "z") == text.replace("{a: x}", "{a: x, b: z}")
    text = text.replace("{a: x}", "{a: '#'}")
    assert cm_set(text, "b", "z") == text.replace("{a: '#'}", "{a: '#', b: 'z'}")


JSON = """\
{
  "apiVersion": "v1",
  "kind": "ConfigMap",
  "metadata": {
    "name": "c",
    "annotations": {}
  },
  "data": {
    "a": "x"
  }
}
"""


def test_pretty_printed_json_gets_json_style_entries():
    new = cm_set(JSON, "b", "on")
    assert new == JSON.replace('"a": "x"', '"a": "x",\n    "b": "on"')
    labels = JSON.replace('"annotations": {}', '"labels": {"app": "c"}')
    added = f',\n    "annotations": {{"{KEY}": "off"}}'
    assert annotate(labels) == labels.replace('{"app": "c"}', '{"app": "c"}' + added)
    assert annotate(JSON) == JSON.replace("{}", f'{{"{KEY}": "off"}}')
    for text in (new, annotate(labels), annotate(JSON)):
        json.loads(text)  # still JSON


def test_keep_block_scalar_refuses_insertion_after_it():
    keep = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: |+\n    x\n\n"
    o = obj(keep)
    assert set_map_value(o, node(o, "data"), "e", "y") is None
    clip = keep.replace("|+", "|")
    assert cm_set(clip, "b", "y") == clip.replace("    x\n", '    x\n  b: "y"\n')


def test_anchored_or_aliased_maps_are_refused():
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a
  data: &d
    k: v
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
  data: *d
"""
    a, b = objects(text)
    assert set_map_value(a, node(a, "data"), "x", "y") is None
    assert set_map_value(b, node(b, "data"), "x", "y") is None
    assert set_map_value(a, node(a, "data"), "k", "w") is None


# -- replace_scalar -------------------------------------------------------------------------


def scalar_text(value_text: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: {value_text}\n"


def replaced(value_text: str, new_value: str) -> str | None:
    text = scalar_text(value_text)
    o = obj(text)
    edit = replace_scalar(o, node(o, "data", "k"), new_value)
    if edit is None:
        return None
    new = apply_edits(text, [edit])
    assert load(new)["data"]["k"] == new_value
    return new.removeprefix(scalar_text("").removesuffix(" \n")).removeprefix(" ").rstrip("\n")


@pytest.mark.parametrize(
    ("value_text", "new_value", "expected"),
    [
        ('"60"', "3600", '"3600"'),
        ('"a"', 'q"\\\n', '"q\\"\\\\\\n"'),
        ("'a'", "it's", "'it''s'"),
        ("'a'", "line\nbreak", '"line\\nbreak"'),
        ("a", "b c", "b c"),
        ("a # c", "b", "b # c"),
        ("60s", "3600", '"3600"'),
        ("on", "on", '"on"'),
        ("'on'", "on", "'on'"),
        ('"caf\\u00e9"', "café", '"caf\\u00e9"'),  # same value: left as written
        ("", "x", "x"),
        ("  # none", "x", "x  # none"),
        ("~", "off", '"off"'),
        ('"multi\n    line"', "one", '"one"'),
        ('"tab"', "a\tb", '"a\\tb"'),
        ('"nel"', "a\x85b\u2028c\x7f", '"a\\Nb\\Lc\\x7f"'),
    ],
)
def test_replace_scalar_keeps_style(value_text: str, new_value: str, expected: str):
    assert replaced(value_text, new_value) == expected


@pytest.mark.parametrize(
    "value_text",
    ["|\n    x", ">-\n    x", "multi\n    line", "!!str 60", "&a 60", "!custom x"],
)
def test_replace_scalar_refuses(value_text: str):
    assert replaced(value_text, "x") is None


def test_replace_scalar_refuses_alias_and_values_inside_anchored_maps():
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels: &l
    app: x
  annotations:
    a: *l
data:
  k: v
"""
    o = obj(text)
    assert replace_scalar(o, node(o, "metadata", "labels", "app"), "y") is None
    assert replace_scalar(o, node(o, "metadata", "annotations", "a"), "y") is None
    edit = replace_scalar(o, node(o, "data", "k"), "w")
    assert edit == Edit("m.yaml", text.index("v\n"), text.index("v\n") + 1, "w")


@pytest.mark.parametrize(
    "value",
    [
        "off",
        "On",
        "YES",
        "y",
        "N",
        "true",
        "False",
        "null",
        "~",
        "",
        " x",
        "x ",
        "1",
        "3600",
        "-1",
        "+1",
        "1.5",
        ".5",
        "1e3",
        "0x1F",
        "0o17",
        "0b11",
        "017",
        "1_000",
        "1:30",
        "2024-01-01",
        ".inf",
        "-.Inf",
        ".NaN",
        "<<",
        "=",
        "a #b",
        "a: b",
        "- a",
        "[a]",
        "{a}",
        "a,b",
        "*x",
        "&x",
        "!x",
        "%x",
        "@x",
        "`x",
        "'x",
        '"x',
        "?x",
        "|x",
        ">x",
        "a\tb",
    ],
)
def test_values_that_must_be_quoted(value: str):
    assert not is_safe_plain(value)


@pytest.mark.parametrize(
    "value",
    [
        "x",
        "3600s",
        "60m",
        "100Mi",
        "text/event-stream",
        "a b",
        "nginx.org/x-y_z",
        "application/json text/event-stream",
        "TP101",
        "/v1/chat",
        "0.0.0.0/0x",
    ],
)
def test_values_that_stay_plain(value: str):
    assert is_safe_plain(value)
    assert load(f"k: {value}") == {"k": value}
    assert load(f"{{k: {value}}}") == {"k": value}
