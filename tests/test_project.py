"""Project-wide checks: generated docs are current, the public API is curated, layers hold."""

from __future__ import annotations

import ast
import pathlib

import tokenpath
from tokenpath.cli.reference import replace_reference

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "tokenpath"


def test_readme_command_reference_is_current():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert replace_reference(readme) == readme, "run: python scripts/gen_docs.py"


def test_test_file_names_are_unique():
    # tests/ has no __init__.py files: pytest imports test modules by basename.
    names = [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert sorted(names) == sorted(set(names))


def test_all_is_sorted_and_complete():
    assert tokenpath.__all__ == sorted(tokenpath.__all__)
    for name in tokenpath.__all__:
        assert hasattr(tokenpath, name)


# Lower number = lower layer; a module may import only from its own layer or lower ones.
LAYERS = {
    "errors": 0,
    "clock": 0,
    "units": 0,
    "stream": 1,
    "probe.timeline": 1,
    "lint.yamlnode": 1,
    "lint.document": 1,
    "lint.model": 1,
    "lint.finding": 1,
    "lint.policy": 1,
    "fix.edit": 1,
    "lint": 2,
    "fix": 2,
    "probe.classify": 2,
    "probe.metrics": 2,
    "probe.verdict": 2,
    "probe.decision": 2,
    "probe.failures": 2,
    "probe.holding": 2,
    "probe.bursts": 2,
    "probe.causes": 2,
    "probe.measurement": 2,
    "probe.safe_text": 2,
    "probe.hops": 2,
    "probe.compare": 2,
    "probe.request": 2,
    "probe.messages": 2,
    "probe.target": 2,
    "probe.headers": 2,
    "probe.decode": 2,
    "probe.exchange": 2,
    "mock.scenarios": 2,
    "mock.text": 2,
    "mock.schedule": 2,
    "mock.wire": 2,
    "mock.framing": 2,
    "mock.responses": 2,
    "simulate.renderers": 2,
    "probe.client": 3,
    "probe.transport": 3,
    "mock.server": 3,
    "mock.connection": 3,
    "mock.responder": 3,
    "mock": 3,
    "simulate.runtime": 3,
    "simulate.demo": 3,
    "lint.files": 3,
    "lint.pipeline": 3,
    "fix.write": 3,
    "fix.loop": 3,
    "report": 4,
    "cli": 5,
}


def _layer(module: str) -> int | None:
    parts = module.removeprefix("tokenpath.").split(".")
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in LAYERS:
            return LAYERS[key]
    return None


def test_modules_import_only_from_their_layer_or_below():
    problems = []
    for path in SRC.rglob("*.py"):
        module = "tokenpath." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        own = _layer(module)
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("tokenpath")
            ):
                target = _layer(node.module)
                if target is not None and target > own:
                    problems.append(
                        f"{module} (layer {own}) imports {node.module} (layer {target})"
                    )
    assert not problems, "\n".join(problems)
