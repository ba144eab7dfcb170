"""Istio EnvoyFilters: the few patches tokenpath reads safely, and every other patch that may
change a streaming setting, kept as an ``uninterpreted`` entry (FACTS.md §7: compression or
buffering injected by an EnvoyFilter is a realistic Istio failure).

Interpreted:
* ``NETWORK_FILTER`` ``MERGE`` on the HTTP connection manager setting ``stream_idle_timeout``
  (the stream's idle timer; Istio has no per-route one, istio/istio#24565) or
  ``delayed_close_timeout`` (FACTS.md §5);
* ``HTTP_FILTER`` ``INSERT_*`` of ``envoy.filters.http.compressor``: the listed
  ``response_direction_config.common_config.content_type``, else Envoy's defaults.

Not interpreted, shown instead: patches of the route configuration (``ROUTE_CONFIGURATION``,
``VIRTUAL_HOST``, ``HTTP_ROUTE``), filters that buffer, compress or rewrite bodies (buffer,
ext_proc, ext_authz, Lua, gzip...), any other key naming a timeout or a buffer, and every
relevant patch of a filter narrowed by ``workloadSelector``/``targetRefs`` (which pods it
selects is not in the manifests).

Scope (Istio EnvoyFilter reference): a filter in the root namespace (``istio-system``) applies
to proxies of every namespace, any other to proxies of its own namespace; ``match.context``
picks gateways or sidecars. Root-namespace filters apply first, then by ``priority``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from tokenpath.lint.document import InputError
from tokenpath.lint.envoy.values import (
    ENVOY_COMPRESSOR_DEFAULT_TYPES,
    field_source,
    parse_proto_duration,
    written,
)
from tokenpath.lint.fields import FieldReader
from tokenpath.lint.model import EnvoyRouteSettings, Ignored, ObjectRef, Source
from tokenpath.lint.objects import Objects, same_namespace
from tokenpath.lint.yamlnode import NodeKind, YNode

ROOT_NAMESPACE = "istio-system"  # meshConfig.rootNamespace default
ENVOY_FILTER_DOCS = "https://istio.io/latest/docs/reference/config/networking/envoy-filter/"
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
_GATEWAY, _SIDECARS = "GATEWAY", ("SIDECAR_INBOUND", "SIDECAR_OUTBOUND")
_CHECK_ROUTE = "check the effective route with `istioctl proxy-config route <pod> -o json`"
_CHECK_LISTENER = "check the effective listener with `istioctl proxy-config listener <pod> -o json`"


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


@dataclass(frozen=True, slots=True)
class Proxies:
    """The Istio proxies that serve a route: gateways (by namespace) and/or sidecars (in the
    route's namespace)."""

    gateway_namespaces: tuple[str, ...] = ()
    sidecars: bool = True


def read_envoy_filters(objects: Objects) -> tuple[tuple[EnvoyFilter, ...], list[InputError]]:
    """Every Istio EnvoyFilter of the input with its relevant patches."""
    reader = _Reader()
    filters = []
    for ref in objects.others:
        if ref.kind != "EnvoyFilter" or ref.node is None or not _is_istio(ref.node):
            continue
        reader.file, reader.obj = ref.file, str(ref)
        found = reader.envoy_filter(ref, ref.node)
        if found is not None:
            filters.append(found)
    return tuple(filters), reader.errors


def apply_envoy_filters(
    settings: EnvoyRouteSettings,
    filters: Sequence[EnvoyFilter],
    route_namespace: str,
    *,
    proxies: Proxies | None = None,
) -> EnvoyRouteSettings:
    """``settings`` as the EnvoyFilters that reach the proxies of a route in
    ``route_namespace`` leave them. ``proxies`` None: which proxies serve the route is not
    known, so every context counts and the route's namespace stands for theirs."""
    for envoy_filter, patch in _in_scope(filters, route_namespace, proxies):
        if envoy_filter.selector:
            reason = (
                f"{envoy_filter.ref} applies only to the pods selected by "
                f"{envoy_filter.selector}; tokenpath cannot tell whether they serve this "
                f"route: {_CHECK_LISTENER}"
            )
            settings = _uninterpreted(settings, Ignored(patch.source, patch.raw, reason))
        elif patch.setting == "":
            settings = _uninterpreted(settings, Ignored(patch.source, patch.raw, patch.reason))
        else:
            settings = _set(settings, patch)
    return settings


def _in_scope(
    filters: Sequence[EnvoyFilter], route_namespace: str, proxies: Proxies | None
) -> Iterator[tuple[EnvoyFilter, Patch]]:
    ordered = sorted(
        enumerate(filters),
        key=lambda item: (item[1].ref.namespace != ROOT_NAMESPACE, item[1].priority, item[0]),
    )
    for _, envoy_filter in ordered:
        for patch in envoy_filter.patches:
            if _reaches(envoy_filter.ref.namespace, patch.context, route_namespace, proxies):
                yield envoy_filter, patch


def _reaches(namespace: str, context: str, route_namespace: str, proxies: Proxies | None) -> bool:
    """Whether a patch of a filter in ``namespace`` reaches one of the route's proxies."""
    if proxies is None:
        targets = [(context, route_namespace)]
    else:
        targets = [(_GATEWAY, ns) for ns in proxies.gateway_namespaces]
        if proxies.sidecars:
            targets += [(side, route_namespace) for side in _SIDECARS]
    for kind, proxy_namespace in targets:
        if context not in ("ANY", kind):
            continue
        if namespace == ROOT_NAMESPACE or same_namespace(namespace, proxy_namespace):
            return True
    return False


def _set(settings: EnvoyRouteSettings, patch: Patch) -> EnvoyRouteSettings:
    value = patch.value
    if patch.setting == "idle_timeout" and isinstance(value, float):
        return replace(
            settings, idle_timeout=written(settings.idle_timeout, value, patch.source, patch.raw)
        )
    if patch.setting == "delayed_close" and isinstance(value, float):
        previous = settings.delayed_close
        return replace(settings, delayed_close=written(previous, value, patch.source, patch.raw))
    if patch.setting == "compression" and isinstance(value, tuple):
        compression = written(settings.compression, value, patch.source, patch.raw)
        return replace(settings, compression=compression)
    return settings


def _uninterpreted(settings: EnvoyRouteSettings, entry: Ignored) -> EnvoyRouteSettings:
    return replace(settings, uninterpreted=(*settings.uninterpreted, entry))


def _is_istio(root: YNode) -> bool:
    api = root.get("apiVersion")
    return api is not None and (api.text() or "").startswith("networking.istio.io/")


def _get(node: YNode | None, snake: str) -> YNode | None:
    """A field of Envoy config in a patch: proto JSON accepts the proto name and its
    lowerCamelCase form."""
    if node is None:
        return None
    head, *rest = snake.split("_")
    found = node.get(snake)
    return found if found is not None else node.get(head + "".join(w.title() for w in rest))


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


class _Reader(FieldReader):
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
        inserted = self.text(_get(value, "name"), f"{where}.patch.value.name") if value else ""
        if apply_to == "HTTP_FILTER" and operation in _INSERTS and inserted == _COMPRESSOR:
            return [self.compressor(ref, ctx, value, f"{where}.patch.value")]
        describe = " ".join(p for p in (apply_to, operation, inserted or filter_name) if p)
        keys = _timing_keys(value)
        if apply_to in _ROUTE_CONFIG:
            reason = (
                f"{apply_to} patches change Envoy's route configuration (route timeout, idle "
                f"timeout, retries); tokenpath does not interpret them: {_CHECK_ROUTE}"
            )
            raw = f"{describe} ({', '.join(keys)})" if keys else describe
            return [Patch(ctx, "", 0.0, source, raw, reason)]
        names = [inserted, filter_name, *_names(value)]
        risky = next((n for n in names if any(r in n for r in _RISKY_FILTERS)), "")
        if risky:
            reason = (
                f"the {risky} filter may buffer, compress or time out the stream; tokenpath "
                f"does not interpret it: {_CHECK_LISTENER}"
            )
            return [Patch(ctx, "", 0.0, source, describe, reason)]
        if keys:
            reason = f"sets {', '.join(keys)}; tokenpath does not interpret it: {_CHECK_LISTENER}"
            return [Patch(ctx, "", 0.0, source, f"{describe} ({', '.join(keys)})", reason)]
        return []  # headers, tracing, access logs...: no stream effect

    def hcm_merge(
        self, ref: ObjectRef, context: str, source: Source, value: YNode | None, where: str
    ) -> list[Patch]:
        config = _get(value, "typed_config")
        patches = []
        for field, setting in _HCM_FIELDS.items():
            node = _get(config, field)
            if node is None:
                continue
            text = self.text(node, f"{where}.typed_config.{field}")
            at = field_source(ref, f"{where}.typed_config.{field}", node)
            try:
                seconds = parse_proto_duration(text)
            except ValueError as error:
                reason = f"{error}; Envoy rejects the patched listener: {_CHECK_LISTENER}"
                patches.append(Patch(context, "", 0.0, at, f"{field}: {text}", reason))
                continue
            # 0s turns the timer off (FACTS.md §5).
            patches.append(Patch(context, setting, seconds or math.inf, at, text))
        others = [k for k in _timing_keys(config) if _snake(k) not in _HCM_FIELDS]
        if _get(config, "route_config") is not None:
            others.append("route_config")
        if others:
            listed = ", ".join(others)
            reason = f"sets {listed}; tokenpath does not interpret it: {_CHECK_LISTENER}"
            raw = f"NETWORK_FILTER MERGE ({listed})"
            patches.append(Patch(context, "", 0.0, source, raw, reason))
        return patches

    def compressor(self, ref: ObjectRef, context: str, value: YNode | None, where: str) -> Patch:
        common = _get(
            _get(_get(value, "typed_config"), "response_direction_config"), "common_config"
        )
        listed = _get(common, "content_type")
        key = f"{where}.typed_config.response_direction_config.common_config.content_type"
        types = tuple(t for t in (self.text(n, f"{key}[]") for n in self.seq(listed, key)) if t)
        if listed is not None and types:
            return Patch(
                context, "compression", types, field_source(ref, key, listed), " ".join(types)
            )
        detail = "Envoy's default content types (FACTS.md §5)"
        source = field_source(ref, f"{where}.name", _get(value, "name"), detail)
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
