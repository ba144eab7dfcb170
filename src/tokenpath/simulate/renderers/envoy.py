"""Render a minimal static Envoy bootstrap: admin and one listener on loopback, an HTTP
connection manager with the router (and the gzip compressor when asked), one route ``/`` to
a cluster holding the upstream (HTTP/1.1 upstream, Envoy's default).

Only the fields set in ``EnvoySettings`` are written; ``None`` leaves Envoy's own default
(route ``timeout`` 15s, HCM ``stream_idle_timeout`` 300s, ``delayed_close_timeout`` 1s; FACTS.md
§5), never tokenpath's opinion. The output is JSON, which Envoy reads from a ``.json`` file
(and which is also valid YAML). Pure: values in, text out.

``envoy_settings_for`` maps a lint-model route (``EnvoyRouteSettings``, any Envoy-family
controller) to the fields of this one-route bootstrap.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tokenpath.errors import UsageError
from tokenpath.lint.envoy.values import (
    ENVOY_DELAYED_CLOSE_S,
    ENVOY_ROUTE_TIMEOUT_S,
    ENVOY_STREAM_IDLE_S,
)
from tokenpath.lint.model import EnvoyRouteSettings, Setting, SourceKind

_HCM_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager"
)
_ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
_COMPRESSOR_TYPE = "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor"
_GZIP_TYPE = "type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip"
_UPSTREAM_HTTP_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
_UPSTREAM_HTTP_TYPE = f"type.googleapis.com/{_UPSTREAM_HTTP_KEY}"
_CLUSTER = "upstream"


@dataclass(frozen=True, slots=True)
class EnvoySettings:
    """Envoy fields by location. Durations are seconds; ``None`` means Envoy's default.

    ``compressor_content_types``: ``None`` means no compressor filter; ``()`` a compressor
    with Envoy's default content types (which leave out ``text/event-stream``).
    ``extra_http1_hcm`` / ``extra_http1_cluster`` are raw ``Http1ProtocolOptions`` fields
    (e.g. ``{"allow_chunked_length": True}``) on the HCM and on the cluster;
    ``extra_http2_hcm`` raw ``Http2ProtocolOptions`` fields on the HCM, written as given so
    that a field placed in the wrong message reaches Envoy's validation.
    """

    route_timeout: float | None = None
    route_idle_timeout: float | None = None
    route_max_stream_duration: float | None = None  # RouteAction.max_stream_duration
    retry_per_try_timeout: float | None = None  # RouteAction.retry_policy.per_try_timeout
    retry_per_try_idle_timeout: float | None = None  # ….retry_policy.per_try_idle_timeout
    hcm_stream_idle_timeout: float | None = None
    hcm_request_timeout: float | None = None
    hcm_delayed_close_timeout: float | None = None
    compressor_content_types: tuple[str, ...] | None = None
    extra_http1_hcm: Mapping[str, Any] = field(default_factory=dict)
    extra_http1_cluster: Mapping[str, Any] = field(default_factory=dict)
    extra_http2_hcm: Mapping[str, Any] = field(default_factory=dict)


def envoy_duration(seconds: float) -> str:
    """``15`` -> ``"15s"``, ``0.5`` -> ``"0.5s"``, ``0`` -> ``"0s"`` (protobuf Duration JSON)."""
    if not math.isfinite(seconds) or seconds < 0:
        raise UsageError(f"an Envoy duration must be a finite number >= 0, not {seconds!r}")
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


def render_envoy_config(
    settings: EnvoySettings,
    *,
    listen_port: int,
    upstream_host: str,
    upstream_port: int,
    admin_port: int,
) -> str:
    """The whole bootstrap for ``settings`` as a JSON string."""
    bootstrap = {
        "admin": {"address": _socket("127.0.0.1", admin_port)},
        "static_resources": {
            "listeners": [
                {
                    "name": "tokenpath",
                    "address": _socket("127.0.0.1", listen_port),
                    "filter_chains": [{"filters": [_hcm(settings)]}],
                }
            ],
            "clusters": [_cluster(settings, upstream_host, upstream_port)],
        },
    }
    return json.dumps(bootstrap, indent=2) + "\n"


def _socket(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _hcm(settings: EnvoySettings) -> dict[str, Any]:
    route: dict[str, Any] = {"cluster": _CLUSTER}
    _put_duration(route, "timeout", settings.route_timeout)
    _put_duration(route, "idle_timeout", settings.route_idle_timeout)
    if settings.route_max_stream_duration is not None:
        route["max_stream_duration"] = {
            "max_stream_duration": envoy_duration(settings.route_max_stream_duration)
        }
    retry: dict[str, Any] = {}
    _put_duration(retry, "per_try_timeout", settings.retry_per_try_timeout)
    _put_duration(retry, "per_try_idle_timeout", settings.retry_per_try_idle_timeout)
    if retry:
        # No retry_on: the first attempt is bounded, nothing is retried.
        route["retry_policy"] = retry
    filters: list[dict[str, Any]] = []
    if settings.compressor_content_types is not None:
        filters.append(_compressor(settings.compressor_content_types))
    filters.append({"name": "envoy.filters.http.router", "typed_config": {"@type": _ROUTER_TYPE}})
    config: dict[str, Any] = {
        "@type": _HCM_TYPE,
        "stat_prefix": "tokenpath",
        "route_config": {
            "name": "tokenpath",
            "virtual_hosts": [
                {
                    "name": "all",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "route": route}],
                }
            ],
        },
        "http_filters": filters,
    }
    _put_duration(config, "stream_idle_timeout", settings.hcm_stream_idle_timeout)
    _put_duration(config, "request_timeout", settings.hcm_request_timeout)
    _put_duration(config, "delayed_close_timeout", settings.hcm_delayed_close_timeout)
    if settings.extra_http1_hcm:
        config["http_protocol_options"] = dict(settings.extra_http1_hcm)
    if settings.extra_http2_hcm:
        config["http2_protocol_options"] = dict(settings.extra_http2_hcm)
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": config}


def _compressor(content_types: tuple[str, ...]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "@type": _COMPRESSOR_TYPE,
        "compressor_library": {
            "name": "gzip",
            "typed_config": {"@type": _GZIP_TYPE},
        },
    }
    if content_types:
        config["response_direction_config"] = {
            "common_config": {"content_type": list(content_types)}
        }
    return {"name": "envoy.filters.http.compressor", "typed_config": config}


def _cluster(settings: EnvoySettings, host: str, port: int) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": _CLUSTER,
        # STATIC takes IP literals only; a name is resolved by Envoy.
        "type": "STATIC" if _is_ip(host) else "STRICT_DNS",
        "load_assignment": {
            "cluster_name": _CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _socket(host, port)}}]}],
        },
    }
    if settings.extra_http1_cluster:
        cluster["typed_extension_protocol_options"] = {
            _UPSTREAM_HTTP_KEY: {
                "@type": _UPSTREAM_HTTP_TYPE,
                "explicit_http_config": {
                    "http_protocol_options": dict(settings.extra_http1_cluster)
                },
            }
        }
    return cluster


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _put_duration(target: dict[str, Any], key: str, seconds: float | None) -> None:
    if seconds is not None:
        target[key] = envoy_duration(seconds)


def envoy_settings_for(settings: EnvoyRouteSettings) -> EnvoySettings:
    """The fields of the one-route bootstrap for a lint-model route of any Envoy-family
    controller (FACTS.md §5-§9 say how each controller gets to these values).

    * ``math.inf`` ("no timer") becomes ``0s`` where Envoy reads 0 as off (route ``timeout``,
      route ``idle_timeout``, HCM ``delayed_close_timeout``); the timers that are off when
      unset (``max_stream_duration``, the per-try timeouts) are left out.
    * A value that is Envoy's own default and was not written in any field (route timeout
      15 s, stream idle 300 s, delayed close 1 s) stays unset: the bootstrap shows what was
      configured, and Envoy supplies the rest itself.
    * The idle timer the stream sees is written as the route ``idle_timeout``, which beats the
      HCM ``stream_idle_timeout`` (``0s`` there turns both off).
    * ``compression``: its content types become the compressor filter's list (``()``: the
      filter with Envoy's default types); ``None``: no compressor.
    * ``body_buffered`` / ``request_buffer_limit`` are not rendered: they bound the request
      body (a 413 above the limit), the scenarios send small requests, and this bootstrap
      has no filter that buffers a body.
    """
    return EnvoySettings(
        route_timeout=_timer(settings.route_timeout, ENVOY_ROUTE_TIMEOUT_S),
        route_idle_timeout=_timer(settings.idle_timeout, ENVOY_STREAM_IDLE_S),
        route_max_stream_duration=_optional_timer(settings.max_stream_duration.value),
        retry_per_try_timeout=_optional_timer(settings.backend_timeout.value),
        retry_per_try_idle_timeout=_optional_timer(settings.per_try_idle_timeout.value),
        hcm_delayed_close_timeout=_timer(settings.delayed_close, ENVOY_DELAYED_CLOSE_S),
        compressor_content_types=settings.compression.value,
    )


def _timer(setting: Setting[float], envoy_default: float) -> float | None:
    """A timer Envoy runs by default: off is ``0``, Envoy's unwritten default is ``None``."""
    if math.isinf(setting.value):
        return 0.0
    if setting.source.kind is SourceKind.DEFAULT and setting.value == envoy_default:
        return None
    return setting.value


def _optional_timer(seconds: float) -> float | None:
    """A timer that is off unless set (``0s`` means off too, FACTS.md §6)."""
    return None if math.isinf(seconds) or seconds <= 0 else seconds
