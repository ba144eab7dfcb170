"""Regenerate the generated parts of the docs; ``--check`` fails when they are stale.

python scripts/gen_docs.py          # rewrite README.md's command reference
python scripts/gen_docs.py --check  # exit 1 if README.md is out of date (CI)
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from tokenpath.cli.reference import replace_reference

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail instead of writing")
    args = parser.parse_args()
    readme = ROOT / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted = replace_reference(current)
    if current == wanted:
        return 0
    if args.check:
        print(
            "README.md command reference is stale: run python scripts/gen_docs.py", file=sys.stderr
        )
        return 1
    readme.write_text(wanted, encoding="utf-8")
    print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
