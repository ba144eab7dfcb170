"""Regenerate the generated parts of the docs; ``--check`` fails when they are stale.

python scripts/gen_docs.py          # rewrite README.md's command reference and docs/rules.md
python scripts/gen_docs.py --check  # exit 1 if either is out of date (CI)
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Callable

from tokenpath.cli.reference import replace_reference
from tokenpath.lint import policyfile, suppress
from tokenpath.lint.ruledocs import render_rules_md
from tokenpath.lint.rules import RULES

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _targets() -> list[tuple[pathlib.Path, str, Callable[[str], str]]]:
    """(file, what it holds, current text -> wanted text)."""
    return [
        (ROOT / "README.md", "command reference", replace_reference),
        (ROOT / "docs" / "rules.md", "rule documentation", lambda _: render_rules_md(RULES)),
        (ROOT / "docs" / "lint.md", "policy and suppression docs", _lint_md),
    ]


def _lint_md(current: str) -> str:
    """docs/lint.md: the hand-written part above the marker, then the policy file and
    suppression docs taken from their modules' docstrings (one source of truth)."""
    head = current.partition(_GENERATED)[0].rstrip("\n")
    return (
        f"{head}\n\n{_GENERATED}\n\n## Policy file\n\n{_rst_to_md(policyfile.__doc__)}\n\n"
        f"## Suppression\n\n{_rst_to_md(suppress.__doc__)}\n"
    )


_GENERATED = "<!-- generated below by scripts/gen_docs.py from the module docstrings -->"


def _rst_to_md(doc: str | None) -> str:
    """The docstring with its ``::`` literal block as a fenced block and ``x`` as `x`."""
    lines = (doc or "").strip("\n").splitlines()
    out: list[str] = []
    in_block = False
    for line in lines[1:]:  # the first line is the module's one-line summary
        if line.rstrip().endswith("::"):
            text = line.rstrip()[:-2].rstrip()
            if text:
                out.append(text.replace("``", "`") + ":")
            out.append("```yaml")
            in_block = True
            continue
        if in_block and line.strip() and not line.startswith(" "):
            out.append("```")
            in_block = False
        out.append(line[4:] if in_block else line.replace("``", "`"))
    if in_block:
        out.append("```")
    return (
        "\n".join(out).strip("\n").replace("```yaml\n\n", "```yaml\n").replace("\n\n```", "\n```")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail instead of writing")
    args = parser.parse_args()
    stale = 0
    for path, what, render in _targets():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        wanted = render(current)
        if current == wanted:
            continue
        name = path.relative_to(ROOT)
        if args.check:
            print(f"{name} {what} is stale: run python scripts/gen_docs.py", file=sys.stderr)
            stale += 1
            continue
        path.write_text(wanted, encoding="utf-8")
        print(f"{name} updated")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
