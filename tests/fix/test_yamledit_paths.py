"""set_path_value: nested key paths below a map, missing maps created, same refusals as
set_map_value."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fixtree import obj

from tokenpath.fix.apply import apply_edits
from tokenpath.fix.yamledit import set_path_value
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.yamlnode import YNode

KEYS = ("timeouts", "request")

ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: llm
spec:
  rules:
    - matches:
        - path: {{type: PathPrefix, value: /v1}}
{rest}
"""


def rule_node(o: ObjectRef) -> YNode:
    assert o.node is not None
    rules = o.node.path("spec", "rules")
    assert rules is not None
    return rules.elements[0]


def route(rest: str) -> str:
    return ROUTE.format(rest=rest).replace("{{", "{").replace("}}", "}")


def set_request(text: str, value: str = "900s", keys: tuple[str, ...] = KEYS) -> str:
    """set_path_value, applied; checks the result parses, holds the value, is idempotent."""
    o = obj(text)
    edits = set_path_value(o, rule_node(o), keys, value)
    assert edits, "refused"
    new = apply_edits(text, edits)
    doc: Any = yaml.safe_load(new)
    here = doc["spec"]["rules"][0]
    for key in keys:
        here = here[key]
    assert here == value
    again = obj(new)
    assert set_path_value(again, rule_node(again), keys, value) == ()  # idempotent
    return new


def test_creates_the_missing_parent_map_after_the_last_entry():
    text = route("      backendRefs:\n        - name: vllm  # the model\n          port: 8000")
    new = set_request(text)
    assert new == text.replace(
        "          port: 8000\n", '          port: 8000\n      timeouts:\n        request: "900s"\n'
    )


def test_adds_into_an_existing_parent_keeping_its_comments():
    text = route("      timeouts:\n        backendRequest: 60s  # one try\n      # trailing note")
    new = set_request(text)
    # the value is quoted like its siblings: plain here, as "900s" reads as a string
    assert new == text.replace("# one try\n", "# one try\n        request: 900s\n")


def test_replaces_an_existing_value_keeping_its_style_and_comment():
    text = route("      timeouts:\n        request: '15s'  # too short")
    assert set_request(text) == text.replace("'15s'", "'900s'")


def test_already_set_is_idempotent():
    text = route('      timeouts:\n        request: "900s"')
    o = obj(text)
    assert set_path_value(o, rule_node(o), KEYS, "900s") == ()


def test_three_levels_are_created_at_once():
    text = route("      backendRefs: []")
    new = set_request(text, "300s", ("timeout", "http", "streamIdleTimeout"))
    assert new.endswith(
        "      backendRefs: []\n      timeout:\n        http:\n"
        '          streamIdleTimeout: "300s"\n'
    )


def test_four_space_indent_is_followed():
    text = route("      timeouts:\n          backendRequest: 60s")
    new = set_request(text)
    assert "          backendRequest: 60s\n          request: 900s\n" in new


@pytest.mark.parametrize("value_text", ["", " ~", " null", " {}"])
def test_null_or_empty_parent_becomes_a_block(value_text: str):
    text = route(f"      timeouts:{value_text}")
    new = set_request(text)
    assert new.endswith('      timeouts:\n        request: "900s"\n')


def test_flow_parent_is_appended_in_flow_style():
    text = route("      timeouts: {backendRequest: 60s}")
    assert set_request(text).endswith("timeouts: {backendRequest: 60s, request: 900s}\n")


def test_flow_grandparent_gets_a_nested_flow_entry():
    text = route("      filters: []").replace(
        "    - matches:\n        - path: {type: PathPrefix, value: /v1}\n      filters: []",
        "    - {matches: [{path: {type: PathPrefix, value: /v1}}]}",
    )
    new = set_request(text)
    assert new.endswith(
        '{matches: [{path: {type: PathPrefix, value: /v1}}], timeouts: {request: "900s"}}\n'
    )


def test_single_key_path_is_set_map_value():
    text = route("      timeouts: {}")
    o = obj(text)
    timeouts = rule_node(o).get("timeouts")
    assert timeouts is not None
    edits = set_path_value(o, timeouts, ("request",), "900s")
    assert edits
    assert apply_edits(text, edits).endswith('      timeouts:\n        request: "900s"\n')


def test_crlf_is_kept():
    text = route("      backendRefs: []").replace("\n", "\r\n")
    new = set_request(text)
    assert new.count("\n") == new.count("\r\n")


@pytest.mark.parametrize(
    "rest",
    [
        "      timeouts: 15s",  # a scalar where a map is needed
        "      timeouts: [a]",  # a list
        "      timeouts: &t\n        request: 15s",  # anchored: shared
        "      timeouts: {backendRequest: 60s,  # why\n        }",  # commented flow map
    ],
)
def test_refusals(rest: str):
    o = obj(route(rest))
    assert set_path_value(o, rule_node(o), KEYS, "900s") is None


def test_alias_parent_is_refused():
    text = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: llm
  labels: &shared
    request: 15s
spec:
  rules:
    - timeouts: *shared
"""
    o = obj(text)
    assert set_path_value(o, rule_node(o), KEYS, "900s") is None


def test_empty_key_path_is_refused():
    text = route("      backendRefs: []")
    o = obj(text)
    assert set_path_value(o, rule_node(o), (), "900s") is None
