"""Real-proxy tests. A missing binary fails the test under CI=true (CI must install it) and
skips visibly, with the install line, only in a local run."""

from __future__ import annotations

import os

import pytest

from tokenpath.errors import ProxyError
from tokenpath.simulate.runtime import find_nginx


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    try:
        return find_nginx()
    except ProxyError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true and {exc}")
        pytest.skip(str(exc))
