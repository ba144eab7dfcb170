"""Known causes: the symptom -> cause table and ``likely_causes``, which matches a verdict
against it.

Each row turns a pattern (a cut at ~15 s, bursts of 4 KiB, ...) plus the hops seen in the
headers into a "likely cause", backed by a source in ``/work/shared/FACTS.md`` §18 and the
links given per row. Most of this module is the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.probe.hops import Hop
from tokenpath.probe.metrics import Metrics
from tokenpath.probe.timeline import Timeline
from tokenpath.probe.verdict import BurstInfo, CutInfo, CutKind, Verdict, VerdictKind

MAX_CAUSES = 4

_5XX = frozenset(range(500, 600))
_NGINX = ("nginx", "openresty", "kong")
_ENVOY = ("envoy", "istio")
_HELD = frozenset({VerdictKind.BUFFERED, VerdictKind.COMPRESSED})
_BURSTS = frozenset({VerdictKind.BURSTY, VerdictKind.COMPRESSED})


@dataclass(frozen=True, slots=True)
class Cause:
    """One row of the symptom -> cause table. Every condition given must hold."""

    text: str
    source: str
    kinds: frozenset[VerdictKind] = frozenset()
    patterns: frozenset[str] = frozenset()
    cut_kinds: frozenset[CutKind] = frozenset()
    statuses: frozenset[int] = frozenset()
    at_s: tuple[float, float] | None = None  # window on the cut time
    silence_s: tuple[float, float] | None = None  # window on the silence before the end
    burst_bytes: frozenset[int] = frozenset()
    period_s: tuple[float, float] | None = None
    framing: str = ""
    no_content: bool = False
    body_contains: str = ""
    hops: tuple[str, ...] = ()  # hops that make it likelier; named in the output when seen
    needs_hop: bool = False  # only when one of ``hops`` was seen


# Ordered most likely first within each symptom (FACTS §18). Links: FACTS.md reference list.
CAUSES: tuple[Cause, ...] = (
    # All content at the end.
    Cause(
        "the response used Content-Length framing: the body was complete before it was sent, "
        "so the server (or a hop that re-framed it) did not stream",
        "FACTS §1, §13",
        kinds=_HELD,
        patterns=frozenset({"held_to_end"}),
        framing="length",
    ),
    Cause(
        "nginx proxy_buffering on with a close-delimited (proxy_http_version 1.0) or "
        "Content-Length upstream: a body under one 4 KB buffer arrives all at the end; set "
        'proxy_buffering off (ingress-nginx: proxy-buffering: "off") or send X-Accel-Buffering: no',
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering (FACTS §1)",
        kinds=_HELD,
        patterns=frozenset({"held_to_end"}),
        hops=_NGINX,
    ),
    Cause(
        'Kong response buffering (konghq.com/response-buffering: "false" on the route)',
        "https://developer.konghq.com/operator/dataplanes/reference/route-annotations/ (FACTS §11)",
        kinds=_HELD,
        patterns=frozenset({"held_to_end"}),
        hops=("kong",),
        needs_hop=True,
    ),
    Cause(
        "a Traefik buffering middleware holds the whole response",
        "https://doc.traefik.io/traefik/middlewares/http/buffering/ (FACTS §10)",
        kinds=_HELD,
        patterns=frozenset({"held_to_end"}),
        hops=("traefik",),
        needs_hop=True,
    ),
    Cause(
        "Azure Application Gateway response buffering (enableResponseBuffering, on by default)",
        "https://learn.microsoft.com/en-us/azure/application-gateway/proxy-buffers (FACTS §15)",
        kinds=_HELD,
        patterns=frozenset({"held_to_end"}),
        hops=("azure-appgw",),
    ),
    Cause(
        "a WAF or body-inspecting filter (ModSecurity, Coraza), or a nested nginx that drops "
        "the server's X-Accel-Buffering: no",
        "FACTS §16, §18",
        kinds=_HELD,
        patterns=frozenset({"held_to_end"}),
    ),
    Cause(
        "nginx buffering with events larger than one buffer (proxy_buffer_size 4k/8k): each "
        "event waits for the next one's bytes",
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffer_size (FACTS §1)",
        kinds=_HELD,
        patterns=frozenset({"held_one_event"}),
        hops=_NGINX,
    ),
    # Bursts.
    Cause(
        "nginx proxy_buffering on with an HTTP/1.0 (close-delimited) upstream: one 4 KB buffer "
        "per burst; set proxy_buffering off or proxy_http_version 1.1",
        "https://github.com/nginx/nginx/blob/release-1.22.1/src/event/ngx_event_pipe.c (FACTS §1)",
        kinds=_BURSTS,
        burst_bytes=frozenset({4096, 8192}),
        hops=_NGINX,
    ),
    Cause(
        "nginx proxy_buffering on with 16k buffers and a close-delimited upstream: one buffer "
        "per burst (~16 KB in dstackai/dstack#4269)",
        "https://github.com/dstackai/dstack/issues/4269 (FACTS §18)",
        kinds=_BURSTS,
        burst_bytes=frozenset({16384, 32768}),
        hops=_NGINX,
    ),
    Cause(
        "nginx proxy_buffering on with a close-delimited upstream releases whole buffers (the "
        "first one minus the upstream's headers); set proxy_buffering off or proxy_http_version "
        "1.1",
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering (FACTS §1)",
        kinds=_BURSTS,
        patterns=frozenset({"bursts", "bursts_by_time"}),
        hops=_NGINX,
        needs_hop=True,
    ),
    Cause(
        "Traefik flushInterval (100ms by default) on a Content-Length body",
        "https://doc.traefik.io/traefik/routing/services/ (FACTS §10)",
        kinds=_BURSTS,
        period_s=(0.08, 0.13),
        hops=("traefik",),
    ),
    Cause(
        "a hop or the server lets the kernel merge small writes (Nagle plus delayed ACK, no "
        "TCP_NODELAY), a server-side stream interval, or token batching",
        "FACTS §18 (unconfirmed)",
        kinds=_BURSTS,
        period_s=(0.15, 0.26),
    ),
    Cause(
        "a 1 s flush interval (Caddy flush_interval, Traefik flushInterval) on a "
        "Content-Length body",
        "https://caddyserver.com/docs/caddyfile/directives/reverse_proxy (FACTS §13)",
        kinds=_BURSTS,
        period_s=(0.85, 1.2),
        hops=("caddy", "traefik"),
    ),
    Cause(
        "the server batches tokens itself (e.g. Open WebUI relaying Ollama in 40-50-token "
        "bursts): probe the server directly with --compare DIRECT_URL",
        "https://github.com/open-webui/open-webui/issues/16650 (FACTS §16)",
        kinds=frozenset({VerdictKind.BURSTY}),
    ),
    # Compression.
    Cause(
        "gzip/brotli on text/event-stream at a buffering hop (nginx gzip_types with "
        "proxy_buffering on; Traefik compress before 3.7; Caddy encode 2.7-2.8): exclude "
        "text/event-stream and application/x-ndjson from compression",
        "https://github.com/traefik/traefik/issues/11333, "
        "https://github.com/caddyserver/caddy/issues/6293 (FACTS §1, §10, §13)",
        kinds=frozenset({VerdictKind.COMPRESSED}),
    ),
    # Error status before the headers.
    Cause(
        "Envoy's default route timeout (15 s): raw Envoy, Envoy Gateway without an HTTPRoute or "
        "BackendTrafficPolicy timeout, Contour without timeoutPolicy.response",
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto"
        " (FACTS §5, §6, §8)",
        cut_kinds=frozenset({CutKind.BEFORE_HEADERS}),
        statuses=frozenset({504}),
        at_s=(14.5, 16.8),
        hops=_ENVOY,
    ),
    Cause(
        "HAProxy timeout server 50 s (Debian config, HAProxy ingress controllers)",
        "https://docs.haproxy.org/2.6/configuration.html (FACTS §12)",
        cut_kinds=frozenset({CutKind.BEFORE_HEADERS}),
        statuses=frozenset({504}),
        at_s=(49.0, 51.5),
        hops=("haproxy",),
    ),
    Cause(
        'nginx proxy_read_timeout 60s by default (ingress-nginx, including the "3600s" typo '
        "that leaves it at 60; NIC; nginx), Kong read-timeout 60000 ms, or the AWS ALB 60 s "
        "idle timeout",
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout "
        "(FACTS §1, §2, §11, §15)",
        cut_kinds=frozenset({CutKind.BEFORE_HEADERS}),
        statuses=frozenset({504}),
        at_s=(58.5, 62.5),
        hops=(*_NGINX, "aws-alb"),
    ),
    Cause(
        "Apache ProxyTimeout (60 s compiled in; 300 s on Debian): Apache answers 502",
        "https://httpd.apache.org/docs/2.4/mod/mod_proxy.html#proxytimeout (FACTS §14)",
        cut_kinds=frozenset({CutKind.BEFORE_HEADERS}),
        statuses=frozenset({502}),
        at_s=(58.5, 62.5),
        hops=("apache",),
    ),
    Cause(
        "a 30 s backend deadline: GKE BackendConfig timeoutSec or Azure Application Gateway "
        "request-timeout",
        "https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration (FACTS §15)",
        cut_kinds=frozenset({CutKind.BEFORE_HEADERS}),
        statuses=_5XX,
        at_s=(29.0, 31.5),
        hops=("google-lb", "azure-appgw"),
    ),
    Cause(
        "Cloudflare's 100 s proxy read timeout: no origin byte for 100 s",
        "https://developers.cloudflare.com/support/troubleshooting/http-status-codes/"
        "cloudflare-5xx-errors/error-524/ (FACTS §15)",
        statuses=frozenset({524}),
        hops=("cloudflare",),
    ),
    Cause(
        "Higress upstream idleTimeout (10 s): long-TTFT requests are cut before the headers",
        "https://github.com/gpustack/gpustack/issues/4725 (FACTS §9)",
        cut_kinds=frozenset({CutKind.BEFORE_HEADERS}),
        statuses=_5XX,
        at_s=(9.5, 11.0),
    ),
    Cause(
        "an upstream response with both Transfer-Encoding: chunked and Content-Length, which "
        "Envoy rejects",
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/protocol.proto "
        "(FACTS §5)",
        statuses=frozenset({502}),
        body_contains="protocol error",
        hops=_ENVOY,
    ),
    Cause(
        "Envoy stream idle timeout while the request body was still arriving",
        "FACTS §5, §18",
        statuses=frozenset({408}),
        hops=_ENVOY,
    ),
    Cause(
        "a 1m body limit (ingress-nginx proxy-body-size, NIC client-max-body-size, nginx "
        "client_max_body_size) or Envoy Gateway's 32 KiB bufferLimit with a body-buffering filter",
        "https://nginx.org/en/docs/http/ngx_http_core_module.html#client_max_body_size "
        "(FACTS §6, §18)",
        statuses=frozenset({413}),
        hops=(*_NGINX, *_ENVOY),
    ),
    # A 200 that stops: total timers.
    Cause(
        "Envoy's default route timeout (15 s, a total; the FIN arrives 1 s later): raw Envoy, "
        "Envoy Gateway, Contour, an InferencePool on an Envoy-based gateway",
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto"
        " (FACTS §5, §6)",
        cut_kinds=frozenset({CutKind.TOTAL}),
        at_s=(14.5, 16.8),
        hops=_ENVOY,
    ),
    Cause(
        "GKE BackendConfig timeoutSec (30 s): a response deadline, heartbeats do not help; or "
        "Azure Application Gateway request-timeout",
        "https://github.com/kubernetes/ingress-gce/issues/518 (FACTS §15)",
        cut_kinds=frozenset({CutKind.TOTAL}),
        at_s=(29.0, 31.5),
        hops=("google-lb", "azure-appgw"),
    ),
    Cause(
        "AIGatewayRoute's 60 s default timeout (+1 s delayed close), or Traefik's readTimeout "
        "with the request body still open",
        "https://github.com/envoyproxy/ai-gateway/blob/main/api/v1alpha1/ai_gateway_route.go "
        "(FACTS §9, §10)",
        cut_kinds=frozenset({CutKind.TOTAL}),
        at_s=(59.0, 62.5),
        hops=(*_ENVOY, "traefik"),
    ),
    Cause(
        "a total timer after the headers (Envoy route timeout / HTTPRoute timeouts.request, "
        "Traefik writeTimeout, GKE timeoutSec, AIGatewayRoute): heartbeats do not help; raise "
        "it above the longest generation",
        "FACTS §0, §18",
        cut_kinds=frozenset({CutKind.TOTAL}),
    ),
    # A 200 that stops: idle timers (matched on the silence, not the cut time).
    Cause(
        "headers sent at once and the first token after an idle limit: an 'empty 200'; send an "
        "early SSE comment and heartbeats",
        "FACTS §0",
        cut_kinds=frozenset({CutKind.IDLE}),
        no_content=True,
    ),
    Cause(
        "HAProxy timeout server 50 s",
        "https://docs.haproxy.org/2.6/configuration.html (FACTS §12)",
        cut_kinds=frozenset({CutKind.IDLE}),
        silence_s=(49.0, 51.5),
        hops=("haproxy",),
    ),
    Cause(
        "nginx proxy_read_timeout 60s (ingress-nginx, NIC, nginx), Kong read-timeout 60000 ms, "
        "or the AWS ALB idle timeout",
        "https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout (FACTS §1)",
        cut_kinds=frozenset({CutKind.IDLE}),
        silence_s=(58.5, 62.5),
        hops=(*_NGINX, "aws-alb"),
    ),
    Cause(
        "Envoy's stream_idle_timeout (5 min by default; Istio, Envoy Gateway)",
        "https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/"
        "http_connection_manager/v3/http_connection_manager.proto (FACTS §5)",
        cut_kinds=frozenset({CutKind.IDLE}),
        silence_s=(295.0, 306.0),
        hops=_ENVOY,
    ),
    Cause(
        "an idle (read) timer fired during a silent gap (nginx proxy_read_timeout, HAProxy "
        "timeout server, Envoy stream idle, Caddy read_timeout, Apache ProxyTimeout, ALB): send "
        "SSE comment heartbeats shorter than it, or raise it above the longest pause",
        "FACTS §0, §18",
        cut_kinds=frozenset({CutKind.IDLE}),
    ),
    Cause(
        "an upstream crash or OOM, a client disconnect, or a timer; on HTTP/2 a timer shows as "
        "a stream reset",
        "FACTS §18",
        cut_kinds=frozenset({CutKind.UNKNOWN}),
    ),
    # Slow start.
    Cause(
        "a long prefill or queue at the server (most common), or a hop holding the first bytes "
        "(nginx buffering holds the headers until its first buffer fills)",
        "FACTS §1, §18",
        kinds=frozenset({VerdictKind.SLOW_START}),
        patterns=frozenset({"slow_ttft", "no_content"}),
    ),
    Cause(
        "a hop holds the headers and first bytes (nginx buffering until the first buffer "
        "fills; Caddy encode 2.7-2.8 holding headers until the first write)",
        "https://github.com/caddyserver/caddy/issues/6293 (FACTS §1, §13)",
        kinds=frozenset({VerdictKind.SLOW_START}),
        patterns=frozenset({"first_event_held"}),
        hops=(*_NGINX, "caddy"),
    ),
)


def likely_causes(
    verdict: Verdict, timeline: Timeline, metrics: Metrics, hops: Sequence[Hop]
) -> tuple[str, ...]:
    """Rows of ``CAUSES`` that match, those backed by a hop seen in the headers first."""
    seen = {hop.name: hop for hop in hops}
    matched = [cause for cause in CAUSES if _matches(cause, verdict, timeline, metrics, seen)]
    with_hop = [c for c in matched if any(name in seen for name in c.hops)]
    without = [c for c in matched if c not in with_hop]
    lines = []
    for cause in (*with_hop, *without)[:MAX_CAUSES]:
        hop = next((seen[name] for name in cause.hops if name in seen), None)
        lines.append(
            cause.text if hop is None else f"{hop.name} hop seen ({hop.evidence}): {cause.text}"
        )
    return tuple(lines)


def _matches(
    cause: Cause, verdict: Verdict, timeline: Timeline, metrics: Metrics, seen: dict[str, Hop]
) -> bool:
    cut: CutInfo | None = verdict.cut
    burst: BurstInfo | None = verdict.burst
    checks = (
        not cause.kinds or verdict.kind in cause.kinds,
        not cause.patterns or verdict.pattern in cause.patterns,
        not cause.cut_kinds or (cut is not None and cut.kind in cause.cut_kinds),
        not cause.statuses or timeline.status in cause.statuses,
        cause.at_s is None or (cut is not None and _within(cut.at_s, cause.at_s)),
        cause.silence_s is None or (cut is not None and _within(cut.silence_s, cause.silence_s)),
        not cause.burst_bytes or (burst is not None and burst.size_bytes in cause.burst_bytes),
        cause.period_s is None
        or (
            burst is not None
            and burst.size_bytes is None
            and _within(burst.period_s, cause.period_s)
        ),
        not cause.framing or timeline.framing == cause.framing,
        not cause.no_content or metrics.content_events == 0,
        not cause.body_contains or cause.body_contains in timeline.body_preview.lower(),
        not cause.needs_hop or any(name in seen for name in cause.hops),
    )
    return all(checks)


def _within(value: float | None, window: tuple[float, float]) -> bool:
    return value is not None and window[0] <= value <= window[1]
