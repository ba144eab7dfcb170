"""Suppression by annotation, per object.

::

    metadata:
      annotations:
        tokenpath.dev/ignore: "TP201: long-poll route, the timeout is intended"

Several codes share one reason, which may also follow a hash:
``tokenpath.dev/ignore: "TP101,TP203 # buffering is wanted on this route"``.

A suppression on an object silences findings about that object; one on an Ingress also
silences findings about its routes that point elsewhere (the controller ConfigMap that set the
value). A listed code that matches no finding is reported, so stale suppressions do not pile
up; so is a word that is not a rule code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tokenpath.lint.document import InputError
from tokenpath.lint.finding import Finding
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.objects import Ingress, Objects
from tokenpath.lint.yamlnode import NodeKind

IGNORE_ANNOTATION = "tokenpath.dev/ignore"
_CODE = re.compile(r"TP\d{3}")
_SEPARATORS = re.compile(r"[,\s]+")


@dataclass(frozen=True, slots=True)
class Suppression:
    obj: ObjectRef
    codes: tuple[str, ...]  # upper-cased rule codes, in the order written
    reason: str  # "" when none was given
    line: int  # line of the annotation's value
    invalid: tuple[str, ...] = ()  # words that are not rule codes


def suppressions(obj: ObjectRef) -> Suppression | None:
    """The ``tokenpath.dev/ignore`` annotation of ``obj``, parsed; None when it has none."""
    node = obj.node.path("metadata", "annotations", IGNORE_ANNOTATION) if obj.node else None
    if node is None or node.kind is not NodeKind.SCALAR:
        return None
    return parse_suppression(obj, node.value, node.span.line)


def parse_suppression(obj: ObjectRef, text: str, line: int) -> Suppression:
    """``"TP201,TP101: reason"`` (or ``# reason``) -> codes and reason."""
    cut = min((i for i in (text.find(":"), text.find("#")) if i >= 0), default=len(text))
    codes_text, reason = text[:cut], text[cut + 1 :].strip()
    codes: list[str] = []
    invalid: list[str] = []
    for word in _SEPARATORS.split(codes_text.strip()):
        if not word:
            continue
        code = word.upper()
        if _CODE.fullmatch(code):
            if code not in codes:
                codes.append(code)
        else:
            invalid.append(word)
    return Suppression(obj, tuple(codes), reason, line, tuple(invalid))


def apply_suppressions(
    findings: Sequence[Finding], objects: Objects
) -> tuple[list[Finding], list[Finding], list[InputError]]:
    """(kept, suppressed, problems): problems are suppressions that match nothing and words
    that are not rule codes, as one-line errors with file:line."""
    by_object = {s.obj: s for s in _all(objects.refs())}
    ingresses_by_label = _ingresses_by_label(objects.ingresses)
    used: set[tuple[ObjectRef, str]] = set()
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        owners = [finding.object]
        if finding.object.kind != "Ingress" and finding.route:
            owners += ingresses_by_label.get(finding.route, [])
        match = next(
            (by_object[o] for o in owners if o in by_object and finding.code in by_object[o].codes),
            None,
        )
        if match is None:
            kept.append(finding)
        else:
            suppressed.append(finding)
            used.add((match.obj, finding.code))
    return kept, suppressed, _problems(by_object.values(), used)


def _all(refs: Iterable[ObjectRef]) -> list[Suppression]:
    found = []
    for ref in refs:
        suppression = suppressions(ref)
        if suppression is not None:
            found.append(suppression)
    return found


def _ingresses_by_label(ingresses: Sequence[Ingress]) -> dict[str, list[ObjectRef]]:
    """Route labels (``host`` + ``path``, as ``Route.label``) -> the Ingresses that have them."""
    labels: dict[str, list[ObjectRef]] = {}
    for ingress in ingresses:
        for rule in ingress.rules:
            for path in rule.paths:
                label = f"{rule.host or '*'}{path.path or '/'}"
                labels.setdefault(label, []).append(ingress.ref)
        if ingress.default_backend is not None:
            labels.setdefault("*/", []).append(ingress.ref)
    return labels


def _problems(found: Iterable[Suppression], used: set[tuple[ObjectRef, str]]) -> list[InputError]:
    problems = []
    for suppression in found:
        where = f"{suppression.obj}: {IGNORE_ANNOTATION}"
        for word in suppression.invalid:
            problems.append(
                InputError(
                    suppression.obj.file,
                    suppression.line,
                    f"{where}: {word!r} is not a rule code (TPnnn); see `tokenpath rules`",
                )
            )
        for code in suppression.codes:
            if (suppression.obj, code) not in used:
                problems.append(
                    InputError(
                        suppression.obj.file,
                        suppression.line,
                        f"{where}: {code} matches no finding on this object; remove it",
                    )
                )
    return problems
