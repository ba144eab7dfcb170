"""The rule registry keeps its promises: permanent unique codes in the right family, one
documented module per rule, a fixture per code, and generated docs that match the code."""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest
from rulekit import NO_FIXTURE

from tokenpath.lint.finding import Category
from tokenpath.lint.rule import Rule
from tokenpath.lint.ruledocs import SECTIONS, render_rules_md, sections, summary
from tokenpath.lint.rules import REDIRECTS, RULES, resolve, rule_for

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = pathlib.Path(__file__).parent / "rules" / "fixtures"
RULES_DIR = ROOT / "src" / "tokenpath" / "lint" / "rules"

# The hundred-block of each category (STYLE.md §3.1). Ignored/rejected configuration is TP5xx,
# except where a family owns the ignored value (an invalid buffering value is TP1xx, an
# ignored timeout TP2xx): those are listed explicitly.
FAMILY = {
    Category.RESPONSE_BUFFERING: "1",
    Category.HTTP10_UPSTREAM: "1",
    Category.READ_TIMEOUT_TOO_SHORT: "2",
    Category.SEND_TIMEOUT_TOO_SHORT: "2",
    Category.ROUTE_TIMEOUT_TOO_SHORT: "2",
    Category.IDLE_TIMEOUT_TOO_SHORT: "2",
    Category.COMPRESSION_BUFFERS_STREAM: "3",
    Category.BODY_SIZE_TOO_SMALL: "4",
    Category.REQUEST_BUFFERING_LARGE_PROMPTS: "4",
    Category.SNIPPET_OVERRIDES: "5",
    Category.IGNORED_SETTING: "5",
    Category.INFO: "5",
}
FAMILY_EXCEPTIONS = {"TP104": "1", "TP203": "2", "TP207": "2"}

IDS = [rule.meta.code for rule in RULES]


def test_codes_are_unique_and_well_formed() -> None:
    codes = [rule.meta.code for rule in RULES]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"TP[1-9]\d\d", code) for code in codes)
    names = [rule.meta.name for rule in RULES]
    assert len(names) == len(set(names))


def test_registry_is_ordered_by_code() -> None:
    codes = [rule.meta.code for rule in RULES]
    families = [code[2] for code in codes]
    assert families == sorted(families)


def test_redirects_point_at_live_codes_and_never_shadow_one() -> None:
    live = {rule.meta.code for rule in RULES}
    for old, new in REDIRECTS.items():
        assert old not in live
        assert new in live


def test_every_rule_module_in_the_package_is_registered() -> None:
    modules = {p.stem for p in RULES_DIR.glob("*.py") if not p.stem.startswith("_")}
    registered = {rule.check.__module__.rsplit(".", 1)[-1] for rule in RULES}
    assert modules == registered


def test_lookup_is_case_insensitive() -> None:
    assert resolve(" tp101 ") == "TP101"
    found = rule_for("tp201")
    assert found is not None
    assert found.meta.name == "read-timeout-too-short"
    assert rule_for("TP999") is None


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_code_prefix_matches_the_category_family(rule: Rule) -> None:
    want = FAMILY_EXCEPTIONS.get(rule.meta.code, FAMILY[rule.meta.category])
    assert rule.meta.code[2] == want


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_module_is_named_after_the_rule(rule: Rule) -> None:
    module = rule.check.__module__.rsplit(".", 1)[-1]
    assert module == rule.meta.name.replace("-", "_")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.meta.name)
    assert importlib.import_module(rule.check.__module__).META is rule.meta


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_docstring_has_every_section_in_order(rule: Rule) -> None:
    found = sections(rule)
    assert list(found) == list(SECTIONS), f"{rule.meta.code}: sections {list(found)}"
    assert all(found[name] for name in SECTIONS)
    first = summary(rule)
    assert first.endswith(".")
    assert len(first) <= 100


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_references_are_links(rule: Rule) -> None:
    assert rule.meta.references
    for url in rule.meta.references:
        assert url.startswith("https://"), url
        assert " " not in url


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_every_code_has_a_fixture_with_both_kinds_of_case(rule: Rule) -> None:
    if rule.meta.code in NO_FIXTURE:
        return
    fixture = FIXTURES / f"{rule.meta.code}.yaml"
    assert fixture.is_file(), f"missing {fixture.relative_to(ROOT)}"
    text = fixture.read_text(encoding="utf-8")
    assert re.search(r"name: fire-", text)
    assert re.search(r"name: dont-fire-", text)


def test_docs_rules_md_is_current() -> None:
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == render_rules_md(RULES), "run: python scripts/gen_docs.py"
