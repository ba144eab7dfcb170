"""Which controller serves an Ingress, and how that was decided.

In order: the Ingress's class (``spec.ingressClassName`` or the legacy annotation
``kubernetes.io/ingress.class``) or, without one, the default IngressClass; that IngressClass's
``spec.controller``; without an IngressClass in the input, a controller Deployment whose flags
name the class; then the ``--controller`` hint; last, ingress-nginx is assumed and the reason
says so. The controller's Deployment, when in the input, gives its version (image tag), its
ConfigMap (``--configmap`` / ``-nginx-configmaps``) and its flags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.lint.facts import LATEST, fact
from tokenpath.lint.model import Controller, Ownership, qualified
from tokenpath.lint.objects import (
    ConfigMap,
    Container,
    Ingress,
    IngressClass,
    Objects,
    Workload,
)

IN = Controller.INGRESS_NGINX
NIC = Controller.NGINX_INC
NAMES = {IN: "ingress-nginx", NIC: "F5 NGINX Ingress Controller"}

# Images of the controllers, by the last path segment(s) of the repository.
_IN_IMAGES = re.compile(r"(^|/)(ingress-nginx/controller(-chroot)?|nginx-ingress-controller)$")
_NIC_IMAGES = re.compile(r"(^|/)(nginx-ingress|nginx-plus-ingress)$")
_VERSION_TAG = re.compile(r"^v?(\d+\.\d+(?:\.\d+)?)")
# Ingress classes of controllers outside the NGINX family: their Ingresses are skipped.
OTHER_CLASSES = frozenset(
    {"traefik", "alb", "gce", "gce-internal", "kong", "haproxy", "istio", "contour", "cilium",
     "azure-application-gateway", "webapprouting.kubernetes.azure.com", "openshift-default",
     "ambassador", "skipper", "apisix", "caddy", "pomerium", "citrix", "voyager", "tyk",
     "emissary", "envoy", "gloo", "nsx", "avi", "kourier", "higress"}
)  # fmt: skip
# Well-known names of the controllers' ConfigMaps (static manifests and Helm charts), used only
# when no controller Deployment in the input names one.
_WELL_KNOWN_CONFIGMAPS = {
    IN: re.compile(r"^(ingress-nginx-controller|.+-ingress-nginx-controller|nginx-configuration)$"),
    NIC: re.compile(r"^(nginx-config|.+-nginx-ingress)$"),
}


@dataclass(frozen=True, slots=True)
class ControllerDeployment:
    """A controller's own workload found in the input."""

    controller: Controller
    workload: Workload
    container: Container
    version: str  # from the image tag; "" when it has none
    args: tuple[str, ...]  # command + args
    class_name: str  # the ingress class it serves
    controller_class: str  # the IngressClass spec.controller value it answers to
    configmap: tuple[str, str] | None  # (namespace, name) from its flag
    configmap_flag: str

    def describe(self) -> str:
        image = self.container.image.split("@", 1)[0]  # the digest adds nothing to read
        return f"controller {self.workload.ref} (image {image})"


@dataclass(frozen=True, slots=True)
class Controllers:
    """The controller workloads of the input, and the ConfigMaps that look like each
    controller's by name (used only when no controller workload names one)."""

    deployments: tuple[ControllerDeployment, ...]
    well_known: tuple[tuple[Controller, ConfigMap | None, str], ...] = ()

    def by_name(self, controller: Controller) -> tuple[ConfigMap | None, str]:
        for family, configmap, why in self.well_known:
            if family is controller:
                return configmap, why
        return None, ""


