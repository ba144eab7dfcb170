"""The lint pipeline from paths to findings: read (the only I/O), then pure steps.

files -> SourceText -> Documents -> Objects -> Routes -> findings -> suppression
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from tokenpath.lint.document import InputError, SourceText
from tokenpath.lint.engine import lint_routes
from tokenpath.lint.envoy import build_envoy_routes
from tokenpath.lint.files import read_inputs
from tokenpath.lint.finding import Finding
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import AnyRoute, Controller
from tokenpath.lint.policy import Policy
from tokenpath.lint.routes import build_routes
from tokenpath.lint.suppress import apply_suppressions


@dataclass(frozen=True, slots=True)
class LintOptions:
    policy: Policy = field(default_factory=Policy)
    controller: Controller | None = None  # when the input does not say which controller
    all_routes: bool = False  # lint routes that do not look like LLM routes too


@dataclass(frozen=True, slots=True)
class LintResult:
    sources: tuple[SourceText, ...]
    routes: tuple[AnyRoute, ...]  # the routes that were linted
    findings: tuple[Finding, ...]  # after suppression
    suppressed: tuple[Finding, ...]
    errors: tuple[InputError, ...]  # input errors (exit 2)
    # Suppressions that match nothing or lack a reason: reported, but the input was fine.
    notices: tuple[InputError, ...] = ()


def lint_paths(
    paths: Sequence[str], options: LintOptions, *, stdin: TextIO | BinaryIO | None = None
) -> LintResult:
    sources, errors = read_inputs(paths, stdin=stdin)
    return lint_sources(sources, options, errors)


def lint_sources(
    sources: Sequence[SourceText], options: LintOptions, errors: Sequence[InputError] = ()
) -> LintResult:
    """Pure: lint texts already read (``fix`` re-lints its edited texts this way)."""
    all_errors = list(errors)
    documents = []
    for source in sources:
        docs, doc_errors = load_documents(source)
        documents.extend(docs)
        all_errors.extend(doc_errors)
    texts: Mapping[str, str] = {source.file: source.text for source in sources}
    objects, object_errors = parse_objects(documents, texts)
    all_errors.extend(object_errors)
    routes, route_errors = build_routes(
        objects, controller_hint=options.controller, all_routes=options.all_routes
    )
    all_errors.extend(route_errors)
    envoy_routes, envoy_errors = build_envoy_routes(objects, controller_hint=options.controller)
    all_errors.extend(envoy_errors)
    every: tuple[AnyRoute, ...] = (*routes, *envoy_routes)
    linted = tuple(r for r in every if options.all_routes or r.is_llm)
    findings = lint_routes(linted, options.policy, objects=objects)
    kept, suppressed, unused = apply_suppressions(findings, objects)
    return LintResult(
        sources=tuple(sources),
        routes=linted,
        findings=tuple(kept),
        suppressed=tuple(suppressed),
        errors=tuple(all_errors),
        notices=tuple(unused),
    )
