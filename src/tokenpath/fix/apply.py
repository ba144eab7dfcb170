"""Apply fixes to file texts: pure, in memory; writing is ``fix.write``'s job.

Edits are applied to the original text in offset order. Identical duplicate edits (two rules
asking for the same change) are applied once; edits that overlap, or two different insertions
at one offset (their order would be a guess), are a conflict. An insertion at either end of a
replaced range is not a conflict: it goes before or after the replacement.

``apply_fixes`` takes fixes one at a time, safe ones first and then by position (a stable
sort, so the caller's order breaks ties), and skips a fix whose edits conflict with an already
accepted one; the caller re-lints and fixes again (as ruff does) until nothing changes, so a
skipped fix usually lands in the next round.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tokenpath.errors import FixConflictError
from tokenpath.fix.edit import Edit, Fix, Safety


class SkipReason(StrEnum):
    UNSAFE = "unsafe"  # needs --unsafe-fixes
    DISPLAY_ONLY = "display-only"  # advice, never applied
    CONFLICT = "conflict"  # overlaps an accepted fix, or its own edits overlap
    STALE = "stale"  # names a file not given, or offsets outside its text


@dataclass(frozen=True, slots=True)
class SkippedFix:
    fix: Fix
    reason: SkipReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ApplyResult:
    texts: dict[str, str]  # every given file -> its text after the applied fixes
    changed: tuple[str, ...]  # files whose text differs (write only these), in input order
    applied: tuple[Fix, ...]
    skipped: tuple[SkippedFix, ...]


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _where(text: str, edit: Edit) -> str:
    first, last = _line(text, edit.start), _line(text, max(edit.start, edit.end - 1))
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _out_of_range(text: str, edits: Sequence[Edit]) -> str:
    """Why an edit cannot belong to ``text`` (offsets outside it), or ""."""
    for edit in edits:
        if not 0 <= edit.start <= edit.end <= len(text):
            return (
                f"{edit.file}: an edit at offsets {edit.start}-{edit.end} lies outside the file "
                f"({len(text)} characters); it was computed on another version: lint again"
            )
    return ""


def _ordered(text: str, edits: Sequence[Edit]) -> list[Edit]:
    """Edits sorted and de-duplicated; raises FixConflictError on overlap or bad offsets."""
    problem = _out_of_range(text, edits)
    if problem:
        raise FixConflictError(problem)
    unique = sorted(set(edits), key=_key)
    for before, after in itertools.pairwise(unique):
        if _clash(before, after):
            raise FixConflictError(
                f"{after.file}: fixes overlap ({_where(text, before)} and {_where(text, after)});"
                " apply one, then run fix again"
            )
    return unique


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with ``edits`` (all of one file, offsets into ``text``) applied."""
    files = {edit.file for edit in edits}
    if len(files) > 1:
        raise ValueError(f"edits of several files given to apply_edits: {sorted(files)}")
    parts: list[str] = []
    done = 0
    for edit in _ordered(text, edits):
        parts += (text[done : edit.start], edit.replacement)
        done = edit.end
    parts.append(text[done:])
    return "".join(parts)


def _rank(fix: Fix) -> tuple[int, str, int, int]:
    first = min(fix.edits, key=lambda e: (e.file, e.start, e.end))
    return (0 if fix.safety is Safety.SAFE else 1, first.file, first.start, first.end)


def _clash(a: Edit, b: Edit) -> bool:
    """Two different edits of one file that cannot both be applied unambiguously."""
    if a == b:
        return False
    return (a.start < b.end and b.start < a.end) or a.start == a.end == b.start == b.end


def _key(edit: Edit) -> tuple[int, int, str]:
    return (edit.start, edit.end, edit.replacement)


def _first_clash(accepted: list[Edit], edit: Edit) -> Edit | None:
    """An accepted edit (sorted, non-overlapping) that ``edit`` clashes with, or None."""
    i = bisect.bisect_left(accepted, _key(edit), key=_key)
    j = i - 1
    while j >= 0 and accepted[j].end >= edit.start:  # those ending at or after our start
        if _clash(accepted[j], edit):
            return accepted[j]
        j -= 1
    while i < len(accepted) and accepted[i].start <= edit.end:  # those starting by our end
        if _clash(accepted[i], edit):
            return accepted[i]
        i += 1
    return None


def _add(accepted: list[Edit], edit: Edit) -> None:
    """Insert ``edit`` in order, once: an identical accepted edit already does its work."""
    i = bisect.bisect_left(accepted, _key(edit), key=_key)
    if i == len(accepted) or accepted[i] != edit:
        accepted.insert(i, edit)


def _conflict(texts: Mapping[str, str], accepted: Mapping[str, list[Edit]], fix: Fix) -> str:
    """Why ``fix`` cannot join the accepted edits, or ""."""
    own: list[Edit] = []
    for edit in fix.edits:
        text = texts[edit.file]
        clash = _first_clash(accepted.get(edit.file, []), edit) or next(
            (o for o in own if o.file == edit.file and _clash(o, edit)), None
        )
        if clash is not None:
            return (
                f"{edit.file}: fixes overlap ({_where(text, clash)} and {_where(text, edit)});"
                " apply one, then run fix again"
            )
        own.append(edit)
    return ""


def apply_fixes(texts: Mapping[str, str], fixes: Sequence[Fix], *, unsafe: bool) -> ApplyResult:
    """Apply every SAFE fix (and UNSAFE ones when ``unsafe``) that does not conflict."""
    accepted: dict[str, list[Edit]] = {}
    applied: list[Fix] = []
    skipped: list[SkippedFix] = []
    for fix in sorted((f for f in fixes if f.edits), key=_rank):
        if fix.safety is Safety.DISPLAY_ONLY:
            skipped.append(SkippedFix(fix, SkipReason.DISPLAY_ONLY))
            continue
        if fix.safety is Safety.UNSAFE and not unsafe:
            skipped.append(SkippedFix(fix, SkipReason.UNSAFE, "needs --unsafe-fixes"))
            continue
        missing = sorted({e.file for e in fix.edits if e.file not in texts})
        stale = f"file not given: {missing[0]}" if missing else ""
        for edit in fix.edits if not stale else ():
            stale = stale or _out_of_range(texts[edit.file], [edit])
        if stale:
            skipped.append(SkippedFix(fix, SkipReason.STALE, stale))
            continue
        conflict = _conflict(texts, accepted, fix)
        if conflict:
            skipped.append(SkippedFix(fix, SkipReason.CONFLICT, conflict))
            continue
        for edit in fix.edits:
            _add(accepted.setdefault(edit.file, []), edit)
        applied.append(fix)
    result = {f: apply_edits(t, accepted[f]) if f in accepted else t for f, t in texts.items()}
    changed = tuple(f for f, t in result.items() if t != texts[f])
    return ApplyResult(result, changed, tuple(applied), tuple(skipped))
