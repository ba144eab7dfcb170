"""The lint loop: every enabled rule over every route given, then identical findings folded.

Pure: no I/O, no logging of findings, no ownership decisions. The caller chooses the routes
(LLM routes, or all of them with ``--all-routes``) and applies suppressions afterwards.

Folding. An Ingress with several paths gives one route per path, and a setting written once
(an annotation, a ConfigMap key) would otherwise be reported once per path. Findings that
agree on code, object, line, setting and fix are one finding; the folded finding keeps the
first message, the highest severity, and lists every route it concerns. Findings whose fixes
differ stay apart: a ConfigMap value fixed by an annotation on each Ingress gives one finding
(and one fix) per Ingress.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Finding, Severity
from tokenpath.lint.model import AnyRoute, ObjectRef
from tokenpath.lint.objects import Objects
from tokenpath.lint.policy import Policy
from tokenpath.lint.rule import Rule, RuleContext
from tokenpath.lint.rules import RULES, resolve

_FoldKey = tuple[str, ObjectRef, int, str, Fix | None]


def enabled_rules(
    policy: Policy, codes: Collection[str] | None = None, rules: Sequence[Rule] = RULES
) -> tuple[Rule, ...]:
    """The rules to run, in registry order: those in ``codes`` (all when None), minus the
    policy's disabled ones. Old codes are followed through ``REDIRECTS``."""
    disabled = {resolve(code) for code in policy.disabled}
    selected = None if codes is None else {resolve(code) for code in codes}
    return tuple(
        rule
        for rule in rules
        if rule.meta.code not in disabled and (selected is None or rule.meta.code in selected)
    )


def lint_routes(
    routes: Iterable[AnyRoute],
    policy: Policy,
    *,
    codes: Collection[str] | None = None,
    rules: Sequence[Rule] = RULES,
    objects: Objects | None = None,
) -> tuple[Finding, ...]:
    """Findings of the enabled rules on ``routes`` (each rule sees the routes of its proxy
    family) and, when ``objects`` is given, of their object checks; folded and in a stable
    order (file, line, code, route)."""
    ctx = RuleContext(policy=policy)
    active = enabled_rules(policy, codes, rules)
    findings = [
        finding
        for route in routes
        for rule in active
        if rule.meta.family is route.family
        for finding in rule.check(route, ctx)
    ]
    if objects is not None:
        for rule in active:
            if rule.check_objects is not None:
                findings.extend(rule.check_objects(objects, ctx))
    return tuple(sorted(fold(findings), key=_order))


def fold(findings: Iterable[Finding]) -> list[Finding]:
    """Identical findings (code, object, line, setting, fix) merged into one, first seen first,
    listing every route and keeping the highest severity."""
    firsts: dict[_FoldKey, Finding] = {}
    # Routes and severities are collected per key and joined once: a ConfigMap value shared by
    # thousands of routes must not be re-joined route by route (quadratic).
    routes: dict[_FoldKey, dict[str, None]] = {}
    severities: dict[_FoldKey, Severity] = {}
    for finding in findings:
        key = (finding.code, finding.object, finding.line, finding.setting, finding.fix)
        firsts.setdefault(key, finding)
        if finding.route:
            routes.setdefault(key, {})[finding.route] = None
        best = severities.get(key)
        if best is None or finding.severity.rank > best.rank:
            severities[key] = finding.severity
    return [
        dataclasses.replace(first, route=", ".join(routes.get(key, {})), severity=severities[key])
        for key, first in firsts.items()
    ]


def _order(finding: Finding) -> tuple[str, int, int, str, str]:
    return (
        finding.object.file,
        finding.line,
        finding.object.doc_index,
        finding.code,
        finding.route,
    )
