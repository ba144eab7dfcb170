"""Every controller fact the lint adapters rely on, written once, with its evidence.

One row per default, value syntax or behaviour, taken from ``shared/FACTS.md`` (sections 1-3
and 17) and re-read in the upstream source where the tag says ``S``. ``M`` rows were measured
with the real nginx binary. Adapters look facts up with :func:`fact`; a default that is not
in this table cannot be used.

Versions: ``since`` is the first release where the row holds, ``until`` the first release where
it no longer does. An unknown controller version ("") means the latest release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from tokenpath.lint.model import Controller


class Evidence(StrEnum):
    MEASURED = "M"  # measured with the real binary
    SOURCE = "S"  # read in the project's source
    DOCS = "D"  # the project's documentation
    ISSUE = "I"  # a public issue or pull request
    UNCONFIRMED = "U"  # a hypothesis only


# Upstream references (the labels of FACTS.md).
NGX = "https://nginx.org/en/docs/http/ngx_http_proxy_module.html"
NGX_GZIP = "https://nginx.org/en/docs/http/ngx_http_gzip_module.html"
NGX_CORE = "https://nginx.org/en/docs/http/ngx_http_core_module.html"
K8S_CLASS = "https://kubernetes.io/docs/concepts/services-networking/ingress/#deprecated-annotation"
IN_MULTI = "https://kubernetes.github.io/ingress-nginx/user-guide/multiple-ingress/"
IN_ANN = "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/"
IN_CM = "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/"
IN_CFG = (
    "https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/controller/config/"
    "config.go"
)
IN_PROXY = (
    "https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/annotations/proxy/"
    "main.go"
)
IN_PARSER = (
    "https://github.com/kubernetes/ingress-nginx/blob/main/internal/ingress/annotations/parser/"
    "validators.go"
)
IN_FLAGS = "https://github.com/kubernetes/ingress-nginx/blob/main/pkg/flags/flags.go"
IN_TMPL = (
    "https://github.com/kubernetes/ingress-nginx/blob/main/rootfs/etc/nginx/template/nginx.tmpl"
)
IN_190 = "https://github.com/kubernetes/ingress-nginx/blob/main/changelog/controller-1.9.0.md"
IN_1120 = "https://github.com/kubernetes/ingress-nginx/blob/main/changelog/controller-1.12.0.md"
NIC_ANN = (
    "https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/"
    "advanced-configuration-with-annotations/"
)
NIC_CM = (
    "https://docs.nginx.com/nginx-ingress-controller/configuration/global-configuration/"
    "configmap-resource/"
)
NIC_PARAMS = (
    "https://github.com/nginx/kubernetes-ingress/blob/main/internal/configs/config_params.go"
)
NIC_VALIDATION = "https://github.com/nginx/kubernetes-ingress/blob/main/internal/k8s/validation.go"
NIC_TMPL = (
    "https://github.com/nginx/kubernetes-ingress/blob/main/internal/configs/version1/"
    "nginx.ingress.tmpl"
)
NIC_FLAGS = "https://github.com/nginx/kubernetes-ingress/blob/main/cmd/nginx-ingress/flags.go"
NIC_CONTROLLER = "https://github.com/nginx/kubernetes-ingress/blob/main/internal/k8s/controller.go"

ENV_ROUTE = (
    "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto"
)
ENV_HCM = (
    "https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/"
    "http_connection_manager/v3/http_connection_manager.proto"
)
ENV_COMP = (
    "https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/compressor/v3/"
    "compressor.proto"
)
ENV_CLUSTER = "https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto"
GW_TYPES = "https://github.com/kubernetes-sigs/gateway-api/blob/main/apis/v1/httproute_types.go"
EG_TO = "https://gateway.envoyproxy.io/docs/tasks/traffic/http-timeouts/"
EG_ROUTE = "https://github.com/envoyproxy/gateway/blob/main/internal/xds/translator/route.go"
EG_CONN = "https://github.com/envoyproxy/gateway/blob/main/api/v1alpha1/connection_types.go"
ISTIO_TO = "https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/"
CONTOUR_TYPES = (
    "https://github.com/projectcontour/contour/blob/main/apis/projectcontour/v1/httpproxy.go"
)
AIG_ROUTE = "https://github.com/envoyproxy/ai-gateway/blob/main/api/v1alpha1/ai_gateway_route.go"

IN = Controller.INGRESS_NGINX
NIC = Controller.NGINX_INC
ENVOY = Controller.ENVOY
EG = Controller.ENVOY_GATEWAY
AIGW = Controller.ENVOY_AI_GATEWAY
ISTIO = Controller.ISTIO
CONTOUR = Controller.CONTOUR

# The release whose defaults apply when the controller's version is unknown.
LATEST = {IN: "1.15.1", NIC: "5"}


@dataclass(frozen=True, slots=True)
class Fact:
    controller: Controller
    key: str  # ConfigMap key / annotation suffix, a flag, or a template directive
    default: str  # as the controller writes it; "" when there is none
    syntax: str  # value syntax, e.g. "integer seconds", "on|off (case-sensitive)"
    unit: str  # unit of the parsed value in code: "s", "bytes", "bool", "" (text)
    source: str  # upstream URL
    evidence: Evidence
    since: str = ""  # first version where this row holds ("" = every version)
    until: str = ""  # first version where it no longer holds ("" = still holds)
    note: str = ""

    def detail(self, version: str) -> str:
        """Provenance of a default: 'ingress-nginx v1.12.1 default 60 (integer seconds), <url>'.
        Envoy-family rows are not versioned: 'envoy default 15s (...), <url>'."""
        if version:
            shown = f" v{version}"
        elif self.controller in LATEST:
            shown = f" latest (v{LATEST[self.controller]})"
        else:
            shown = ""
        value = f" {self.default}" if self.default and len(self.default) <= 40 else ""
        return f"{self.controller}{shown} default{value} ({self.syntax}), {self.source}"


# fmt: off
FACTS: tuple[Fact, ...] = (
    # --- ingress-nginx: Ingress ownership -------------------------------------------------
    Fact(IN, "controller-class", "k8s.io/ingress-nginx", "IngressClass spec.controller", "",
         IN_MULTI, Evidence.DOCS),
    Fact(IN, "ingress-class", "nginx", "class name (--ingress-class)", "", IN_MULTI,
         Evidence.DOCS),
    Fact(IN, "configmap", "", "--configmap=namespace/name", "", IN_FLAGS, Evidence.SOURCE,
         note="without it the controller runs on its built-in defaults"),
    Fact(IN, "annotations-prefix", "nginx.ingress.kubernetes.io", "--annotations-prefix",
         "", IN_FLAGS, Evidence.SOURCE),
    Fact(IN, "enable-annotation-validation", "false", "flag --enable-annotation-validation",
         "bool", IN_1120, Evidence.SOURCE, until="1.12.0",
         note="bad values reached nginx.conf and could break the reload"),
    Fact(IN, "enable-annotation-validation", "true", "flag --enable-annotation-validation",
         "bool", IN_1120, Evidence.SOURCE, since="1.12.0",
         note="an invalid annotation is dropped; the ConfigMap value or default applies"),
    # --- ingress-nginx: streaming settings (annotation and ConfigMap) ---------------------
    Fact(IN, "proxy-buffering", "off", "on|off, case-sensitive", "bool", IN_PROXY,
         Evidence.SOURCE, note='"true", "false", "On" are invalid and fall back'),
    Fact(IN, "proxy-request-buffering", "on", "on|off, case-sensitive", "bool", IN_PROXY,
         Evidence.SOURCE),
    Fact(IN, "proxy-http-version", "1.1", "1.0|1.1", "", IN_PROXY, Evidence.SOURCE),
    Fact(IN, "proxy-read-timeout", "60", "integer seconds, no unit", "s", IN_PROXY,
         Evidence.SOURCE, note='"3600s" and "1h" do not parse and stay at the default'),
    Fact(IN, "proxy-send-timeout", "60", "integer seconds, no unit", "s", IN_PROXY,
         Evidence.SOURCE),
    Fact(IN, "proxy-connect-timeout", "5", "integer seconds, no unit", "s", IN_CFG,
         Evidence.SOURCE),
    Fact(IN, "proxy-body-size", "1m", "nginx size, 0 = unlimited", "bytes", IN_CFG,
         Evidence.SOURCE),
    Fact(IN, "enable-modsecurity", "false", "bool", "bool", IN_CM, Evidence.SOURCE),
    Fact(IN, "use-gzip", "false", "bool (ConfigMap only)", "bool", IN_CM, Evidence.SOURCE),
    Fact(IN, "gzip-types",
         "application/atom+xml application/javascript application/x-javascript "
         "application/json application/rss+xml application/vnd.ms-fontobject "
         "application/x-font-ttf application/x-web-app-manifest+json application/xhtml+xml "
         "application/xml font/opentype image/svg+xml image/x-icon text/css text/javascript "
         "text/plain text/x-component",
         "MIME types separated by spaces (ConfigMap only)", "", IN_CFG, Evidence.SOURCE),
    Fact(IN, "enable-brotli", "false", "bool (ConfigMap only)", "bool", IN_CM,
         Evidence.SOURCE),
    Fact(IN, "brotli-types",
         "application/xml+rss application/atom+xml application/javascript "
         "application/x-javascript application/json application/rss+xml "
         "application/vnd.ms-fontobject application/x-font-ttf "
         "application/x-web-app-manifest+json application/xhtml+xml application/xml "
         "font/opentype image/svg+xml image/x-icon text/css text/javascript text/plain "
         "text/x-component",
         "MIME types separated by spaces (ConfigMap only)", "", IN_CFG, Evidence.SOURCE),
    Fact(IN, "configmap-int", "", "integer (ConfigMap)", "", IN_CFG, Evidence.SOURCE,
         note="an invalid integer keeps the default (old code)"),
    # --- ingress-nginx: snippets ------------------------------------------------------------
    Fact(IN, "allow-snippet-annotations", "true", "bool string (ConfigMap)", "bool", IN_190,
         Evidence.SOURCE, until="1.9.0"),
    Fact(IN, "allow-snippet-annotations", "false", "bool string (ConfigMap)", "bool", IN_190,
         Evidence.SOURCE, since="1.9.0",
         note="snippet annotations are dropped; the admission webhook refuses the Ingress"),
    Fact(IN, "annotations-risk-level", "Critical", "no risk check before v1.12.0", "",
         IN_1120, Evidence.SOURCE, until="1.12.0"),
    Fact(IN, "annotations-risk-level", "High", "Low|Medium|High|Critical (ConfigMap)", "",
         IN_1120, Evidence.SOURCE, since="1.12.0",
         note="snippets are rated Critical: an Ingress with one is refused below Critical"),
    Fact(IN, "location-directives", "", "directives the template sets in every location", "",
         IN_TMPL, Evidence.MEASURED,
         note="proxy_*_timeout, proxy_buffering, proxy_request_buffering, proxy_http_version, "
         "client_max_body_size: the same directive in configuration-snippet makes nginx "
         'reject the configuration ("directive is duplicate", nginx 1.22.1)'),
    # --- F5 NGINX Ingress Controller ------------------------------------------------------
    Fact(NIC, "controller-class", "nginx.org/ingress-controller",
         "IngressClass spec.controller", "", NIC_CONTROLLER, Evidence.SOURCE),
    Fact(NIC, "ingress-class", "nginx", "class name (-ingress-class)", "", NIC_FLAGS,
         Evidence.SOURCE),
    Fact(NIC, "nginx-configmaps", "", "-nginx-configmaps=namespace/name", "", NIC_FLAGS,
         Evidence.SOURCE),
    Fact(NIC, "proxy-buffering", "True", 'Go bool ("True"/"False", "true", "1", ...)', "bool",
         NIC_PARAMS, Evidence.SOURCE, note='"off" is not a Go bool: the Ingress is rejected'),
    Fact(NIC, "proxy-read-timeout", "60s", "nginx time (bare number = seconds)", "s",
         NIC_PARAMS, Evidence.SOURCE),
    Fact(NIC, "proxy-send-timeout", "60s", "nginx time (bare number = seconds)", "s",
         NIC_PARAMS, Evidence.SOURCE),
    Fact(NIC, "proxy-connect-timeout", "60s", "nginx time (bare number = seconds)", "s",
         NIC_PARAMS, Evidence.SOURCE),
    Fact(NIC, "client-max-body-size", "1m", "nginx size, 0 = unlimited", "bytes", NIC_PARAMS,
         Evidence.SOURCE),
    Fact(NIC, "proxy_http_version", "1.1", "fixed by the template", "", NIC_TMPL,
         Evidence.SOURCE),
    Fact(NIC, "proxy_request_buffering", "on", "nginx default; NIC has no key for it", "bool",
         NGX, Evidence.DOCS),
    Fact(NIC, "gzip", "off", "nginx default; NIC's nginx.conf leaves gzip off", "bool",
         NGX_GZIP, Evidence.SOURCE),
    Fact(NIC, "gzip_types", "text/html", "nginx default", "", NGX_GZIP, Evidence.DOCS),
    Fact(NIC, "brotli", "off", "NIC's nginx.conf templates set no brotli directive", "bool",
         NIC_TMPL, Evidence.SOURCE),
    Fact(NIC, "brotli_types", "", "not set", "", NIC_TMPL, Evidence.SOURCE),
    Fact(NIC, "modsecurity", "off", "NIC has no ModSecurity", "bool", NIC_ANN, Evidence.DOCS),
    Fact(NIC, "enable-snippets", "false", "flag -enable-snippets", "bool", NIC_FLAGS,
         Evidence.SOURCE, note="a snippet annotation without it makes NIC reject the Ingress"),
    Fact(NIC, "invalid-annotation", "", "annotation validation", "", NIC_VALIDATION,
         Evidence.SOURCE, note="an invalid annotation value rejects the whole Ingress"),
    Fact(NIC, "location-directives", "", "directives the template sets in every location", "",
         NIC_TMPL, Evidence.MEASURED,
         note="proxy_http_version, proxy_*_timeout, client_max_body_size, proxy_buffering: "
         "the same directive in location-snippets makes nginx reject the configuration"),
    # --- Envoy (raw xDS; every Envoy-based controller starts from these) -------------------
    Fact(ENVOY, "route.timeout", "15s", "protobuf duration, 0s turns it off", "s", ENV_ROUTE,
         Evidence.MEASURED, note="a total: request end to response end (Envoy 1.40.0)"),
    Fact(ENVOY, "route.idle_timeout", "", "protobuf duration, 0s turns it off", "s", ENV_ROUTE,
         Evidence.MEASURED, note="unset: the HCM stream_idle_timeout applies"),
    Fact(ENVOY, "hcm.stream_idle_timeout", "300s", "protobuf duration, 0s turns it off", "s",
         ENV_HCM, Evidence.MEASURED),
    Fact(ENVOY, "hcm.delayed_close_timeout", "1s", "protobuf duration", "s", ENV_HCM,
         Evidence.MEASURED, note="a cut reaches the client this much later"),
    Fact(ENVOY, "per_connection_buffer_limit_bytes", "1048576", "bytes", "bytes", ENV_CLUSTER,
         Evidence.DOCS),
    Fact(ENVOY, "compressor.content_type",
         "application/javascript application/json application/xhtml+xml image/svg+xml "
         "text/css text/html text/plain text/xml",
         "MIME types; text/event-stream is not among the defaults", "", ENV_COMP,
         Evidence.MEASURED, note="with SSE listed, Envoy 1.40.0 compresses and sends per event"),
    # --- Gateway API implementations --------------------------------------------------------
    Fact(EG, "route.timeout", "", "GEP-2257 duration (HTTPRoute), Go duration (policies)", "s",
         EG_TO, Evidence.SOURCE, note="nothing set: no route timeout, so Envoy's 15s applies"),
    Fact(EG, "connection.bufferLimit", "32768", "Kubernetes quantity", "bytes", EG_CONN,
         Evidence.SOURCE, note="filters that buffer the body answer 413 above it"),
    Fact(EG, "idle.from-request", "1h", "max(1h, timeouts.request); 0s when request is 0s",
         "s", EG_ROUTE, Evidence.SOURCE),
    Fact(AIGW, "timeouts.request", "60s", "GEP-2257 duration", "s", AIG_ROUTE,
         Evidence.SOURCE, note="applied when the rule sets no request timeout"),
    Fact(ISTIO, "http.timeout", "0s", "protobuf duration; 0s = disabled", "s", ISTIO_TO,
         Evidence.DOCS, note="Istio does not inherit Envoy's 15s"),
    Fact(CONTOUR, "timeoutPolicy.response", "15s", "Go duration or infinity; 0s counts as unset",
         "s", CONTOUR_TYPES, Evidence.SOURCE),
    Fact(CONTOUR, "httproute.timeouts.request", "15s", "GEP-2257 duration; 0s disables", "s",
         GW_TYPES, Evidence.ISSUE),
)

# fmt: on


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Annotations each controller documents, so an unknown key under its prefix can be told from
# a misspelling (ingress-nginx: the annotations page; NIC: internal/k8s/validation.go).
INGRESS_NGINX_ANNOTATIONS = _words(
    """affinity affinity-canary-behavior affinity-mode app-root auth-always-set-cookie
    auth-cache-duration auth-cache-key auth-keepalive auth-keepalive-requests
    auth-keepalive-share-vars auth-keepalive-timeout auth-method auth-proxy-set-headers
    auth-realm auth-request-redirect auth-response-headers auth-secret auth-secret-type
    auth-signin auth-signin-redirect-param auth-snippet auth-tls-error-page auth-tls-match-cn
    auth-tls-pass-certificate-to-upstream auth-tls-secret auth-tls-verify-client
    auth-tls-verify-depth auth-type auth-url backend-protocol canary canary-by-cookie
    canary-by-header canary-by-header-pattern canary-by-header-value canary-weight
    canary-weight-total client-body-buffer-size configuration-snippet connection-proxy-header
    cors-allow-credentials cors-allow-headers cors-allow-methods cors-allow-origin
    cors-expose-headers cors-max-age custom-headers custom-http-errors default-backend
    denylist-source-range enable-access-log enable-cors enable-global-auth enable-modsecurity
    enable-opentelemetry enable-owasp-core-rules enable-rewrite-log force-ssl-redirect
    from-to-www-redirect http2-push-preload limit-burst-multiplier limit-connections
    limit-rate limit-rate-after limit-rpm limit-rps limit-whitelist load-balance mirror-host
    mirror-request-body mirror-target modsecurity-snippet modsecurity-transaction-id
    opentelemetry-trust-incoming-span permanent-redirect permanent-redirect-code
    preserve-trailing-slash proxy-body-size proxy-buffer-size proxy-buffering
    proxy-buffers-number proxy-busy-buffers-size proxy-connect-timeout proxy-cookie-domain
    proxy-cookie-path proxy-http-version proxy-max-temp-file-size proxy-next-upstream
    proxy-next-upstream-timeout proxy-next-upstream-tries proxy-read-timeout
    proxy-redirect-from proxy-redirect-to proxy-request-buffering proxy-send-timeout
    proxy-ssl-ciphers proxy-ssl-name proxy-ssl-protocols proxy-ssl-secret
    proxy-ssl-server-name proxy-ssl-verify proxy-ssl-verify-depth rewrite-target satisfy
    server-alias server-snippet service-upstream session-cookie-change-on-failure
    session-cookie-conditional-samesite-none session-cookie-domain session-cookie-expires
    session-cookie-max-age session-cookie-name session-cookie-path session-cookie-samesite
    session-cookie-secure ssl-ciphers ssl-passthrough ssl-prefer-server-ciphers ssl-redirect
    stream-snippet temporal-redirect temporal-redirect-code upstream-hash-by
    upstream-hash-by-subset upstream-hash-by-subset-size upstream-vhost use-regex
    whitelist-source-range x-forwarded-prefix"""
)
NGINX_INC_ANNOTATIONS = _words(
    """add-header add-header-inherit app-root basic-auth-realm basic-auth-secret
    client-body-buffer-size client-max-body-size custom-http-errors fail-timeout grpc-services
    hsts hsts-behind-proxy hsts-include-subdomains hsts-max-age http-redirect-code keepalive
    lb-method limit-req-burst limit-req-delay limit-req-dry-run limit-req-key
    limit-req-log-level limit-req-no-delay limit-req-rate limit-req-reject-code
    limit-req-scale limit-req-zone-size listen-ports listen-ports-ssl location-snippets
    max-conns max-fails mergeable-ingress-type path-regex proxy-buffer-size proxy-buffering
    proxy-buffers proxy-busy-buffers-size proxy-connect-timeout proxy-hide-headers
    proxy-max-temp-file-size proxy-next-upstream proxy-next-upstream-timeout
    proxy-next-upstream-tries proxy-pass-headers proxy-read-timeout proxy-redirect-from
    proxy-redirect-to proxy-send-timeout proxy-set-headers redirect-to-https rewrite-target
    rewrites server-snippets server-tokens ssl-ciphers ssl-prefer-server-ciphers
    ssl-redirect ssl-services sticky-cookie-services upstream-zone-size use-cluster-ip
    websocket-services"""
)

_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def version_tuple(version: str) -> tuple[int, int, int]:
    """``"v1.12.1"`` -> ``(1, 12, 1)``; missing parts are 0; no number -> (0, 0, 0)."""
    match = _VERSION.search(version)
    if match is None:
        return (0, 0, 0)
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return (major, minor, patch)


def at_least(version: str, controller: Controller, since: str) -> bool:
    """Whether ``version`` (or the latest release when unknown) is ``since`` or later."""
    effective = version or LATEST[controller]
    return version_tuple(effective) >= version_tuple(since)


_ROWS: dict[tuple[Controller, str], list[Fact]] = {}
for _row in FACTS:
    _ROWS.setdefault((_row.controller, _row.key), []).append(_row)


def fact(controller: Controller, key: str, version: str = "") -> Fact:
    """The row for ``key`` that holds for ``version`` (the latest release when "")."""
    rows = _ROWS.get((controller, key))
    if not rows:
        raise KeyError(f"no fact for {controller} {key}")
    if len(rows) == 1:
        return rows[0]
    current = version_tuple(version or LATEST[controller])
    for row in rows:
        if row.since and current < version_tuple(row.since):
            continue
        if row.until and current >= version_tuple(row.until):
            continue
        return row
    return rows[-1]
