"""Start a real proxy binary on a loopback port in a private temp dir, wait until it accepts
connections, and always tear it down: process group killed, temp dir removed, also on
Ctrl-C and on failure. The only module here that starts processes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

from tokenpath.errors import ProxyError
from tokenpath.simulate.renderers.nginx import NginxSite, render_nginx_conf

NGINX_INSTALL_HINT = "install it with: apt-get install -y nginx-light  (Debian/Ubuntu)"
_READY_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class RunningProxy:
    name: str
    version: str
    host: str
    port: int
    workdir: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def find_nginx() -> str:
    """The nginx binary, or a ProxyError that says how to install it."""
    # /usr/sbin is not on a normal user's PATH on Debian.
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise ProxyError(f"nginx not found on PATH or in /usr/sbin; {NGINX_INSTALL_HINT}")
    return found


def nginx_version(binary: str) -> str:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10, check=False)
    # nginx prints "nginx version: nginx/1.22.1" on stderr.
    return (out.stderr or out.stdout).strip().rpartition("/")[2] or "unknown"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def run_nginx(
    upstream_host: str, upstream_port: int, directives: tuple[tuple[str, str], ...] = ()
) -> Iterator[RunningProxy]:
    """Run nginx proxying ``location /`` to the upstream with ``directives``.

    The config is checked with ``nginx -t`` first; a rejected config raises ProxyError with
    nginx's own message.
    """
    binary = find_nginx()
    version = nginx_version(binary)
    with _workdir("tokenpath-nginx-") as workdir:
        port = free_port()
        conf = render_nginx_conf(NginxSite(port, upstream_host, upstream_port, directives), workdir)
        conf_path = os.path.join(workdir, "nginx.conf")
        with open(conf_path, "w", encoding="utf-8") as handle:
            handle.write(conf)
        # -e keeps even start-up errors out of /var/log/nginx.
        base = [binary, "-e", os.path.join(workdir, "error.log"), "-p", workdir, "-c", conf_path]
        check = subprocess.run(
            [*base, "-t"], capture_output=True, text=True, timeout=30, check=False
        )
        if check.returncode != 0:
            raise ProxyError(f"nginx rejected the config: {_last_line(check.stderr)}")
        with _process([*base, "-g", "daemon off;"], workdir) as proc:
            _wait_ready(proc, "127.0.0.1", port, os.path.join(workdir, "error.log"), "nginx")
            yield RunningProxy("nginx", version, "127.0.0.1", port, workdir)


@contextlib.contextmanager
def _workdir(prefix: str) -> Iterator[str]:
    path = tempfile.mkdtemp(prefix=prefix)
    # nginx workers drop to an unprivileged user when started as root; they must reach
    # their temp dirs inside this one.
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _process(argv: list[str], cwd: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # own process group: workers die with the master
    )
    try:
        yield proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_STOP_TIMEOUT_S)
    # Workers can outlive a master that was killed hard; sweep the group and wait until it
    # is really gone, so nothing is left running when the caller returns.
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            break
        time.sleep(0.01)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_STOP_TIMEOUT_S)


def _wait_ready(
    proc: subprocess.Popen[bytes], host: str, port: int, error_log: str, name: str
) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ProxyError(f"{name} exited at start-up: {_last_line(_read(error_log))}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise ProxyError(
        f"{name} did not accept connections on {host}:{port} within {_READY_TIMEOUT_S:.0f} s"
    )


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _last_line(text: str) -> str:
    """The line that says why: nginx's first ``[emerg]``/``[alert]`` line, else the last one."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        if "[emerg]" in line or "[alert]" in line or "[crit]" in line:
            return line
    return lines[-1] if lines else "no output"
