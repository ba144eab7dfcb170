"""Fix until stable: lint, apply the applicable fixes, re-lint the edited texts, repeat.

A fix that conflicts with another one in the same round is skipped and picked up in the next
round. Two fixes can also be fine alone and wrong together (say, one renames an annotation
to a key another one adds): every edited file is re-read, and a file whose new text no longer
loads cleanly gets its fixes again one at a time, keeping only those that leave it valid.
The loop stops when a round applies nothing; if fixes keep changing the text after
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
from tokenpath.lint.load import load_documents
from tokenpath.lint.pipeline import LintOptions, lint_sources

# Fixes that insert at the same place (new annotations on one Ingress) conflict and go one
# per round, so the rounds needed grow with the settings fixed on one object (about ten).
MAX_ROUNDS = 16


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
    original = {source.file: source.text for source in sources}
    texts = dict(original)
    applied: list[Fix] = []
    result = lint_sources(sources, options, read_errors)
    broken = {error.file for error in result.errors}
    for _ in range(MAX_ROUNDS):
        fixes = [
            f.fix for f in result.findings if f.fix is not None and not _touches(f.fix, broken)
        ]
        round_applied = _apply_round(texts, fixes, unsafe=unsafe)
        if not round_applied:
            break
        applied.extend(round_applied)
        current = [replace(s, text=texts[s.file]) for s in sources]
        result = lint_sources(current, options, read_errors)
    else:
        raise FixConflictError(
            f"fixes did not converge after {MAX_ROUNDS} rounds; nothing was written "
            "(this is a tokenpath bug: please report it with the manifest)"
        )
    changed = {file: text for file, text in texts.items() if text != original[file]}
    return FixOutcome(changed, tuple(applied), result.findings, result.errors)


def _apply_round(texts: dict[str, str], fixes: Sequence[Fix], *, unsafe: bool) -> list[Fix]:
    """Apply ``fixes`` to ``texts`` in place; return the fixes applied."""
    outcome = apply_fixes(texts, fixes, unsafe=unsafe)
    applied = list(outcome.applied)
    for file in outcome.changed:
        if _loads_cleanly(file, outcome.texts[file]):
            texts[file] = outcome.texts[file]
            continue
        # Together they break the file: retry this file's fixes one by one.
        mine = [fix for fix in applied if _touches(fix, {file})]
        applied = [fix for fix in applied if fix not in mine]
        for fix in mine:
            single = apply_fixes({file: texts[file]}, [fix], unsafe=unsafe)
            if single.applied and _loads_cleanly(file, single.texts[file]):
                texts[file] = single.texts[file]
                applied.append(fix)
    return applied


def _loads_cleanly(file: str, text: str) -> bool:
    _, errors = load_documents(SourceText(file, text))
    return not errors


def _touches(fix: Fix, files: set[str]) -> bool:
    return any(edit.file in files for edit in fix.edits)
