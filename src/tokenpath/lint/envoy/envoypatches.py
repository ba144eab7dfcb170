"""Istio EnvoyFilters as read: the few patches tokenpath interprets, and every other patch
that may change a streaming setting, kept as an uninterpreted ``Patch`` with the reason
(FACTS.md §7: compression or buffering injected by an EnvoyFilter is a realistic Istio
failure). Where the patches apply: ``tokenpath.lint.envoy.envoyfilter``.

Interpreted:
* ``NETWORK_FILTER`` ``MERGE`` on the HTTP connection manager setting ``stream_idle_timeout``
  (the stream's idle timer; Istio has no per-route one, istio/istio#24565) or
  ``delayed_close_timeout`` (FACTS.md §5);
* ``HTTP_FILTER`` ``INSERT_*`` of ``envoy.filters.http.compressor``: the listed
  ``response_direction_config.common_config.content_type``, else Envoy's defaults.

Not interpreted, shown instead: patches of the route configuration (``ROUTE_CONFIGURATION``,
``VIRTUAL_HOST``, ``HTTP_ROUTE``), filters that buffer, compress or rewrite bodies (buffer,
ext_proc, ext_authz, Lua, gzip...) and any other key naming a timeout or a buffer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.protojson import field_path, get_field
from tokenpath.lint.envoy.reader import ISTIO_GROUP, ObjectReader, objects_of
from tokenpath.lint.envoy.values import (
    ENVOY_COMPRESSOR_DEFAULT_TYPES,
    field_source,
    parse_proto_duration,
)
from tokenpath.lint.model import ObjectRef, Source
from tokenpath.lint.objects import Objects
from tokenpath.lint.yamlnode import NodeKind, YNode

_HCM_NAMES = frozenset(
    {"envoy.filters.network.http_connection_manager", "envoy.http_connection_manager"}
)
_COMPRESSOR = "envoy.filters.http.compressor"
_INSERTS = frozenset({"INSERT_BEFORE", "INSERT_AFTER", "INSERT_FIRST"})
_ROUTE_CONFIG = frozenset({"ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE"})
# Filters that may hold, rewrite or compress a body, or time it out.
_RISKY_FILTERS = (
    "buffer", "ext_proc", "ext_authz", "compressor", "gzip", "brotli", "zstd", "lua", "wasm",
)  # fmt: skip
# HCM fields a MERGE may set that tokenpath reads, and the setting each one is.
_HCM_FIELDS = {"stream_idle_timeout": "idle_timeout", "delayed_close_timeout": "delayed_close"}
CHECK_ROUTE = "check the effective route with `istioctl proxy-config route <pod> -o json`"
CHECK_LISTENER = "check the effective listener with `istioctl proxy-config listener <pod> -o json`"


@dataclass(frozen=True, slots=True)
class Patch:
    """One ``configPatches`` entry that may change a streaming setting."""

    context: str  # match.context: ANY, GATEWAY, SIDECAR_INBOUND or SIDECAR_OUTBOUND
    setting: str  # the EnvoyRouteSettings field it sets; "" when not interpreted
    value: float | tuple[str, ...]
    source: Source
    raw: str  # the value as written, or a short description of the patch
    reason: str = ""  # why it is not interpreted and what to check (when setting == "")


@dataclass(frozen=True, slots=True)
class EnvoyFilter:
    ref: ObjectRef
    selector: str  # "" or the workloadSelector/targetRefs that narrow it, in words
    priority: int
    patches: tuple[Patch, ...]


def read_envoy_filters(
    objects: Objects,
) -> tuple[tuple[EnvoyFilter, ...], tuple[InputError, ...]]:
    """Every Istio EnvoyFilter of the input with its relevant patches."""
    reader = _Reader()
    filters = []
    for ref, root in objects_of(objects, "EnvoyFilter", ISTIO_GROUP):
        reader.at(ref)
        found = reader.envoy_filter(ref, root)
        if found is not None:
            filters.append(found)
    return tuple(filters), tuple(reader.errors)


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _walk(node: YNode | None, path: str = "") -> Iterator[tuple[str, YNode]]:
    """(dotted key path, value) of every map entry below ``node``."""
    if node is None:
        return
    if node.kind is NodeKind.MAP:
        for key, value in node.pairs():
            where = f"{path}.{key}" if path else key
            yield where, value
            yield from _walk(value, where)
    elif node.kind is NodeKind.SEQ:
        for element in node.elements:
            yield from _walk(element, path)


class _Reader(ObjectReader):
    def envoy_filter(self, ref: ObjectRef, root: YNode) -> EnvoyFilter | None:
        spec = self.map(root.get("spec"), "spec")
        if spec is None:
            return None
        patches: list[Patch] = []
        for index, entry in enumerate(self.seq(spec.get("configPatches"), "spec.configPatches")):
            where = f"spec.configPatches[{index}]"
            mapping = self.map(entry, where)
            if mapping is not None:
                patches.extend(self.patch(ref, mapping, where))
        priority = self.integer(spec.get("priority"), "spec.priority") or 0
        return EnvoyFilter(ref, self.selector(spec), priority, tuple(patches))

    def selector(self, spec: YNode) -> str:
        selector = self.map(spec.get("workloadSelector"), "spec.workloadSelector")
        if selector is not None:
            labels = self.labels(selector.get("labels"), "spec.workloadSelector.labels")
            return "workloadSelector " + ",".join(f"{k}={v}" for k, v in labels)
        refs = []
        for index, target in enumerate(self.seq(spec.get("targetRefs"), "spec.targetRefs")):
            mapping = self.map(target, f"spec.targetRefs[{index}]")
            if mapping is not None:
                kind = self.text(mapping.get("kind"), f"spec.targetRefs[{index}].kind")
                name = self.text(mapping.get("name"), f"spec.targetRefs[{index}].name")
                refs.append(f"{kind}/{name}")
        return f"targetRefs {', '.join(refs)}" if refs else ""

    def patch(self, ref: ObjectRef, entry: YNode, where: str) -> list[Patch]:
        apply_to = self.text(entry.get("applyTo"), f"{where}.applyTo")
        match = self.map(entry.get("match"), f"{where}.match")
        context = self.text(match.get("context"), f"{where}.match.context") if match else ""
        body = self.map(entry.get("patch"), f"{where}.patch")
        if body is None:
            return []
        operation = self.text(body.get("operation"), f"{where}.patch.operation")
        value = body.get("value")
        filter_name = _matched_filter(match)
        ctx = context or "ANY"
        source = field_source(ref, where, entry)
        if apply_to == "NETWORK_FILTER" and operation == "MERGE" and filter_name in _HCM_NAMES:
            return self.hcm_merge(ref, ctx, source, value, f"{where}.patch.value")
        inserted = self.text(get_field(value, "name"), f"{where}.patch.value.name") if value else ""
        if apply_to == "HTTP_FILTER" and operation in _INSERTS and inserted == _COMPRESSOR:
            return [self.compressor(ref, ctx, value, f"{where}.patch.value")]
        describe = " ".join(p for p in (apply_to, operation, inserted or filter_name) if p)
        keys = _timing_keys(value)
        if apply_to in _ROUTE_CONFIG:
            reason = (
                f"{apply_to} patches change Envoy's route configuration (route timeout, idle "
                f"timeout, retries); tokenpath does not interpret them: {CHECK_ROUTE}"
            )
            raw = f"{describe} ({', '.join(keys)})" if keys else describe
            return [Patch(ctx, "", 0.0, source, raw, reason)]
        names = [inserted, filter_name, *_names(value)]
        risky = next((n for n in names if any(r in n for r in _RISKY_FILTERS)), "")
        if risky:
            reason = (
                f"the {risky} filter may buffer, compress or time out the stream; tokenpath "
                f"does not interpret it: {CHECK_LISTENER}"
            )
            return [Patch(ctx, "", 0.0, source, describe, reason)]
        if keys:
            reason = f"sets {', '.join(keys)}; tokenpath does not interpret it: {CHECK_LISTENER}"
            return [Patch(ctx, "", 0.0, source, f"{describe} ({', '.join(keys)})", reason)]
        return []  # headers, tracing, access logs...: no stream effect

    def hcm_merge(
        self, ref: ObjectRef, context: str, source: Source, value: YNode | None, where: str
    ) -> list[Patch]:
        config = get_field(value, "typed_config")
        patches = []
        for field, setting in _HCM_FIELDS.items():
            node = get_field(config, field)
            if node is None:
                continue
            text = self.text(node, f"{where}.typed_config.{field}")
            at = field_source(ref, f"{where}.typed_config.{field}", node)
            try:
                seconds = parse_proto_duration(text)
            except ValueError as error:
                reason = f"{error}; Envoy rejects the patched listener: {CHECK_LISTENER}"
                patches.append(Patch(context, "", 0.0, at, f"{field}: {text}", reason))
                continue
            # 0s turns the timer off (FACTS.md §5).
            patches.append(Patch(context, setting, seconds or math.inf, at, text))
        others = [k for k in _timing_keys(config) if _snake(k) not in _HCM_FIELDS]
        if get_field(config, "route_config") is not None:
            others.append("route_config")
        if others:
            listed = ", ".join(others)
            reason = f"sets {listed}; tokenpath does not interpret it: {CHECK_LISTENER}"
            raw = f"NETWORK_FILTER MERGE ({listed})"
            patches.append(Patch(context, "", 0.0, source, raw, reason))
        return patches

    def compressor(self, ref: ObjectRef, context: str, value: YNode | None, where: str) -> Patch:
        common = field_path(value, "typed_config", "response_direction_config", "common_config")
        listed = get_field(common, "content_type")
        key = f"{where}.typed_config.response_direction_config.common_config.content_type"
        types = tuple(t for t in (self.text(n, f"{key}[]") for n in self.seq(listed, key)) if t)
        if listed is not None and types:
            return Patch(
                context, "compression", types, field_source(ref, key, listed), " ".join(types)
            )
        detail = "Envoy's default content types (FACTS.md §5)"
        source = field_source(ref, f"{where}.name", get_field(value, "name"), detail)
        return Patch(context, "compression", ENVOY_COMPRESSOR_DEFAULT_TYPES, source, _COMPRESSOR)


def _matched_filter(match: YNode | None) -> str:
    """The HTTP filter (``subFilter``) or network filter a patch matches, or ""."""
    found = match.path("listener", "filterChain", "filter") if match is not None else None
    if found is None:
        return ""
    sub = found.path("subFilter", "name")
    name = sub if sub is not None else found.get("name")
    return (name.text() or "") if name is not None else ""


def _names(value: YNode | None) -> list[str]:
    """Filter names and config types anywhere in a patch value."""
    return [
        node.text() or ""
        for key, node in _walk(value)
        if key.rsplit(".", 1)[-1] in ("name", "@type") and node.kind is NodeKind.SCALAR
    ]


def _timing_keys(value: YNode | None) -> list[str]:
    """Keys below ``value`` that name a timeout or a buffer (the innermost, deduplicated)."""
    keys: list[str] = []
    for path, _ in _walk(value):
        last = path.rsplit(".", 1)[-1].lower()
        if ("timeout" in last or "buffer" in last) and last not in keys:
            keys.append(path.rsplit(".", 1)[-1])
    return keys
