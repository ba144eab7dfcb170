"""``probe --diagnose`` through real nginx in front of the mock recovers what nginx was
configured with: the read timeout before and after headers (±1 s), heartbeats, and
buffering by size (stock defaults) or none (``proxy_buffering off``).

Times are scaled down: ``proxy_read_timeout 3s`` and an idle search up to 6 s.
"""

from __future__ import annotations

import pytest

from tokenpath.probe.diagnose import run_diagnosis
from tokenpath.probe.diagnosis import Buffering, Diagnosis
from tokenpath.probe.request import build_request
from tokenpath.report.diagnose import diagnosis_to_dict, render_diagnosis_text
from tokenpath.simulate.renderers.nginx import STREAMING_SAFE, with_directives
from tokenpath.simulate.runtime import run_nginx
from tokenpath.stream.dialects import Dialect

pytestmark = pytest.mark.proxy

READ_TIMEOUT_S = 3.0


def diagnose_through(
    mock_server: object,
    directives: tuple[tuple[str, str], ...],
    *,
    budget_s: float,
    max_idle_s: float,
    max_total_s: float,
) -> Diagnosis:
    host, port = mock_server.host, mock_server.port  # type: ignore[attr-defined]
    with run_nginx(host, port, directives) as nginx:
        request = build_request(f"{nginx.url}/v1/chat/completions", dialect=Dialect.OPENAI_CHAT)
        return run_diagnosis(
            request, budget_s=budget_s, max_idle_s=max_idle_s, max_total_s=max_total_s
        )


def test_diagnose_recovers_the_read_timeout_and_heartbeats(nginx_binary, mock_server):
    directives = with_directives(STREAMING_SAFE, (("proxy_read_timeout", "3s"),))
    d = diagnose_through(mock_server, directives, budget_s=40, max_idle_s=6, max_total_s=2)
    assert d.buffering is not None, d.buffering
    assert d.buffering.mode is Buffering.NONE, d.buffering
    before, after = d.idle_before_headers, d.idle_after_headers
    assert before is not None, before
    assert before.found, before
    assert before.status == 504, before
    assert before.estimate_s is not None
    assert abs(before.estimate_s - READ_TIMEOUT_S) <= 1.0, before
    assert after is not None, after
    assert after.found, after
    assert after.status == 200, after
    assert after.estimate_s is not None
    assert abs(after.estimate_s - READ_TIMEOUT_S) <= 1.0, after
    assert d.heartbeats is not None, d.heartbeats
    assert d.heartbeats.keeps_alive is True, d.heartbeats
    assert d.total is not None, d.total
    assert not d.total.found, d.total
    assert d.framing is not None, d.framing
    assert d.framing.sent_auto == "chunked", d.framing
    assert d.compression is not None, d.compression
    assert not d.compression.applied, d.compression
    text = render_diagnosis_text(d)
    assert "idle timeout after headers: 3." in text or "idle timeout after headers: 2." in text
    assert diagnosis_to_dict(d)["schema_version"] == 1


def test_diagnose_stock_nginx_buffers_by_size(nginx_binary, mock_server):
    # proxy_buffering on, HTTP/1.0 upstream: ≈4 KB bursts (FACTS §1). A tiny idle search
    # keeps the rest of the run short.
    d = diagnose_through(mock_server, (), budget_s=20, max_idle_s=1, max_total_s=1)
    assert d.buffering is not None, d
    assert d.buffering.mode is Buffering.BY_SIZE, d.buffering
    assert d.buffering.threshold_bytes is not None
    assert 3000 <= d.buffering.threshold_bytes <= 4200, d.buffering
    # nginx re-chunks towards an HTTP/1.1 client, whatever the upstream framing.
    assert d.framing is not None, d.framing
    assert d.framing.sent_auto == "chunked", d.framing


def test_diagnose_buffering_off_is_none(nginx_binary, mock_server):
    d = diagnose_through(
        mock_server, (("proxy_buffering", "off"),), budget_s=20, max_idle_s=1, max_total_s=1
    )
    assert d.buffering is not None, d.buffering
    assert d.buffering.mode is Buffering.NONE, d.buffering
