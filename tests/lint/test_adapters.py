"""Controller adapters: value syntax, defaults per version, precedence with provenance,
snippets, annotations a controller does not read, and fix helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenpath.lint.adapters import (
    annotation_key,
    configmap_key,
    effective_settings,
    format_value,
    has_annotation,
)
from tokenpath.lint.adapters.values import (
    format_nginx_size,
    format_nginx_time,
    parse_go_bool,
    parse_int_seconds,
    parse_nginx_size,
    parse_nginx_time,
    parse_on_off,
    top_level_directives,
)
from tokenpath.lint.document import SourceText
from tokenpath.lint.facts import FACTS, Evidence, at_least, fact
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.load import load_documents
from tokenpath.lint.model import Controller, Ownership, RouteSettings, SourceKind
from tokenpath.lint.objects import Objects
from tokenpath.lint.routes import build_routes

FIXTURES = Path(__file__).parent / "fixtures" / "model"
IN = Controller.INGRESS_NGINX
NIC = Controller.NGINX_INC
A = "nginx.ingress.kubernetes.io/"


def load(text: str, file: str = "in.yaml") -> Objects:
    documents, errors = load_documents(SourceText(file, text))
    objects, object_errors = parse_objects(documents, {file: text})
    assert errors + object_errors == []
    return objects


def ingress_yaml(annotations: dict[str, str]) -> str:
    lines = "".join(f"    {k}: {v!r}\n".replace("'", '"') for k, v in annotations.items())
    return (
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: chat\n"
        f"  annotations:\n{lines}"
        "spec:\n  rules:\n    - http:\n        paths:\n          - path: /v1/chat/completions\n"
        "            backend: {service: {name: vllm, port: {number: 8000}}}\n"
    )


def configmap_yaml(data: dict[str, str]) -> str:
    lines = "".join(f"  {k}: {v!r}\n".replace("'", '"') for k, v in data.items())
    return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ctrl}}\ndata:\n{lines}"


def settings(
    controller: Controller,
    annotations: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    *,
    version: str = "",
    args: tuple[str, ...] = (),
) -> RouteSettings:
    text = ingress_yaml(annotations or {"x/y": "z"})
    if data is not None:
        text += configmap_yaml(data)
    objects = load(text)
    configmap = objects.configmaps[0] if objects.configmaps else None
    owner = Ownership(controller=controller, version=version, reason="test", args=args)
    return effective_settings(objects.ingresses[0], owner, configmap)


# --- value parsers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("60s", 60.0),
        ("60", 60.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("1h 30m", 5400.0),
        ("500ms", 0.5),
        ("2d", 172800.0),
        ("1M", 30 * 86400.0),
    ],
)
def test_nginx_time(text: str, seconds: float) -> None:
    assert parse_nginx_time(text) == seconds


@pytest.mark.parametrize("text", ["", " ", "1.5s", "30m1h", "60 seconds", "-1s", "abc"])
def test_nginx_time_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="nginx time"):
        parse_nginx_time(text)


def test_integer_seconds_are_go_atoi() -> None:
    assert parse_int_seconds("3600") == 3600.0
    assert parse_int_seconds("+60") == 60.0
    for bad in ("3600s", "1h", " 60", "60.0", "", "-5"):
        with pytest.raises(ValueError, match=r"integer seconds|negative"):
            parse_int_seconds(bad)


def test_sizes() -> None:
    assert parse_nginx_size("1m") == 1024**2
    assert parse_nginx_size("8k") == 8192
    assert parse_nginx_size("2G") == 2 * 1024**3
    assert parse_nginx_size("1024") == 1024
    assert parse_nginx_size("0") is None  # unlimited
    for bad in ("32Mi", "1.5m", "64MB", ""):
        with pytest.raises(ValueError, match="nginx size"):
            parse_nginx_size(bad)
    assert format_nginx_size(64 * 1024**2) == "64m"
    assert format_nginx_size(None) == "0"
    assert format_nginx_size(1000) == "1000"


def test_booleans() -> None:
    assert parse_on_off(" off ") is False
    with pytest.raises(ValueError, match="lowercase"):
        parse_on_off("On")
    with pytest.raises(ValueError, match='"on" or "off" is expected'):
        parse_on_off("false")
    assert parse_on_off("On", case_sensitive=False) is True
    assert [parse_go_bool(t) for t in ("True", "false", "1", "t", "FALSE")] == [
        True,
        False,
        True,
        True,
        False,
    ]
    for bad in ("off", "yes", "on", ""):
        with pytest.raises(ValueError, match="Go boolean"):
            parse_go_bool(bad)


def test_time_formatting() -> None:
    assert format_nginx_time(3600) == "3600s"
    assert format_nginx_time(0.5) == "500ms"


def test_snippet_directives_skip_blocks_comments_and_quotes() -> None:
    text = (
        "# turn buffering off\nproxy_buffering off;\nif ($x) { proxy_buffering on; }\n"
        'more_set_headers "X-A: b;c";\nproxy_read_timeout 1h;'
    )
    found = [str(d) for d in top_level_directives(text)]
    assert found == [
        "proxy_buffering off;",
        "more_set_headers X-A: b;c;",
        "proxy_read_timeout 1h;",
    ]


# --- facts ---------------------------------------------------------------------------------


def test_every_fact_has_a_source_link_and_evidence() -> None:
    for row in FACTS:
        assert row.source.startswith("https://"), row
        assert isinstance(row.evidence, Evidence)


def test_facts_by_version() -> None:
    assert fact(IN, "allow-snippet-annotations", "1.8.2").default == "true"
    assert fact(IN, "allow-snippet-annotations", "1.9.0").default == "false"
    assert fact(IN, "allow-snippet-annotations").default == "false"  # latest
    assert fact(IN, "annotations-risk-level", "1.11.3").default == "Critical"
    assert fact(IN, "annotations-risk-level", "v1.12.1").default == "High"
    assert at_least("", IN, "1.12.0")
    assert not at_least("1.11.5", IN, "1.12.0")
    with pytest.raises(KeyError):
        fact(IN, "no-such-key")


# --- ingress-nginx -------------------------------------------------------------------------


def test_helm_fixture_precedence_annotation_configmap_default_with_lines() -> None:
    path = FIXTURES / "helm_ingress_nginx.yaml"
    text = path.read_text(encoding="utf-8")
    documents, _ = load_documents(SourceText(str(path), text))
    objects, _ = parse_objects(documents, {str(path): text})
    routes, _ = build_routes(objects, controller_hint=None, all_routes=False)
    (route,) = routes
    s = route.settings
    # "3600s" is ignored; the ConfigMap's 120 applies, the default 60 is overridden
    assert s.read_timeout.value == 120.0
    assert s.read_timeout.source.kind is SourceKind.CONFIGMAP
    assert s.read_timeout.source.line == 10
    assert s.read_timeout.source.obj is not None
    assert str(s.read_timeout.source.obj) == "ConfigMap/ingress-nginx/ingress-nginx-controller"
    assert [o.kind for o in s.read_timeout.overridden] == [SourceKind.DEFAULT]
    (ignored,) = s.read_timeout.ignored
    assert (ignored.raw, ignored.source.line) == ("3600s", 97)
    assert "does not parse" in ignored.reason
    # annotation beats default
    assert s.send_timeout.value == 600.0
    assert (s.send_timeout.source.kind, s.send_timeout.source.line) == (SourceKind.ANNOTATION, 98)
    assert s.send_timeout.source.key == A + "proxy-send-timeout"
    assert s.send_timeout.source.node is not None
    # ConfigMap beats default
    assert s.buffering.value is True
    assert s.buffering.source.kind is SourceKind.CONFIGMAP
    assert s.gzip.value is True
    assert "text/event-stream" in s.gzip_types.value
    assert s.body_size.value == 64 * 1024**2
    assert s.connect_timeout.value == 5.0
    assert s.connect_timeout.source.kind is SourceKind.DEFAULT
    assert "v1.12.1" in s.connect_timeout.source.detail
    assert s.http_version.value == "1.1"


def test_unit_suffixed_timeout_is_ignored_and_default_applies() -> None:
    for raw in ("3600s", "1h"):
        s = settings(IN, {A + "proxy-read-timeout": raw})
        assert s.read_timeout.value == 60.0
        assert s.read_timeout.source.kind is SourceKind.DEFAULT
        assert [i.raw for i in s.read_timeout.ignored] == [raw]
        assert s.refused == ()
    assert settings(IN, {A + "proxy-read-timeout": "3600"}).read_timeout.value == 3600.0


@pytest.mark.parametrize("raw", ["false", "On", "true", "OFF"])
def test_invalid_buffering_values_fall_back(raw: str) -> None:
    s = settings(IN, {A + "proxy-buffering": raw}, {"proxy-buffering": "on"}, version="1.12.1")
    assert s.buffering.value is True  # the ConfigMap value, not the annotation
    assert s.buffering.source.kind is SourceKind.CONFIGMAP
    assert [i.raw for i in s.buffering.ignored] == [raw]


def test_before_validation_nginx_reads_any_case_and_rejects_the_rest() -> None:
    s = settings(IN, {A + "proxy-buffering": "On"}, version="1.11.5")
    assert s.buffering.value is True
    s = settings(IN, {A + "proxy-buffering": "false"}, version="1.11.5")
    assert s.buffering.value is False  # the default
    assert [r.raw for r in s.refused] == ["false"]
    # the flag turns validation on for older versions too
    s = settings(
        IN,
        {A + "proxy-buffering": "On"},
        version="1.11.5",
        args=("--enable-annotation-validation=true",),
    )
    assert s.buffering.value is False


def test_invalid_configmap_integer_keeps_the_default() -> None:
    s = settings(IN, data={"proxy-read-timeout": "2m", "proxy-send-timeout": "300"})
    assert s.read_timeout.value == 60.0
    assert s.read_timeout.ignored[0].source.kind is SourceKind.CONFIGMAP
    assert s.send_timeout.value == 300.0


def test_snippets_are_dropped_since_1_9_and_refuse_the_ingress_since_1_12() -> None:
    snippet = {A + "configuration-snippet": "proxy_buffering off;\n"}
    on = {"proxy-buffering": "on"}
    s = settings(IN, snippet, on, version="1.9.6")
    assert [sn.applied for sn in s.snippets] == [False]
    assert "allow-snippet-annotations is false" in s.snippets[0].reason
    assert s.refused == ()
    assert s.buffering.value is True
    assert "does not take effect" in s.buffering.ignored[0].reason
    s = settings(IN, snippet, on, version="1.12.1")
    assert "refuses the whole Ingress" in s.snippets[0].reason
    assert len(s.refused) == 1
    s = settings(IN, snippet, on | {"allow-snippet-annotations": "true"}, version="1.11.0")
    # applied, but proxy_buffering is already set in every location: nginx rejects it
    assert s.snippets[0].applied is False
    assert "duplicate" in s.snippets[0].reason
    assert len(s.refused) == 1
    assert s.buffering.value is True


def test_applied_snippet_overrides_directives_the_template_leaves_alone() -> None:
    data = {"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"}
    text = "gzip on;\ngzip_types text/event-stream;\n"
    s = settings(IN, {A + "configuration-snippet": text}, data, version="1.12.1")
    assert [sn.applied for sn in s.snippets] == [True]
    assert s.refused == ()
    assert s.gzip.value is True
    assert s.gzip.source.kind is SourceKind.ANNOTATION
    assert s.gzip.source.key == A + "configuration-snippet"
    assert s.gzip.source.node is None  # fixes must not rewrite the snippet
    assert "gzip on;" in s.gzip.source.detail
    assert s.gzip_types.value == ("text/event-stream",)


def test_server_snippet_cannot_change_what_every_location_sets() -> None:
    data = {"allow-snippet-annotations": "true"}
    s = settings(IN, {A + "server-snippet": "proxy_read_timeout 1h;"}, data, version="1.10.0")
    assert s.snippets[0].applied is True
    assert s.read_timeout.value == 60.0
    assert "no effect at server level" in s.read_timeout.ignored[0].reason


def test_annotations_ingress_nginx_does_not_read() -> None:
    s = settings(
        IN,
        {
            "nginx.org/proxy-read-timeout": "3600s",
            A + "proxy-read-timout": "3600",
            A + "use-gzip": "false",
            A + "client-max-body-size": "64m",
            A + "rewrite-target": "/",
            "tokenpath.dev/streaming": "true",
        },
    )
    reasons = {u.source.key: u.reason for u in s.unread}
    assert set(reasons) == {
        "nginx.org/proxy-read-timeout",
        A + "proxy-read-timout",
        A + "use-gzip",
        A + "client-max-body-size",
    }
    assert "F5 NGINX Ingress Controller" in reasons["nginx.org/proxy-read-timeout"]
    assert "did you mean " + A + "proxy-read-timeout" in reasons[A + "proxy-read-timout"]
    assert "ConfigMap" in reasons[A + "use-gzip"]
    assert A + "proxy-body-size" in reasons[A + "client-max-body-size"]


def test_custom_annotation_prefix() -> None:
    args = ("--annotations-prefix=custom.io",)
    s = settings(IN, {"custom.io/proxy-read-timeout": "300", A + "proxy-send-timeout": "300"},
                 args=args)  # fmt: skip
    assert s.read_timeout.value == 300.0
    assert s.send_timeout.value == 60.0
    assert "--annotations-prefix" in s.unread[0].reason


# --- F5 NGINX Ingress Controller -----------------------------------------------------------


def test_nic_defaults_buffering_on_and_template_http_11() -> None:
    s = settings(NIC)
    assert s.buffering.value is True
    assert s.buffering.source.kind is SourceKind.DEFAULT
    assert s.http_version.value == "1.1"
    assert s.http_version.source.kind is SourceKind.TEMPLATE
    assert s.read_timeout.value == 60.0
    assert s.connect_timeout.value == 60.0
    assert s.body_size.value == 1024**2


def test_nic_values_and_rejections() -> None:
    s = settings(
        NIC,
        {"nginx.org/proxy-buffering": "False", "nginx.org/proxy-read-timeout": "3600s"},
        {"proxy-send-timeout": "600"},
    )
    assert s.buffering.value is False
    assert s.read_timeout.value == 3600.0
    assert s.send_timeout.value == 600.0
    assert s.refused == ()
    s = settings(NIC, {"nginx.org/proxy-buffering": "off"})
    assert s.buffering.value is True
    assert [r.raw for r in s.refused] == ["off"]
    assert "rejects the whole Ingress" in s.refused[0].reason


def test_nic_fixture_configmap_via_args_and_foreign_annotations() -> None:
    path = FIXTURES / "nic.yaml"
    text = path.read_text(encoding="utf-8")
    documents, _ = load_documents(SourceText(str(path), text))
    objects, _ = parse_objects(documents, {str(path): text})
    routes, _ = build_routes(objects, controller_hint=None, all_routes=True)
    chat, rejected = routes
    assert chat.owner.controller is NIC
    assert chat.owner.version == "5.0.0"
    assert chat.settings.read_timeout.value == 3600.0
    assert chat.settings.read_timeout.overridden[0].kind is SourceKind.CONFIGMAP
    assert chat.settings.body_size.value == 16 * 1024**2
    assert chat.settings.buffering.value is True
    assert [u.source.key for u in chat.settings.unread] == [A + "proxy-buffering"]
    assert "nginx.org/proxy-buffering" in chat.settings.unread[0].reason
    assert sorted(r.source.key for r in rejected.settings.refused) == [
        "nginx.org/location-snippets",
        "nginx.org/proxy-buffering",
    ]
    assert rejected.settings.request_buffering.value is True  # the snippet never applied


def test_nic_snippets_with_enable_snippets() -> None:
    text = "proxy_request_buffering off;\nproxy_buffering off;\n"
    s = settings(NIC, {"nginx.org/location-snippets": text}, args=("-enable-snippets",))
    assert s.snippets[0].applied is False  # proxy_buffering is a duplicate in the location
    s = settings(NIC, {"nginx.org/location-snippets": "proxy_request_buffering off;"},
                 args=("-enable-snippets=true",))  # fmt: skip
    assert s.snippets[0].applied is True
    assert s.request_buffering.value is False


# --- fix helpers ---------------------------------------------------------------------------


def test_annotation_keys_and_value_formats() -> None:
    assert annotation_key(IN, "read_timeout") == A + "proxy-read-timeout"
    assert annotation_key(NIC, "read_timeout") == "nginx.org/proxy-read-timeout"
    assert annotation_key(IN, "body_size") == A + "proxy-body-size"
    assert annotation_key(NIC, "body_size") == "nginx.org/client-max-body-size"
    owner = Ownership(IN, "", "", args=("--annotations-prefix", "custom.io"))
    assert annotation_key(IN, "buffering", owner) == "custom.io/proxy-buffering"
    assert not has_annotation(IN, "gzip")
    assert not has_annotation(NIC, "http_version")
    with pytest.raises(ValueError, match="no annotation"):
        annotation_key(IN, "gzip")
    with pytest.raises(ValueError, match="unknown setting"):
        annotation_key(IN, "buffer")
    assert configmap_key(IN, "gzip") == "use-gzip"
    assert configmap_key(NIC, "request_buffering") is None
    assert format_value(IN, "read_timeout", 3600) == "3600"
    assert format_value(IN, "read_timeout", 90.5) == "91"
    assert format_value(NIC, "read_timeout", 3600.0) == "3600s"
    assert format_value(IN, "buffering", False) == "off"
    assert format_value(NIC, "buffering", False) == "False"
    assert format_value(IN, "body_size", 32 * 1024**2) == "32m"
    assert format_value(NIC, "body_size", None) == "0"
    assert format_value(IN, "gzip", False) == "false"
    assert format_value(IN, "http_version", "1.1") == "1.1"
