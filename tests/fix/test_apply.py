"""Applying edits and fixes: ordering, duplicates, conflicts, safety levels, convergence."""

from __future__ import annotations

import pytest
import yaml
from fixtree import obj

from tokenpath.errors import FixConflictError
from tokenpath.fix.apply import SkipReason, apply_edits, apply_fixes
from tokenpath.fix.edit import Edit, Fix, Safety
from tokenpath.fix.yamledit import set_annotation

TEXT = "line one\nline two\nline three\n"


def edit(start: int, end: int, replacement: str, file: str = "a.yaml") -> Edit:
    return Edit(file, start, end, replacement)


def test_edits_apply_in_offset_order_whatever_the_given_order():
    edits = [edit(14, 17, "2"), edit(0, 4, "LINE"), edit(9, 9, ">")]
    assert apply_edits(TEXT, edits) == "LINE one\n>line 2\nline three\n"


def test_identical_duplicate_edits_apply_once():
    same = edit(5, 8, "1")
    assert apply_edits(TEXT, [same, same]) == "line 1\nline two\nline three\n"


def test_insertions_at_the_ends_of_a_replacement_are_not_a_conflict():
    edits = [edit(5, 8, "1"), edit(5, 5, "<"), edit(8, 8, ">")]
    assert apply_edits(TEXT, edits) == "line <1>\nline two\nline three\n"


@pytest.mark.parametrize(
    ("first", "second", "lines"),
    [
        (edit(0, 12, "x"), edit(10, 14, "y"), "(lines 1-2 and line 2)"),
        (edit(5, 8, "1"), edit(5, 8, "2"), "(line 1 and line 1)"),
        (edit(9, 9, "a"), edit(9, 9, "b"), "(line 2 and line 2)"),
        (edit(0, 20, "x"), edit(19, 19, "y"), "(lines 1-3 and line 3)"),
    ],
)
def test_overlapping_edits_raise_naming_file_and_lines(first: Edit, second: Edit, lines: str):
    with pytest.raises(FixConflictError) as caught:
        apply_edits(TEXT, [first, second])
    assert str(caught.value).startswith("a.yaml: fixes overlap ")
    assert lines in str(caught.value)


def test_an_edit_outside_the_text_is_refused():
    with pytest.raises(FixConflictError, match="outside the file"):
        apply_edits(TEXT, [edit(40, 41, "x")])


def fix(title: str, *edits: Edit, safety: Safety = Safety.SAFE) -> Fix:
    return Fix(title, edits, safety)


def test_safety_levels():
    safe = fix("safe", edit(0, 4, "SAFE"))
    unsafe = fix("unsafe", edit(9, 13, "RISK"), safety=Safety.UNSAFE)
    shown = fix("shown", edit(18, 22, "SHOW"), safety=Safety.DISPLAY_ONLY)
    texts = {"a.yaml": TEXT}

    result = apply_fixes(texts, [shown, unsafe, safe], unsafe=False)
    assert result.texts["a.yaml"] == "SAFE one\nline two\nline three\n"
    assert result.applied == (safe,)
    assert {(s.fix.title, s.reason) for s in result.skipped} == {
        ("unsafe", SkipReason.UNSAFE),
        ("shown", SkipReason.DISPLAY_ONLY),
    }

    result = apply_fixes(texts, [shown, unsafe, safe], unsafe=True)
    assert result.texts["a.yaml"] == "SAFE one\nRISK two\nline three\n"
    assert [s.reason for s in result.skipped] == [SkipReason.DISPLAY_ONLY]
    assert result.changed == ("a.yaml",)


def test_a_conflicting_fix_is_skipped_and_reported_and_safe_ones_win():
    unsafe = fix("raise timeout", edit(5, 8, "9"), safety=Safety.UNSAFE)
    safe = fix("normalise", edit(5, 8, "1"))
    agree = fix("same change", edit(5, 8, "1"), edit(9, 13, "LINE"))
    result = apply_fixes({"a.yaml": TEXT}, [unsafe, safe, agree], unsafe=True)
    assert result.texts["a.yaml"] == "line 1\nLINE two\nline three\n"
    assert result.applied == (safe, agree)
    (skipped,) = result.skipped
    assert skipped.fix is unsafe
    assert skipped.reason is SkipReason.CONFLICT
    assert "a.yaml: fixes overlap (line 1 and line 1)" in skipped.detail


def test_a_fix_is_all_or_nothing_across_files():
    texts = {"a.yaml": TEXT, "b.yaml": TEXT, "c.yaml": TEXT}
    first = fix("first", edit(0, 4, "A", "a.yaml"))
    both = fix("both", edit(0, 4, "B", "b.yaml"), edit(2, 3, "x", "a.yaml"))
    result = apply_fixes(texts, [first, both], unsafe=False)
    assert result.texts == {"a.yaml": "A" + TEXT[4:], "b.yaml": TEXT, "c.yaml": TEXT}
    assert result.changed == ("a.yaml",)
    assert [s.fix.title for s in result.skipped] == ["both"]


def test_a_fix_whose_own_edits_overlap_is_skipped():
    broken = fix("broken", edit(0, 5, "x"), edit(3, 8, "y"))
    result = apply_fixes({"a.yaml": TEXT}, [broken], unsafe=False)
    assert result.texts["a.yaml"] == TEXT
    assert result.skipped[0].reason is SkipReason.CONFLICT


def test_stale_fixes_are_skipped():
    other = fix("other file", edit(0, 1, "x", "zzz.yaml"))
    beyond = fix("beyond", edit(100, 101, "x"))
    result = apply_fixes({"a.yaml": TEXT}, [other, beyond], unsafe=False)
    assert result.texts == {"a.yaml": TEXT}
    assert result.changed == ()
    assert [s.reason for s in result.skipped] == [SkipReason.STALE, SkipReason.STALE]


MANIFEST = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: llm
spec: {}
"""

WANTED = {
    "nginx.ingress.kubernetes.io/proxy-buffering": "off",
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
}


def fixes_for(text: str) -> list[Fix]:
    """What a lint run would propose: one fix per annotation not yet as wanted."""
    found = []
    for key, value in WANTED.items():
        edits = set_annotation(obj(text), key, value)
        assert edits is not None
        if edits:
            found.append(Fix(f"set {key}", edits, Safety.SAFE))
    return found


def test_fixing_again_until_nothing_changes_converges():
    texts = {"m.yaml": MANIFEST}
    rounds = 0
    while fixes := fixes_for(texts["m.yaml"]):
        result = apply_fixes(texts, fixes, unsafe=False)
        assert result.applied, result.skipped
        texts = result.texts
        rounds += 1
    assert rounds == 2  # both create 'annotations:' at one point: one waits for round two
    assert yaml.safe_load(texts["m.yaml"])["metadata"]["annotations"] == WANTED
    assert apply_fixes(texts, fixes_for(texts["m.yaml"]), unsafe=False).changed == ()
