"""Routes and ownership: which controller serves an Ingress, how that was decided, where its
ConfigMap and version come from, and the host + path -> Service -> workload graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenpath.lint.document import InputError, SourceText
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import Controller, Route
from tokenpath.lint.objects import Objects
from tokenpath.lint.ownership import flag_value, image_repository, image_version
from tokenpath.lint.routes import build_routes

FIXTURES = Path(__file__).parent / "fixtures" / "model"
IN = Controller.INGRESS_NGINX
NIC = Controller.NGINX_INC


def load(text: str, file: str = "in.yaml") -> Objects:
    documents, errors = load_documents(SourceText(file, text))
    objects, object_errors = parse_objects(documents, {file: text})
    assert errors + object_errors == []
    return objects


def routes_of(
    text: str, hint: Controller | None = None, *, all_routes: bool = True
) -> tuple[tuple[Route, ...], list[InputError]]:
    return build_routes(load(text), controller_hint=hint, all_routes=all_routes)


def ingress(name: str, cls: str = "", legacy: str = "", path: str = "/") -> str:
    spec_class = f"  ingressClassName: {cls}\n" if cls else ""
    annotations = f"  annotations:\n    kubernetes.io/ingress.class: {legacy}\n" if legacy else ""
    return (
        f"---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n"
        f"{annotations}spec:\n{spec_class}  rules:\n    - http:\n        paths:\n"
        f"          - path: {path}\n"
        "            backend: {service: {name: svc, port: {number: 80}}}\n"
    )


def ingress_class(name: str, controller: str, default: bool = False) -> str:
    annotation = (
        '  annotations:\n    ingressclass.kubernetes.io/is-default-class: "true"\n'
        if default
        else ""
    )
    return (
        f"---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: {name}\n"
        f"{annotation}spec:\n  controller: {controller}\n"
    )


def controller(image: str, *args: str, namespace: str = "ingress") -> str:
    arg_lines = "".join(f"            - {a!r}\n".replace("'", '"') for a in args)
    return (
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: ctrl-{len(args)}\n  namespace: {namespace}\n"
        "spec:\n  template:\n    metadata: {labels: {app: ctrl}}\n    spec:\n      containers:\n"
        f"        - name: c\n          image: {image}\n          args:\n{arg_lines}"
    )


def owner_of(text: str, hint: Controller | None = None) -> dict[str, Route]:
    routes, _ = routes_of(text, hint)
    return {r.obj.name: r for r in routes}


def test_helm_fixture_routes_sorted_and_llm_filtered() -> None:
    path = FIXTURES / "helm_ingress_nginx.yaml"
    text = path.read_text(encoding="utf-8")
    documents, _ = load_documents(SourceText(str(path), text))
    objects, _ = parse_objects(documents, {str(path): text})
    routes, errors = build_routes(objects, controller_hint=None, all_routes=True)
    assert errors == []
    assert [(r.label(), r.line) for r in routes] == [
        ("llm.example.com/v1", 111),
        ("llm.example.com/docs", 118),
    ]
    chat = routes[0]
    assert (chat.service, chat.port) == ("vllm", "http")
    assert chat.workload is not None
    assert str(chat.workload) == "Deployment/ai/vllm"
    assert chat.images == ("vllm/vllm-openai:v0.6.3",)
    assert chat.owner.configmap is not None
    assert str(chat.owner.configmap) == "ConfigMap/ingress-nginx/ingress-nginx-controller"
    assert chat.owner.deployment is not None
    assert "--configmap" in chat.owner.reason
    assert chat.owner.version == "1.12.1"
    assert chat.is_llm
    assert not routes[1].is_llm  # no Service "docs" in the input, nothing LLM-like
    llm_only, _ = build_routes(objects, controller_hint=None, all_routes=False)
    assert [r.label() for r in llm_only] == ["llm.example.com/v1"]


def test_ownership_by_ingress_class() -> None:
    text = (
        ingress_class("public", "k8s.io/ingress-nginx")
        + ingress_class("f5", "nginx.org/ingress-controller")
        + ingress_class("traefik", "traefik.io/ingress-controller")
        + ingress("a", cls="public")
        + ingress("b", cls="f5")
        + ingress("c", cls="traefik")
        + ingress("d", legacy="f5")
    )
    routes = owner_of(text)
    assert routes["a"].owner.controller is IN
    assert (
        "IngressClass public (controller k8s.io/ingress-nginx, in.yaml:" in routes["a"].owner.reason
    )
    assert routes["b"].owner.controller is NIC
    assert "c" not in routes  # Traefik's: no route, no error
    assert routes["d"].owner.controller is NIC
    assert routes["d"].owner.reason.startswith('annotation kubernetes.io/ingress.class "f5"')


def test_default_ingress_class_for_classless_ingresses() -> None:
    text = ingress_class("f5", "nginx.org/ingress-controller", default=True) + ingress("a")
    route = owner_of(text)["a"]
    assert route.owner.controller is NIC
    assert "no ingress class, so the default IngressClass f5" in route.owner.reason


def test_several_default_classes_are_an_input_error() -> None:
    text = (
        ingress_class("one", "k8s.io/ingress-nginx", default=True)
        + ingress_class("two", "k8s.io/ingress-nginx", default=True)
        + ingress("a")
    )
    _, errors = routes_of(text)
    assert len(errors) == 1
    assert "several IngressClasses are marked default" in errors[0].message


def test_controller_deployment_decides_when_no_ingress_class_is_in_the_input() -> None:
    text = controller("nginx/nginx-ingress:5.1.0-ubi", "-ingress-class=nginx") + ingress(
        "a", cls="nginx"
    )
    route = owner_of(text)["a"]
    assert route.owner.controller is NIC
    assert route.owner.version == "5.1.0"
    assert "-ingress-class=nginx" in route.owner.reason
    assert "no -nginx-configmaps flag" in route.owner.reason


def test_ambiguous_nginx_class_uses_the_hint_else_assumes_ingress_nginx() -> None:
    text = ingress("a", cls="nginx")
    assumed = owner_of(text)["a"].owner
    assert assumed.controller is IN
    assert "ingress-nginx assumed" in assumed.reason
    assert "both ingress-nginx and F5 NGINX Ingress Controller default to it" in assumed.reason
    assert assumed.version == ""
    assert "defaults of v1.15.1 assumed" in assumed.reason
    hinted = owner_of(text, NIC)["a"].owner
    assert hinted.controller is NIC
    assert "--controller nginx-inc" in hinted.reason


def test_other_controllers_classes_are_skipped_without_input() -> None:
    text = ingress("a", cls="alb") + ingress("b", cls="my-company-class")
    assert owner_of(text) == {}
    assert set(owner_of(text, IN)) == {"b"}  # an unknown class follows --controller


def test_both_controllers_in_the_input() -> None:
    text = (
        controller("registry.k8s.io/ingress-nginx/controller:v1.11.3", "--ingress-class=nginx")
        + controller("nginx/nginx-ingress:4.0.1", "-ingress-class=nginx", "-enable-snippets")
        + ingress("a", cls="nginx")
    )
    assumed = owner_of(text)["a"].owner
    assert assumed.controller is IN
    assert "served by both NGINX controllers" in assumed.reason
    picked = owner_of(text, NIC)["a"].owner
    assert picked.controller is NIC
    assert picked.version == "4.0.1"
    assert "-enable-snippets" in picked.args


def test_configmap_found_via_controller_args_with_pod_namespace() -> None:
    text = (
        controller(
            "registry.k8s.io/ingress-nginx/controller:v1.9.4",
            "/nginx-ingress-controller",
            "--configmap=$(POD_NAMESPACE)/my-config",
        )
        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: my-config, namespace: ingress}\n"
        'data: {proxy-read-timeout: "900"}\n' + ingress("a", cls="nginx")
    )
    route = owner_of(text)["a"]
    assert route.owner.configmap is not None
    assert str(route.owner.configmap) == "ConfigMap/ingress/my-config"
    assert route.settings.read_timeout.value == 900.0
    assert route.owner.version == "1.9.4"
    missing = text.replace("name: my-config,", "name: other,")
    route = owner_of(missing)["a"]
    assert route.owner.configmap is None
    assert "--configmap=ingress/my-config is not in the input" in route.owner.reason
    assert route.settings.read_timeout.value == 60.0


def test_configmap_by_well_known_name_without_a_controller_deployment() -> None:
    text = (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\n"
        '  namespace: ingress-nginx\ndata: {proxy-buffering: "on"}\n'
        + ingress_class("nginx", "k8s.io/ingress-nginx")
        + ingress("a", cls="nginx")
    )
    route = owner_of(text)["a"]
    assert route.settings.buffering.value is True
    assert "well-known name" in route.owner.reason


def test_backend_resolution_service_port_and_workload() -> None:
    text = (
        ingress_class("nginx", "k8s.io/ingress-nginx")
        + ingress("a", cls="nginx", path="/generate_stream")
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: svc}\n"
        "spec:\n  selector: {app: tgi}\n  ports: [{port: 80, targetPort: web}]\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tgi}\n"
        "spec:\n  template:\n    metadata: {labels: {app: tgi, extra: x}}\n    spec:\n"
        "      containers:\n        - name: c\n"
        "          image: ghcr.io/huggingface/text-generation-inference:2.4\n"
        "          ports: [{name: web, containerPort: 8080}]\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\n"
        "spec:\n  template:\n    metadata: {labels: {app: other}}\n    spec:\n"
        "      containers: [{name: c, image: redis}]\n"
    )
    route = owner_of(text)["a"]
    assert route.workload is not None
    assert route.workload.name == "tgi"
    assert route.images == ("ghcr.io/huggingface/text-generation-inference:2.4",)
    assert route.llm_reason.startswith("image ghcr.io/huggingface/text-generation-inference:2.4")
    assert route.path == "/generate_stream"


@pytest.mark.parametrize(
    ("image", "repository", "version"),
    [
        (
            "registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:abc",
            "registry.k8s.io/ingress-nginx/controller",
            "1.12.1",
        ),
        ("nginx/nginx-ingress:5.0.0-alpine", "nginx/nginx-ingress", "5.0.0"),
        ("localhost:5000/nginx-ingress", "localhost:5000/nginx-ingress", ""),
        ("nginx/nginx-ingress:latest", "nginx/nginx-ingress", ""),
    ],
)
def test_image_parts(image: str, repository: str, version: str) -> None:
    assert image_repository(image) == repository
    assert image_version(image) == version


def test_flag_forms() -> None:
    args = ("--configmap=ns/a", "-nginx-configmaps", "ns/b", "-enable-snippets", "--x=1")
    assert flag_value(args, "configmap") == "ns/a"
    assert flag_value(args, "nginx-configmaps") == "ns/b"
    assert flag_value(args, "enable-snippets") == "true"
    assert flag_value(args, "missing") is None
