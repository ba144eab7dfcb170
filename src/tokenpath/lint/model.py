"""Typed domain values of the lint model: object references, provenance, effective settings,
routes. Produced by ``lint.adapters`` and ``lint.routes``; consumed by the pure rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeAlias, TypeVar

from tokenpath.lint.yamlnode import YNode

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """A Kubernetes object and where it was read."""

    kind: str
    name: str
    namespace: str  # "" for cluster-scoped objects or when the manifest does not say
    file: str
    line: int  # line of the object's document start (``apiVersion``/``kind`` block)
    doc_index: int
    helm_source: str = ""
    node: YNode | None = field(default=None, compare=False, repr=False)  # the object's root map
    text: str = field(default="", compare=False, repr=False)  # the whole file's text, for fixes

    def __str__(self) -> str:
        return f"{self.kind}/{qualified(self.namespace, self.name)}"


def qualified(namespace: str, name: str) -> str:
    """``namespace/name``, or ``name`` when the namespace is not known."""
    return f"{namespace}/{name}" if namespace else name


class SourceKind(StrEnum):
    ANNOTATION = "annotation"  # on this Ingress (or Service for some controllers)
    CONFIGMAP = "configmap"  # the controller's ConfigMap
    DEFAULT = "default"  # the controller's built-in default for its version
    TEMPLATE = "template"  # fixed by the controller's nginx.conf template (not settable)
    FIELD = "field"  # a field of a route, policy or Envoy config object (``key`` is its path)


@dataclass(frozen=True, slots=True)
class Source:
    """Where an effective value came from."""

    kind: SourceKind
    key: str  # annotation name, ConfigMap key, or the directive for defaults
    obj: ObjectRef | None = None  # the Ingress or ConfigMap that set it
    line: int = 0  # line of the value in its file (0 for defaults)
    detail: str = ""  # e.g. "ingress-nginx default since v0.x", with the fact's source link
    node: YNode | None = field(default=None, compare=False, repr=False)  # the value node

    def describe(self) -> str:
        """One phrase for output: 'annotation nginx.ingress.kubernetes.io/x (ing.yaml:12)'."""
        where = f" ({self.obj.file}:{self.line})" if self.obj is not None and self.line else ""
        match self.kind:
            case SourceKind.ANNOTATION:
                return f"annotation {self.key}{where}"
            case SourceKind.CONFIGMAP:
                name = f" of {self.obj}" if self.obj is not None else ""
                return f"key {self.key}{name}{where}"
            case SourceKind.DEFAULT:
                return f"default ({self.detail})" if self.detail else "default"
            case SourceKind.TEMPLATE:
                return f"controller template ({self.detail})" if self.detail else "template"
            case SourceKind.FIELD:
                name = f" of {self.obj}" if self.obj is not None else ""
                return f"{self.key}{name}{where}"


@dataclass(frozen=True, slots=True)
class Ignored:
    """A value the controller rejects or ignores, so it does not take effect."""

    source: Source
    raw: str  # the text as written
    reason: str  # why it is ignored, e.g. 'integer seconds expected; "3600s" does not parse'


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    """An effective value with its provenance."""

    value: T
    source: Source
    raw: str | None = None  # the text as written, when it came from a manifest
    overridden: tuple[Source, ...] = ()  # lower-precedence sources this value beat
    ignored: tuple[Ignored, ...] = ()  # values that were written but do not take effect


class Family(StrEnum):
    """Which proxy a controller runs: rules and renderers are written per family."""

    NGINX = "nginx"
    ENVOY = "envoy"


class Controller(StrEnum):
    INGRESS_NGINX = "ingress-nginx"
    NGINX_INC = "nginx-inc"  # F5 NGINX Ingress Controller
    ENVOY_GATEWAY = "envoy-gateway"
    ISTIO = "istio"
    CONTOUR = "contour"
    ENVOY_AI_GATEWAY = "envoy-ai-gateway"  # AIGatewayRoute, served by an Envoy Gateway
    ENVOY = "envoy"  # a raw Envoy bootstrap file

    @property
    def family(self) -> Family:
        if self in (Controller.INGRESS_NGINX, Controller.NGINX_INC):
            return Family.NGINX
        return Family.ENVOY


@dataclass(frozen=True, slots=True)
class Snippet:
    source: Source
    text: str
    applied: bool  # False when the controller ignores or refuses it
    reason: str = ""  # why not applied


@dataclass(frozen=True, slots=True)
class RouteSettings:
    """Streaming-relevant settings of one route, normalised across NGINX-family controllers.

    Times in seconds; sizes in bytes (``None`` body size = unlimited).
    """

    buffering: Setting[bool]
    request_buffering: Setting[bool]
    http_version: Setting[str]  # upstream protocol: "1.0" | "1.1"
    read_timeout: Setting[float]
    send_timeout: Setting[float]
    connect_timeout: Setting[float]
    gzip: Setting[bool]
    gzip_types: Setting[tuple[str, ...]]
    brotli: Setting[bool]
    brotli_types: Setting[tuple[str, ...]]
    body_size: Setting[int | None]
    modsecurity: Setting[bool]
    snippets: tuple[Snippet, ...] = ()
    # Annotations on the Ingress that the owning controller does not read (another
    # controller's prefix, a misspelt key): written, but without effect.
    unread: tuple[Ignored, ...] = ()
    # Values that make the controller refuse the whole Ingress (F5 NIC: an invalid annotation
    # or a snippet without -enable-snippets; ingress-nginx >= v1.12: a snippet above the
    # annotations-risk-level; nginx rejecting a snippet's duplicate directive). When not
    # empty, the controller serves none of this Ingress's routes.
    refused: tuple[Ignored, ...] = ()


@dataclass(frozen=True, slots=True)
class FixTarget:
    """Where a route's own values are written, for fixes: a map of the declaring object (an
    HTTPRoute rule, an HTTPProxy route, a VirtualService ``http`` entry, an Envoy route) and,
    per ``EnvoyRouteSettings`` field name, the key path below that map that sets it
    (``("timeouts", "request")`` on an HTTPRoute rule)."""

    obj: ObjectRef
    node: YNode = field(compare=False, repr=False)
    paths: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def path(self, setting: str) -> tuple[str, ...] | None:
        return next((keys for name, keys in self.paths if name == setting), None)


@dataclass(frozen=True, slots=True)
class EnvoyRouteSettings:
    """Streaming-relevant settings of one Envoy route, normalised across the Envoy family
    (Envoy Gateway, Envoy AI Gateway, Istio, Contour, raw Envoy): the values the route ends up
    with in Envoy's own terms, each with where it came from (FACTS.md §4-§9).

    Seconds, with ``math.inf`` for "no timer"; sizes in bytes.
    """

    route_timeout: Setting[float]  # RouteAction.timeout: a total cap, request end to response end
    # The idle timer the stream sees: RouteAction.idle_timeout, else the HCM's
    # stream_idle_timeout (reset by every upstream read; heartbeats keep it alive).
    idle_timeout: Setting[float]
    backend_timeout: Setting[float]  # one attempt's total cap (retry_policy.per_try_timeout)
    per_try_idle_timeout: Setting[float]  # one attempt's idle cap (fails over when silent)
    max_stream_duration: Setting[float]  # RouteAction.max_stream_duration: a total cap
    # Content types a response compressor compresses; None when no compressor runs.
    compression: Setting[tuple[str, ...] | None]
    # Whether a filter reads the whole request body before forwarding it (ext_proc in buffered
    # mode, the buffer filter, Envoy Gateway requestBuffer): then bodies above
    # ``request_buffer_limit`` get a 413.
    body_buffered: Setting[bool]
    request_buffer_limit: Setting[int]
    delayed_close: Setting[float]  # HCM delayed_close_timeout: a cut reaches the client this late
    # Objects that may change these values but that tokenpath cannot interpret (EnvoyFilter
    # patches, unknown policy fields): shown, never guessed.
    uninterpreted: tuple[Ignored, ...] = ()
    # Values that make Envoy (or the controller) reject the configuration: an unknown field,
    # an option in the wrong message.
    refused: tuple[Ignored, ...] = ()
    fix_target: FixTarget | None = None  # None when the route has no map of its own to edit


@dataclass(frozen=True, slots=True)
class Ownership:
    """Which controller serves an Ingress, and how that was decided (shown as provenance)."""

    controller: Controller
    version: str  # e.g. "1.12.1"; "" when unknown (defaults of the latest release apply)
    # e.g. 'ingressClassName "nginx" -> IngressClass nginx (controller k8s.io/ingress-nginx)'
    reason: str
    class_name: str = ""
    configmap: ObjectRef | None = None
    deployment: ObjectRef | None = None  # the controller's own workload, when in the input
    args: tuple[str, ...] = ()  # its container command + args (flags such as -enable-snippets)


S = TypeVar("S", RouteSettings, EnvoyRouteSettings)


@dataclass(frozen=True, slots=True)
class Route(Generic[S]):
    """host + path -> Service:port -> workload, with effective settings.

    ``obj`` is the object that declares the route: an Ingress (NGINX family), or an HTTPRoute,
    GRPCRoute, AIGatewayRoute, VirtualService, HTTPProxy or Envoy bootstrap (Envoy family).
    """

    obj: ObjectRef
    host: str  # "" = any host
    path: str  # "/" when not given
    service: str
    port: str  # port number or name as written
    workload: ObjectRef | None
    images: tuple[str, ...]
    owner: Ownership
    llm_reason: str  # why it counts as an LLM route, or "" when it does not
    settings: S
    line: int = 0  # line of the path entry (Ingress) or rule/match (other route objects)

    @property
    def is_llm(self) -> bool:
        return bool(self.llm_reason)

    @property
    def family(self) -> Family:
        return self.owner.controller.family

    def label(self) -> str:
        return f"{self.host or '*'}{self.path}"


NginxRoute: TypeAlias = Route[RouteSettings]
EnvoyRoute: TypeAlias = Route[EnvoyRouteSettings]
AnyRoute: TypeAlias = Route[Any]
