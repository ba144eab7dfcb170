"""The lint loop: rule selection (codes, disabled, redirects), folding of identical findings
across the paths of one Ingress, and a stable order."""

from __future__ import annotations

import dataclasses

import pytest
from rulekit import NIC, cm_key, configmap, ingress, route, written

from tokenpath.lint import rules as registry
from tokenpath.lint.engine import enabled_rules, lint_routes
from tokenpath.lint.finding import Finding, Severity
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.policy import Policy


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [f.code for f in findings]


def test_every_rule_runs_by_default_in_registry_order() -> None:
    assert enabled_rules(Policy()) == registry.RULES


def test_codes_select_and_policy_disables() -> None:
    picked = enabled_rules(Policy(disabled=("tp503",)), codes=["TP201", "TP503"])
    assert [r.meta.code for r in picked] == ["TP201"]


def test_old_codes_follow_redirects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.REDIRECTS, "TP199", "TP101")
    picked = enabled_rules(Policy(disabled=("TP199",)))
    assert "TP101" not in [r.meta.code for r in picked]


def test_paths_of_one_ingress_fold_into_one_finding_listing_the_routes() -> None:
    obj = ingress()
    routes = [route(obj, path="/v1"), route(obj, path="/v2")]
    found = lint_routes(routes, Policy(), codes=["TP201", "TP503"])
    assert codes(found) == ["TP201", "TP503"]  # both on the object's line, by code
    for finding in found:
        assert finding.route == "llm.example.com/v1, llm.example.com/v2"


def test_configmap_value_fixed_per_ingress_stays_one_finding_per_ingress() -> None:
    cm = configmap({"proxy-buffering": "on"})
    setting = written(True, cm_key(cm, "proxy-buffering"))
    first = ingress()
    second = dataclasses.replace(ingress(), name="other", file="other.yaml")
    routes = [route(first, buffering=setting), route(second, buffering=setting)]
    found = lint_routes(routes, Policy(), codes=["TP101"])
    assert len(found) == 2
    assert {f.object for f in found} == {cm}
    assert {e.file for f in found for e in (f.fix.edits if f.fix else ())} == {
        "ingress.yaml",
        "other.yaml",
    }


def test_folding_keeps_the_highest_severity() -> None:
    obj = ingress()
    policy = Policy(severity_overrides=(("TP201", Severity.ERROR),))
    found = lint_routes([route(obj), route(obj, path="/v2")], policy, codes=["TP201"])
    assert [f.severity for f in found] == [Severity.ERROR]


def test_order_is_stable_by_file_and_line() -> None:
    obj_a = ingress()
    obj_b: ObjectRef = dataclasses.replace(ingress(), file="a.yaml")
    found = lint_routes([route(obj_a), route(obj_b, controller=NIC)], Policy())
    keys = [(f.object.file, f.line, f.code) for f in found]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1]))
    assert found == lint_routes([route(obj_a), route(obj_b, controller=NIC)], Policy())
