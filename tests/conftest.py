"""Fixtures shared by every test package.

``mock_server``: one tokenpath mock for the whole session, on 127.0.0.1 and a free port, in
a background thread with the default scenario (see ``tokenpath.mock.scenarios.Scenario``).
Tests pick their timing and faults per request with the ``X-Tokenpath-Scenario`` header (or
the ``tokenpath-scenario`` query parameter), so they can share it safely::

    def test_something(mock_server):
        httpx.post(f"{mock_server.url}/v1/chat/completions", json={"stream": True},
                   headers={"X-Tokenpath-Scenario": "ttft=0;itl=5ms;tokens=10"})

The handle has ``.host``, ``.port``, ``.url`` and ``.defaults``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tokenpath.mock.server import MockHandle, run_in_thread


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockHandle]:
    with run_in_thread(host="127.0.0.1", port=0) as handle:
        yield handle
