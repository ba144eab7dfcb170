"""Where Istio EnvoyFilters apply, and what they leave of a route's settings (FACTS.md §7).
What a filter's patches say: ``tokenpath.lint.envoy.envoypatches``.

Every relevant patch of a filter narrowed by ``workloadSelector``/``targetRefs`` stays
uninterpreted: which pods it selects is not in the manifests.

Scope (Istio EnvoyFilter reference): a filter in the root namespace (``istio-system``) applies
to proxies of every namespace, any other to proxies of its own namespace; ``match.context``
picks gateways or sidecars. Root-namespace filters apply first, then by ``priority``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from tokenpath.lint.envoy.envoypatches import CHECK_LISTENER, EnvoyFilter, Patch
from tokenpath.lint.envoy.values import written
from tokenpath.lint.model import EnvoyRouteSettings, Ignored
from tokenpath.lint.objects import same_namespace

ROOT_NAMESPACE = "istio-system"  # meshConfig.rootNamespace default
ENVOY_FILTER_DOCS = "https://istio.io/latest/docs/reference/config/networking/envoy-filter/"
_GATEWAY, _SIDECARS = "GATEWAY", ("SIDECAR_INBOUND", "SIDECAR_OUTBOUND")


@dataclass(frozen=True, slots=True)
class Proxies:
    """The Istio proxies that serve a route: gateways (by namespace) and/or sidecars (in the
    route's namespace)."""

    gateway_namespaces: tuple[str, ...] = ()
    sidecars: bool = True


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
                f"route: {CHECK_LISTENER}"
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
