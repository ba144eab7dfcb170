"""Which proxies, load balancers and CDNs answered: read from response headers.

Only headers listed here are looked at, and only their identifying part is quoted as
evidence, so a header that might carry a secret never reaches a report. A missing hop proves
nothing: Traefik and HAProxy add no header by default, nginx and Envoy replace the upstream's
``Server`` header, so usually only the outermost hop names itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_MAX_VALUE = 48


@dataclass(frozen=True, slots=True)
class Hop:
    name: str  # a stable short name: "nginx", "envoy", "cloudflare", "aws-alb", ...
    evidence: str  # the header that says so, e.g. "server: nginx/1.22.1"


# ``Server`` product tokens (lower-cased prefix) -> hop name. First match wins, so longer
# prefixes come first.
_SERVER_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("istio-envoy", "istio"),
    ("envoy", "envoy"),
    ("openresty", "openresty"),
    ("nginx", "nginx"),
    ("tengine", "nginx"),
    ("kong", "kong"),
    ("caddy", "caddy"),
    ("traefik", "traefik"),
    ("apache", "apache"),
    ("haproxy", "haproxy"),
    ("cloudflare", "cloudflare"),
    ("awselb", "aws-alb"),
    ("google frontend", "google-lb"),
    ("gfe", "google-lb"),
    ("microsoft-azure-application-gateway", "azure-appgw"),
    ("akamaighost", "akamai"),
    ("vercel", "vercel"),
    ("netlify", "netlify"),
    ("fly/", "fly"),
    ("cloudfront", "aws-cloudfront"),
    ("amazons3", "aws-s3"),
)

# ``Via`` entries: "1.1 google", "1.1 varnish", "1.1 abc.cloudfront.net (CloudFront)",
# "kong/3.4.2", "1.1 Caddy", "1.1 vegur". Matched as a substring of the lower-cased entry.
_VIA_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("cloudfront", "aws-cloudfront"),
    ("google", "google-lb"),
    ("varnish", "varnish"),
    ("kong", "kong"),
    ("caddy", "caddy"),
    ("envoy", "envoy"),
    ("nginx", "nginx"),
    ("squid", "squid"),
    ("vegur", "heroku"),
    ("heroku", "heroku"),
    ("azure", "azure"),
    ("akamai", "akamai"),
)

# Headers whose presence alone names a hop. Values are not quoted: many are request ids.
_PRESENCE: tuple[tuple[Callable[[str], bool], str], ...] = (
    (lambda n: n == "x-envoy-upstream-service-time" or n.startswith("x-envoy-"), "envoy"),
    (lambda n: n in ("cf-ray", "cf-cache-status"), "cloudflare"),
    (lambda n: n in ("x-amz-cf-id", "x-amz-cf-pop"), "aws-cloudfront"),
    (lambda n: n == "x-amzn-trace-id", "aws-alb"),
    (lambda n: n in ("x-amz-apigw-id", "x-amzn-apigateway-api-id"), "aws-api-gateway"),
    (lambda n: n.startswith("x-kong-"), "kong"),
    (lambda n: n in ("x-azure-ref", "x-msedge-ref"), "azure-front-door"),
    (lambda n: n in ("x-fastly-request-id",), "fastly"),
    (lambda n: n in ("x-akamai-transformed", "akamai-grn"), "akamai"),
    (lambda n: n == "x-vercel-id", "vercel"),
    (lambda n: n == "fly-request-id", "fly"),
    (lambda n: n == "x-nf-request-id", "netlify"),
    (lambda n: n == "x-varnish", "varnish"),
    (lambda n: n.startswith("x-litellm-"), "litellm"),
)

_CACHE_NAMES = {"x-cache", "x-cache-status", "x-served-by"}
_FASTLY_SERVED_BY = re.compile(r"\bcache-[a-z0-9-]+", re.IGNORECASE)
_UNSAFE = re.compile(r"[^\x20-\x7e]")


def detect_hops(headers: Sequence[tuple[str, str]]) -> tuple[Hop, ...]:
    """Hops named by ``headers`` (name, value pairs), in the order their headers appear.
    One entry per hop name: the first header that identified it."""
    found: dict[str, Hop] = {}

    def add(name: str, evidence: str) -> None:
        found.setdefault(name, Hop(name, evidence))

    for raw_name, raw_value in headers:
        name = raw_name.strip().lower()
        value = raw_value.strip()
        if name == "server":
            hop = _from_server(value)
            if hop is not None:
                add(*hop)
        elif name == "via":
            for hop in _from_via(value):
                add(*hop)
        elif name in _CACHE_NAMES:
            hop = _from_cache(name, value)
            if hop is not None:
                add(*hop)
        else:
            for matches, hop_name in _PRESENCE:
                if matches(name):
                    add(hop_name, f"{name} present")
                    break
    return tuple(found.values())


def _from_server(value: str) -> tuple[str, str] | None:
    lowered = value.lower()
    for prefix, hop_name in _SERVER_PRODUCTS:
        if lowered.startswith(prefix):
            return hop_name, f"server: {_clip(value)}"
    return None


def _from_via(value: str) -> list[tuple[str, str]]:
    hops = []
    for entry in value.split(","):
        lowered = entry.strip().lower()
        for needle, hop_name in _VIA_PRODUCTS:
            if needle in lowered:
                hops.append((hop_name, f"via: {_clip(entry.strip())}"))
                break
    return hops


def _from_cache(name: str, value: str) -> tuple[str, str] | None:
    lowered = value.lower()
    if "cloudfront" in lowered:
        return "aws-cloudfront", f"{name}: {_clip(value)}"
    if name == "x-served-by" and _FASTLY_SERVED_BY.search(value):
        return "fastly", f"{name} present (cache-…)"
    if name != "x-served-by" and re.search(r"\b(hit|miss|pass|bypass|expired|stale)\b", lowered):
        return "cache", f"{name}: {_clip(value)}"
    return None


def _clip(value: str) -> str:
    """Printable ASCII only, short: header values come from the network."""
    clean = _UNSAFE.sub("?", value)
    return clean if len(clean) <= _MAX_VALUE else clean[: _MAX_VALUE - 1] + "…"
