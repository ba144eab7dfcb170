"""Property: for any annotation map, layout and quoting, set_annotation then a YAML load gives
the intended mapping, everything else unchanged, and a second run changes nothing."""

from __future__ import annotations

from typing import Any

import yaml
from fixtree import obj
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenpath.fix.apply import apply_edits
from tokenpath.fix.yamledit import set_annotation, set_map_value

KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-."
RISKY = ["on", "off", "yes", "no", "y", "n", "true", "null", "~", "3600", "1e3", "0x1F", "", " "]

keys = st.builds(
    lambda prefix, name: prefix + name,
    st.sampled_from(["", "nginx.ingress.kubernetes.io/", "nginx.org/", "tokenpath.dev/"]),
    st.text(KEY_ALPHABET, min_size=1, max_size=12).filter(lambda k: k[0].isalnum()),
)
safe_values = st.text("abcdefghijklmnopqrstuvwxyz0123456789 -_./:#'\",", max_size=16)
any_values = st.one_of(
    safe_values,
    st.sampled_from(RISKY),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
)
styles = st.sampled_from(["plain", "single", "double"])


def reads_back(value: str) -> bool:
    try:
        return bool(yaml.safe_load(f"k: {value}") == {"k": value})
    except yaml.YAMLError:
        return False


def written(value: str, style: str) -> str:
    """``value`` in ``style`` when YAML reads it back as this string, else double-quoted."""
    plain_ok = value == value.strip() and all(c not in value for c in "#,'\"")
    if style == "plain" and plain_ok and reads_back(value):
        return value
    if style == "single" and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def manifests(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    indent = " " * draw(st.sampled_from([2, 4]))
    annotations = draw(st.dictionaries(keys, safe_values, max_size=5))
    layout = draw(st.sampled_from(["block", "missing", "empty-flow", "null", "flow"]))
    if layout != "block" and layout != "flow":
        annotations = {}
    lines = ["apiVersion: networking.k8s.io/v1", "kind: Ingress", "metadata:"]
    lines.append(f"{indent}name: llm" + draw(st.sampled_from(["", "  # name"])))
    if draw(st.booleans()):
        lines += [f"{indent}labels:", f"{indent * 2}app: llm"]
    if layout == "block" and annotations:
        lines.append(f"{indent}annotations:" + draw(st.sampled_from(["", " # notes"])))
        for key, value in annotations.items():
            comment = draw(st.sampled_from(["", "  # why"]))
            entry = f"{written(key, 'plain')}: {written(value, draw(styles))}"
            lines.append(f"{indent * 2}{entry}{comment}")
    elif layout == "flow" and annotations:  # " #" in a flow map is taken for a comment
        annotations = {k: v.replace("#", "") for k, v in annotations.items()}
        body = ", ".join(
            f"{written(k, 'plain')}: {written(v, 'double')}" for k, v in annotations.items()
        )
        lines.append(f"{indent}annotations: {{{body}}}")
    elif layout == "empty-flow":
        lines.append(f"{indent}annotations: {{}}")
    elif layout == "null":
        lines.append(f"{indent}annotations:" + draw(st.sampled_from(["", " ~", " null  # x"])))
    if draw(st.booleans()):
        lines += ["", "# spec", f"spec:{indent}# the spec", f"{indent}rules: []"]
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + eol.join(lines) + draw(st.sampled_from([eol, ""])), annotations


def loaded(text: str) -> Any:
    return yaml.safe_load(text)


@settings(max_examples=300, deadline=None)
@given(manifest=manifests(), key=keys, value=any_values, existing=st.booleans())
def test_set_annotation_gives_the_intended_mapping(
    manifest: tuple[str, dict[str, str]], key: str, value: str, existing: bool
):
    text, annotations = manifest
    if existing and annotations:
        key = sorted(annotations)[0]
    edits = set_annotation(obj(text), key, value)
    assert edits is not None
    new = apply_edits(text, edits)

    before, after = loaded(text), loaded(new)
    assert after["metadata"].pop("annotations") == {**annotations, key: value}
    before["metadata"].pop("annotations", None)
    assert after == before
    assert set_annotation(obj(new), key, value) == ()
    assert new.startswith("\ufeff") == text.startswith("\ufeff")
    assert "\t" not in new
    if "\r\n" in text:
        assert new.count("\n") == new.count("\r\n")
    old_lines, new_lines = text.splitlines(), new.splitlines()
    assert len(new_lines) - len(old_lines) in (0, 1, 2)


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(keys, safe_values, min_size=1, max_size=5),
    style=styles,
    key=keys,
    value=any_values,
)
def test_set_map_value_on_configmap_data(data: dict[str, str], style: str, key: str, value: str):
    body = "".join(f"  {written(k, 'plain')}: {written(v, style)}\n" for k, v in data.items())
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n{body}"
    o = obj(text)
    assert o.node is not None
    data_node = o.node.get("data")
    assert data_node is not None
    edits = set_map_value(o, data_node, key, value)
    assert edits is not None
    new = apply_edits(text, edits)
    assert loaded(new)["data"] == {**data, key: value}
    for line in body.splitlines(keepends=True):
        if not line.startswith((f"  {key}:", f'  "{key}":')):
            assert line in new  # other entries, byte for byte
