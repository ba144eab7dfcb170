"""The settings of a raw Envoy bootstrap route (FACTS.md §5): what its HTTP connection
manager gives every route (stream idle and delayed close timeouts, the stream cap, what its
HTTP filters do), and the route entry's own ``route`` timeouts on top.

Durations are protobuf JSON durations (``15s``, ``0.5s``); ``0s`` turns a timer off. A
duration Envoy cannot parse leaves the default in place, and because Envoy then rejects the
whole file it is also a refusal.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from tokenpath.lint.envoy.bootstrapcheck import RefusalReader
from tokenpath.lint.envoy.protojson import (
    elements,
    field_path,
    filter_config,
    get_field,
    is_true,
    proto_integer,
    proto_seconds,
    spelling,
)
from tokenpath.lint.envoy.schema import (
    BUFFER,
    COMMON_DIRECTION,
    COMPRESSOR,
    HTTP_FILTER,
    MAX_STREAM_DURATION,
    RESPONSE_DIRECTION,
    RETRY_POLICY,
)
from tokenpath.lint.envoy.values import (
    ENVOY_COMPRESSOR_DEFAULT_TYPES,
    envoy_defaults,
    field_source,
    with_ignored,
    written,
)
from tokenpath.lint.fields import is_null
from tokenpath.lint.model import EnvoyRouteSettings, FixTarget, Ignored, Setting
from tokenpath.lint.yamlnode import NodeKind, YNode

_REJECTS = "; Envoy rejects the whole file"
# (setting, key below the route entry) a fix edits, for FixTarget.
_ROUTE_KEYS = (("route_timeout", "timeout"), ("idle_timeout", "idle_timeout"))


class SettingsReader(RefusalReader):
    """Reads the settings of an HCM and of its route entries."""

    def hcm_settings(self, hcm: YNode) -> EnvoyRouteSettings:
        where = "http_connection_manager"
        s = envoy_defaults("the bootstrap")
        s = self.timer(s, "idle_timeout", hcm, "stream_idle_timeout", where)
        s = self.timer(s, "delayed_close", hcm, "delayed_close_timeout", where, off=0.0)
        common = get_field(hcm, "common_http_protocol_options")
        if common is not None and common.kind is NodeKind.MAP:
            where = "http_connection_manager.common_http_protocol_options"
            s = self.timer(s, "max_stream_duration", common, "max_stream_duration", where)
        filters = self.seq(get_field(hcm, "http_filters"), "http_connection_manager.http_filters")
        for i, item in enumerate(filters):
            s = self.http_filter(s, item, f"http_connection_manager.http_filters[{i}]")
        return s

    def http_filter(self, s: EnvoyRouteSettings, item: YNode, where: str) -> EnvoyRouteSettings:
        self.check(item, HTTP_FILTER, where)
        if is_true(get_field(item, "disabled")):
            return s  # runs only where a route enables it (typed_per_filter_config)
        compressor = filter_config(item, "Compressor", "envoy.filters.http.compressor")
        if compressor is not None:
            return replace(s, compression=self.compression(s.compression, compressor, where))
        buffer = filter_config(item, "Buffer", "envoy.filters.http.buffer")
        if buffer is not None:
            self.check(buffer, BUFFER, where, packed=True)
            limit_node = get_field(buffer, "max_request_bytes")
            limit = proto_integer(limit_node)
            source = field_source(self.ref, f"{where}.max_request_bytes", limit_node or item)
            s = replace(s, body_buffered=written(s.body_buffered, True, source, None))
            if limit is not None:
                limit_setting = written(s.request_buffer_limit, limit, source, str(limit))
                s = replace(s, request_buffer_limit=limit_setting)
        return s

    def compression(
        self, previous: Setting[tuple[str, ...] | None], config: YNode, where: str
    ) -> Setting[tuple[str, ...] | None]:
        """The content types a compressor compresses: ``response_direction_config.
        common_config.content_type``, else the deprecated top-level ``content_type``, else
        Envoy's defaults (FACTS.md §5)."""
        self.check(config, COMPRESSOR, where, packed=True)
        response = get_field(config, "response_direction_config")
        self.check(response, RESPONSE_DIRECTION, f"{where}.response_direction_config")
        common = get_field(response, "common_config")
        self.check(common, COMMON_DIRECTION, f"{where}.response_direction_config.common_config")
        if field_path(common, "enabled", "default_value") is not None and not is_true(
            field_path(common, "enabled", "default_value")
        ):
            return previous  # responses are not compressed unless a runtime flag says so
        types_node = get_field(common, "content_type") if response is not None else None
        if response is None:
            types_node = get_field(config, "content_type")
        types = tuple(e.value for e in elements(types_node) if e.kind is NodeKind.SCALAR)
        if not types:
            source = field_source(self.ref, where, config, "Envoy's default content types")
            return written(previous, ENVOY_COMPRESSOR_DEFAULT_TYPES, source, None)
        source = field_source(self.ref, f"{where}.content_type", types_node)
        return written(previous, types, source, " ".join(types))

    def route_settings(
        self,
        base: EnvoyRouteSettings,
        entry: YNode,
        action: YNode,
        vhost_retry: YNode | None,
        where: str,
    ) -> EnvoyRouteSettings:
        at = f"{where}.route"
        s = self.timer(base, "route_timeout", action, "timeout", at)
        s = self.timer(s, "idle_timeout", action, "idle_timeout", at)
        cap = get_field(action, "max_stream_duration")
        self.check(cap, MAX_STREAM_DURATION, f"{at}.max_stream_duration")
        if cap is not None and cap.kind is NodeKind.MAP:
            at_cap = f"{at}.max_stream_duration"
            s = self.timer(s, "max_stream_duration", cap, "max_stream_duration", at_cap)
        retry, retry_at = get_field(action, "retry_policy"), f"{at}.retry_policy"
        self.check(retry, RETRY_POLICY, retry_at)
        if retry is None and vhost_retry is not None:
            retry, retry_at = vhost_retry, "virtual_host.retry_policy"
        if retry is not None and retry.kind is NodeKind.MAP:
            s = self.timer(s, "backend_timeout", retry, "per_try_timeout", retry_at)
            s = self.timer(s, "per_try_idle_timeout", retry, "per_try_idle_timeout", retry_at)
        paths = tuple((name, ("route", spelling(action, key))) for name, key in _ROUTE_KEYS)
        return replace(s, fix_target=FixTarget(obj=self.ref, node=entry, paths=paths))

    def timer(
        self,
        s: EnvoyRouteSettings,
        setting: str,
        node: YNode,
        name: str,
        where: str,
        off: float = math.inf,
    ) -> EnvoyRouteSettings:
        """``s`` with ``setting`` replaced by the duration at ``name`` of ``node``."""
        previous: Setting[float] = getattr(s, setting)
        value: Any = self.duration(previous, node, name, where, off)  # one of the float fields
        return replace(s, **{setting: value})

    def duration(
        self, previous: Setting[float], node: YNode, name: str, where: str, off: float
    ) -> Setting[float]:
        """``previous`` replaced by the duration at ``name`` of ``node`` (``0s`` is ``off``);
        kept, with the value as ignored and refused, when Envoy cannot parse it."""
        value = get_field(node, name)
        if value is None or is_null(value):
            return previous
        key = f"{where}.{spelling(node, name)}"
        source = field_source(self.ref, key, value)
        try:
            seconds = proto_seconds(value)
        except ValueError as exc:
            ignored = Ignored(source, self.raw(value), f"{exc}{_REJECTS}")
            self.refused.append(ignored)
            return with_ignored(previous, ignored)
        return written(previous, off if seconds == 0 else seconds, source, self.raw(value))
