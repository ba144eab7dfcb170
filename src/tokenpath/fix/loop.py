"""Fix until stable: lint, apply the applicable fixes, re-lint the edited texts, repeat.

A fix that conflicts with another one in the same round is skipped and picked up in the next
round. The loop stops when a round applies nothing; if fixes keep changing the text after
``MAX_ROUNDS`` rounds they do not converge, which is a bug in a rule, reported as such.
Files with input errors are never edited: fix refuses rather than guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from tokenpath.errors import FixConflictError
from tokenpath.fix.apply import apply_fixes
from tokenpath.fix.edit import Fix, Safety
from tokenpath.lint.document import InputError, SourceText
from tokenpath.lint.finding import Finding
from tokenpath.lint.pipeline import LintOptions, lint_sources

MAX_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class FixOutcome:
    texts: dict[str, str]  # file -> fixed text, only for files that changed
    applied: tuple[Fix, ...]
    remaining: tuple[Finding, ...]  # findings left after the last round
    errors: tuple[InputError, ...]

    def summary_lines(self, *, dry_run: bool) -> list[str]:
        verb = "would fix" if dry_run else "fixed"
        lines = [f"{verb} {len(self.applied)} finding(s) in {len(self.texts)} file(s)"]
        if self.remaining:
            unsafe = sum(1 for f in self.remaining if f.fix and f.fix.safety is Safety.UNSAFE)
            hint = f" ({unsafe} fixable with --unsafe-fixes)" if unsafe else ""
            lines.append(f"{len(self.remaining)} finding(s) remain{hint}; see tokenpath lint")
        return lines


def fix_sources(
    sources: Sequence[SourceText],
    options: LintOptions,
    *,
    unsafe: bool,
    read_errors: Sequence[InputError] = (),
) -> FixOutcome:
    original = {source.file: source for source in sources}
    current = list(sources)
    applied: list[Fix] = []
    result = lint_sources(current, options, read_errors)
    broken = {error.file for error in result.errors}
    for _ in range(MAX_ROUNDS):
        fixes = [
            f.fix for f in result.findings if f.fix is not None and not _touches(f.fix, broken)
        ]
        texts = {source.file: source.text for source in current}
        outcome = apply_fixes(texts, fixes, unsafe=unsafe)
        if not outcome.applied:
            break
        applied.extend(outcome.applied)
        current = [replace(s, text=outcome.texts.get(s.file, s.text)) for s in current]
        result = lint_sources(current, options, read_errors)
        broken |= {error.file for error in result.errors}
    else:
        raise FixConflictError(
            f"fixes did not converge after {MAX_ROUNDS} rounds; nothing was written "
            "(this is a tokenpath bug: please report it with the manifest)"
        )
    changed = {
        s.file: s.text for s in current if s.text != original[s.file].text and s.file not in broken
    }
    return FixOutcome(changed, tuple(applied), result.findings, result.errors)


def _touches(fix: Fix, files: set[str]) -> bool:
    return any(edit.file in files for edit in fix.edits)
