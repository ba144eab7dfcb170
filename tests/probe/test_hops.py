"""Proxies, load balancers and CDNs named by response headers."""

from __future__ import annotations

import pytest

from tokenpath.probe.hops import Hop, detect_hops


@pytest.mark.parametrize(
    ("header", "value", "name"),
    [
        ("server", "nginx/1.22.1", "nginx"),
        ("server", "openresty/1.21.4.1", "openresty"),
        ("server", "envoy", "envoy"),
        ("server", "istio-envoy", "istio"),
        ("server", "Caddy", "caddy"),
        ("server", "Apache/2.4.71 (Debian)", "apache"),
        ("server", "cloudflare", "cloudflare"),
        ("server", "awselb/2.0", "aws-alb"),
        ("server", "Google Frontend", "google-lb"),
        ("server", "Microsoft-Azure-Application-Gateway/v2", "azure-appgw"),
        ("server", "kong/3.4.2", "kong"),
        ("via", "1.1 google", "google-lb"),
        ("via", "1.1 abc123.cloudfront.net (CloudFront)", "aws-cloudfront"),
        ("via", "kong/3.4.2", "kong"),
        ("x-envoy-upstream-service-time", "12", "envoy"),
        ("cf-ray", "8a1b2c3d4e5f-AMS", "cloudflare"),
        ("x-amz-cf-id", "abc==", "aws-cloudfront"),
        ("x-amzn-trace-id", "Root=1-abc", "aws-alb"),
        ("x-kong-upstream-latency", "3", "kong"),
        ("x-kong-proxy-latency", "0", "kong"),
        ("x-azure-ref", "0abc", "azure-front-door"),
        ("x-served-by", "cache-ams21080-AMS", "fastly"),
        ("x-cache", "Hit from cloudfront", "aws-cloudfront"),
        ("x-cache", "MISS", "cache"),
        ("x-vercel-id", "fra1::abc", "vercel"),
        ("fly-request-id", "01H...", "fly"),
        ("x-litellm-call-id", "abc", "litellm"),
    ],
)
def test_known_headers_name_a_hop(header: str, value: str, name: str) -> None:
    hops = detect_hops([(header, value)])
    assert [h.name for h in hops] == [name]


def test_server_evidence_quotes_the_header() -> None:
    assert detect_hops([("server", "nginx/1.22.1")]) == (Hop("nginx", "server: nginx/1.22.1"),)


def test_order_is_as_seen_and_each_hop_once() -> None:
    headers = [
        ("content-type", "text/event-stream"),
        ("via", "1.1 varnish, 1.1 google"),
        ("server", "envoy"),
        ("x-envoy-upstream-service-time", "4"),
        ("cf-ray", "x"),
    ]
    hops = detect_hops(headers)
    assert [h.name for h in hops] == ["varnish", "google-lb", "envoy", "cloudflare"]
    assert hops[2].evidence == "server: envoy"


def test_unknown_and_origin_servers_are_not_hops() -> None:
    headers = [("server", "uvicorn"), ("content-type", "text/event-stream"), ("date", "x")]
    assert detect_hops(headers) == ()


def test_header_names_are_case_insensitive() -> None:
    assert [h.name for h in detect_hops([("Server", "NGINX")])] == ["nginx"]


def test_request_id_values_are_not_quoted() -> None:
    (hop,) = detect_hops([("cf-ray", "secret-looking-value")])
    assert "secret-looking-value" not in hop.evidence
    assert hop.evidence == "cf-ray present"


def test_other_headers_never_reach_evidence() -> None:
    headers = [
        ("set-cookie", "session=abc"),
        ("authorization", "Bearer sk-xyz"),
        ("server", "nginx"),
    ]
    text = " ".join(h.evidence for h in detect_hops(headers))
    assert "sk-xyz" not in text
    assert "session" not in text


def test_hostile_values_are_clipped_and_made_printable() -> None:
    (hop,) = detect_hops([("server", "nginx\x1b[2J" + "A" * 200)])
    assert "\x1b" not in hop.evidence
    assert len(hop.evidence) <= len("server: ") + 48
    assert hop.evidence.endswith("…")