def image_repository(image: str) -> str:
    """``registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:..`` -> the part before the tag."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def image_tag(image: str) -> str:
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[colon + 1 :] if colon > slash else ""


def image_version(image: str) -> str:
    """The release in an image tag: ``v1.12.1`` -> ``1.12.1``; ``5.0.0-ubi`` -> ``5.0.0``."""
    match = _VERSION_TAG.match(image_tag(image))
    return match.group(1) if match else ""


def flag_value(args: Sequence[str], name: str) -> str | None:
    """The value of a Go/pflag flag: ``--name=v``, ``-name=v``, ``--name v``; None if absent."""
    for i, arg in enumerate(args):
        if not arg.startswith("-"):
            continue
        flag, eq, value = arg.lstrip("-").partition("=")
        if flag != name:
            continue
        if eq:
            return value
        following = args[i + 1] if i + 1 < len(args) else ""
        return "true" if not following or following.startswith("-") else following
    return None


def flag_bool(args: Sequence[str], name: str) -> bool | None:
    value = flag_value(args, name)
    if value is None:
        return None
    return value.strip().lower() in ("true", "1", "t", "yes")


def _controller_of(container: Container) -> Controller | None:
    repository = image_repository(container.image).lower()
    if _IN_IMAGES.search(repository):
        return IN
    if _NIC_IMAGES.search(repository):
        return NIC
    if container.args[:1] == ("/nginx-ingress-controller",):
        return IN
    return None


def find_controllers(objects: Objects) -> Controllers:
    """Every NGINX-family controller workload in the input."""
    found = []
    for workload in objects.workloads:
        for container in workload.containers:
            controller = _controller_of(container)
            if controller is None:
                continue
            args = tuple(container.command) + tuple(container.args)
            args = tuple(a.replace("$(POD_NAMESPACE)", workload.ref.namespace) for a in args)
            flag = "configmap" if controller is IN else "nginx-configmaps"
            if controller is IN:
                class_name = flag_value(args, "ingress-class") or fact(IN, "ingress-class").default
                controller_class = (
                    flag_value(args, "controller-class") or fact(IN, "controller-class").default
                )
            else:
                class_name = flag_value(args, "ingress-class") or fact(NIC, "ingress-class").default
                controller_class = fact(NIC, "controller-class").default
            found.append(
                ControllerDeployment(
                    controller=controller,
                    workload=workload,
                    container=container,
                    version=image_version(container.image),
                    args=args,
                    class_name=class_name,
                    controller_class=controller_class,
                    configmap=_namespaced(flag_value(args, flag), workload.ref.namespace),
                    configmap_flag=flag,
                )
            )
            break
    well_known = tuple((c, *_well_known_configmap(c, objects)) for c in (IN, NIC))
    return Controllers(tuple(found), well_known)


def _namespaced(value: str | None, default_namespace: str) -> tuple[str, str] | None:
    if not value:
        return None
    namespace, slash, name = value.rpartition("/")
    return (namespace if slash else default_namespace, name)


@dataclass(frozen=True, slots=True)
class _Decision:
    controller: Controller
    reason: str
    deployment: ControllerDeployment | None = None


def decide_owner(
    ingress: Ingress, objects: Objects, controllers: Controllers, hint: Controller | None
) -> Ownership | None:
    """The controller serving ``ingress``, or None when it belongs to another controller."""
    deployments = controllers.deployments
    decision = _decide_controller(ingress, objects, deployments, hint)
    if decision is None:
        return None
    deployment = decision.deployment or _pick(deployments, decision.controller, ingress.class_name)
    reasons = [decision.reason]
    version = ""
    if deployment is not None:
        version = deployment.version
        if decision.deployment is None:
            reasons.append(deployment.describe())
        if not version:
            reasons.append(f"its image has no version tag: v{LATEST[decision.controller]} assumed")
    else:
        latest = LATEST[decision.controller]
        reasons.append(f"no controller Deployment in the input: defaults of v{latest} assumed")
    if deployment is not None:
        configmap, why = _configmap(decision.controller, deployment, objects)
    else:
        configmap, why = controllers.by_name(decision.controller)
    if why:
        reasons.append(why)
    return Ownership(
        controller=decision.controller,
        version=version,
        reason="; ".join(reasons),
        class_name=ingress.class_name,
        configmap=configmap.ref if configmap is not None else None,
        deployment=deployment.workload.ref if deployment is not None else None,
        args=deployment.args if deployment is not None else (),
    )


def _decide_controller(
    ingress: Ingress,
    objects: Objects,
    controllers: Sequence[ControllerDeployment],
    hint: Controller | None,
) -> _Decision | None:
    name = ingress.class_name
    if name:
        how = f'{ingress.class_from} "{name}"'
        ingress_class = objects.ingress_class(name)
    else:
        defaults = [c for c in objects.ingress_classes if c.is_default]
        ingress_class = defaults[0] if defaults else None
        how = "no ingress class"
        if ingress_class is not None:
            name = ingress_class.name
            how = f"no ingress class, so the default IngressClass {name}"
    if ingress_class is not None:
        return _by_ingress_class(how, ingress_class, controllers)
    return _without_ingress_class(how, name, controllers, hint)


def _by_ingress_class(
    how: str, ingress_class: IngressClass, controllers: Sequence[ControllerDeployment]
) -> _Decision | None:
    wanted = ingress_class.controller
    where = f"{ingress_class.ref.file}:{ingress_class.controller_line or ingress_class.ref.line}"
    reason = f"{how} -> IngressClass {ingress_class.name} (controller {wanted}, {where})"
    if wanted == fact(NIC, "controller-class").default:
        matching = [d for d in controllers if d.controller is NIC]
        named = [d for d in matching if d.class_name == ingress_class.name]
        deployment = _first(named or matching)
        return _decision(NIC, reason, deployment)
    matching = [d for d in controllers if d.controller is IN and d.controller_class == wanted]
    if matching or wanted == fact(IN, "controller-class").default:
        named = [d for d in matching if d.class_name == ingress_class.name]
        deployment = _first(named or matching)
        return _decision(IN, reason, deployment)
    return None


def _decision(
    controller: Controller, reason: str, deployment: ControllerDeployment | None
) -> _Decision:
    if deployment is not None:
        reason = f"{reason}, served by {deployment.describe()}"
    return _Decision(controller, reason, deployment)


def _without_ingress_class(
    how: str, name: str, controllers: Sequence[ControllerDeployment], hint: Controller | None
) -> _Decision | None:
    absent = f"no IngressClass {name} in the input" if name else "no default IngressClass"
    matching = [d for d in controllers if not name or d.class_name == name]
    families = {d.controller for d in matching}
    if len(families) == 1:
        deployment = matching[0]
        dashes = "--" if deployment.controller is IN else "-"
        flag = f"{dashes}ingress-class={deployment.class_name}"
        return _Decision(
            deployment.controller,
            f"{how} ({absent}) -> {deployment.describe()}, which serves it ({flag})",
            deployment,
        )
    if families and hint in families:
        deployment = next(d for d in matching if d.controller is hint)
        return _Decision(
            deployment.controller,
            f"{how} ({absent}) is served by both NGINX controllers in the input; "
            f"--controller {hint} picks {deployment.describe()}",
            deployment,
        )
    if name in OTHER_CLASSES:
        return None
    if hint is not None:
        return _Decision(hint, f"{how} ({absent}, no controller Deployment) -> --controller {hint}")
    if name and name != "nginx" and "nginx" not in name and not families:
        return None  # a class of some other controller
    if families:
        why = "served by both NGINX controllers in the input"
    elif name == "nginx":
        why = f"{absent}; both ingress-nginx and F5 NGINX Ingress Controller default to it"
    else:
        why = absent
    return _Decision(
        IN,
        f"{how} ({why}): ingress-nginx assumed; pass --controller {NIC} if F5 NGINX Ingress "
        "Controller serves it",
    )


def _pick(
    controllers: Sequence[ControllerDeployment], controller: Controller, class_name: str
) -> ControllerDeployment | None:
    family = [d for d in controllers if d.controller is controller]
    named = [d for d in family if d.class_name == class_name]
    return _first(named or family)


def _configmap(
    controller: Controller, deployment: ControllerDeployment, objects: Objects
) -> tuple[ConfigMap | None, str]:
    dashes = "--" if controller is IN else "-"
    if deployment.configmap is None:
        return (
            None,
            f"the controller has no {dashes}{deployment.configmap_flag} flag: built-in defaults",
        )
    namespace, name = deployment.configmap
    found = objects.configmap(namespace, name)
    shown = qualified(namespace, name)
    if found is None:
        return None, (
            f"{dashes}{deployment.configmap_flag}={shown} is not in the input: "
            "built-in defaults assumed"
        )
    return found, f"ConfigMap {shown} from {dashes}{deployment.configmap_flag}"


def _well_known_configmap(controller: Controller, objects: Objects) -> tuple[ConfigMap | None, str]:
    pattern = _WELL_KNOWN_CONFIGMAPS[controller]
    candidates = [c for c in objects.configmaps if pattern.match(c.ref.name)]
    if len(candidates) > 1:
        names = ", ".join(str(c.ref) for c in candidates)
        return None, f"several ConfigMaps look like the controller's ({names}): none used"
    if not candidates:
        return None, ""
    return candidates[0], f"{candidates[0].ref} taken as its ConfigMap by its well-known name"


def _first(items: Sequence[ControllerDeployment]) -> ControllerDeployment | None:
    return items[0] if items else None
