"""Each rule on hand-built routes: the condition, the severity, the provenance and the fix.

The fixture/snapshot tests (test_rule_fixtures.py) run the same rules through the whole
pipeline; these pin the decisions that do not depend on how the adapters resolve values.
"""

from __future__ import annotations

import pytest
from rulekit import (
    IN,
    NIC,
    annotation,
    cm_key,
    configmap,
    default,
    fixed,
    ignored,
    ingress,
    only,
    route,
    run,
    written,
)

from tokenpath.fix.edit import Safety
from tokenpath.lint.finding import Finding, Severity
from tokenpath.lint.model import Controller, Ignored, ObjectRef, Setting, Snippet, SourceKind
from tokenpath.lint.policy import Policy
from tokenpath.lint.rules import (
    annotation_not_read,
    body_size_too_small,
    buffering_value_invalid,
    compression_of_event_stream,
    http10_upstream_with_buffering,
    ingress_nginx_retired,
    proxy_buffering_enabled,
    proxy_stream_timeout_not_http,
    read_timeout_too_short,
    send_timeout_too_short,
    setting_value_ignored,
    snippet_ignored,
    timeout_value_ignored,
    waf_on_streaming_route,
)
from tokenpath.lint.rules._shared import (
    intended_bool,
    intended_bytes,
    intended_seconds,
    intended_whole_seconds,
)

BUF = "nginx.ingress.kubernetes.io/proxy-buffering"
READ = "nginx.ingress.kubernetes.io/proxy-read-timeout"


# --- TP101 proxy-buffering-enabled ----------------------------------------------------------


def test_tp101_annotation_on_is_a_warning_fixed_in_place_unsafely() -> None:
    obj = ingress({BUF: "on"})
    finding = only(
        proxy_buffering_enabled, route(obj, buffering=written(True, annotation(obj, BUF)))
    )
    assert finding.severity is Severity.WARNING
    assert finding.line == 7
    assert finding.object == obj
    assert finding.value == "on"
    assert finding.fix is not None
    assert finding.fix.safety is Safety.UNSAFE
    assert f'{BUF}: "off"' in fixed(obj, finding.fix)


def test_tp101_nic_default_adds_the_annotation_to_the_ingress() -> None:
    obj = ingress()
    finding = only(proxy_buffering_enabled, route(obj, controller=NIC))
    assert "by default" in finding.message
    assert finding.fix is not None
    assert 'nginx.org/proxy-buffering: "False"' in fixed(obj, finding.fix)


def test_tp101_configmap_value_is_overridden_on_the_ingress_not_edited() -> None:
    cm, obj = configmap({"proxy-buffering": "on"}), ingress()
    setting = written(True, cm_key(cm, "proxy-buffering"))
    finding = only(proxy_buffering_enabled, route(obj, buffering=setting))
    assert finding.object == cm  # provenance: the ConfigMap set it
    assert finding.fix is not None
    assert {e.file for e in finding.fix.edits} == {"ingress.yaml"}
    assert f'{BUF}: "off"' in fixed(obj, finding.fix)


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"http_version": Setting("1.0", default("v"))}, "HTTP/1.0"),
        (
            {
                "gzip": Setting(True, default("g")),
                "gzip_types": Setting(("text/event-stream",), default("t")),
            },
            "gzip",
        ),
        (
            {
                "brotli": Setting(True, default("b")),
                "brotli_types": Setting(("application/x-ndjson",), default("t")),
            },
            "brotli",
        ),
        ({"modsecurity": Setting(True, default("m"))}, "ModSecurity"),
    ],
)
def test_tp101_is_an_error_with_an_aggravating_condition_and_says_which(
    overrides: dict[str, Setting[object]], said: str
) -> None:
    finding = only(proxy_buffering_enabled, route(controller=NIC, **overrides))
    assert finding.severity is Severity.ERROR
    assert said in finding.message


def test_tp101_policy_severity_override_beats_escalation() -> None:
    policy = Policy(severity_overrides=(("TP101", Severity.INFO),))
    r = route(controller=NIC, http_version=Setting("1.0", default("v")))
    assert only(proxy_buffering_enabled, r, policy).severity is Severity.INFO


def test_tp101_quiet_when_off_or_when_tp104_owns_the_value() -> None:
    assert run(proxy_buffering_enabled, route()) == []
    obj, cm = ingress({BUF: "false"}), configmap({"proxy-buffering": "on"})
    setting = ignored(written(True, cm_key(cm, "proxy-buffering")), annotation(obj, BUF))
    assert run(proxy_buffering_enabled, route(obj, buffering=setting)) == []


# --- TP102 http10-upstream-with-buffering ---------------------------------------------------


def test_tp102_http10_with_buffering_is_an_error_fixed_to_11() -> None:
    key = "nginx.ingress.kubernetes.io/proxy-http-version"
    obj = ingress({key: "1.0", BUF: "on"})
    r = route(
        obj,
        http_version=written("1.0", annotation(obj, key)),
        buffering=written(True, annotation(obj, BUF)),
    )
    finding = only(http10_upstream_with_buffering, r)
    assert finding.severity is Severity.ERROR
    assert f'{key}: "1.1"' in fixed(obj, finding.fix)


def test_tp102_quiet_without_buffering() -> None:
    assert (
        run(http10_upstream_with_buffering, route(http_version=Setting("1.0", default("v")))) == []
    )


# --- TP103 waf-on-streaming-route -----------------------------------------------------------


def test_tp103_modsecurity_is_a_warning_with_advice_only() -> None:
    finding = only(waf_on_streaming_route, route(modsecurity=Setting(True, default("m"))))
    assert finding.severity is Severity.WARNING
    assert "unverified" in finding.message
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert run(waf_on_streaming_route, route()) == []


# --- TP104 buffering-value-invalid ----------------------------------------------------------


@pytest.mark.parametrize(("raw", "want"), [("false", "off"), ("On", "on"), ("true", "on")])
def test_tp104_ingress_nginx_spelling_is_fixed_safely(raw: str, want: str) -> None:
    obj = ingress({BUF: raw})
    r = route(obj, buffering=ignored(Setting(False, default("b")), annotation(obj, BUF)))
    finding = only(buffering_value_invalid, r)
    assert finding.severity is Severity.ERROR
    assert finding.value == raw
    assert finding.line == 7
    assert finding.fix is not None
    assert finding.fix.safety is Safety.SAFE
    assert f'{BUF}: "{want}"' in fixed(obj, finding.fix)


def test_tp104_nic_rejects_the_ingress_and_is_fixed_to_a_go_bool() -> None:
    key = "nginx.org/proxy-buffering"
    obj = ingress({key: "off"})
    setting = ignored(Setting(True, default("b")), annotation(obj, key))
    r = route(obj, controller=NIC, buffering=setting, refused=setting.ignored)
    finding = only(buffering_value_invalid, r)
    assert "rejects this whole Ingress" in finding.message
    assert f'{key}: "False"' in fixed(obj, finding.fix)


def test_tp104_unclear_value_gets_no_fix_and_configmap_fix_is_unsafe() -> None:
    obj = ingress({BUF: "maybe"})
    r = route(obj, buffering=ignored(Setting(False, default("b")), annotation(obj, BUF)))
    assert only(buffering_value_invalid, r).fix is None
    cm = configmap({"proxy-buffering": "False"})
    r = route(buffering=ignored(Setting(False, default("b")), cm_key(cm, "proxy-buffering")))
    fix = only(buffering_value_invalid, r).fix
    assert fix is not None
    assert fix.safety is Safety.UNSAFE


# --- TP201 / TP202 timeouts shorter than the policy -----------------------------------------


def test_tp201_default_60s_is_raised_to_the_policy_in_each_syntax() -> None:
    obj = ingress()
    finding = only(read_timeout_too_short, route(obj))
    assert finding.severity is Severity.WARNING
    assert "60 s" in finding.message
    assert "300 s" in finding.message
    assert f'{READ}: "300"' in fixed(obj, finding.fix)
    nic = only(read_timeout_too_short, route(obj, controller=NIC))
    assert 'nginx.org/proxy-read-timeout: "300s"' in fixed(obj, nic.fix)


def test_tp201_edits_the_annotation_in_place_and_rounds_up() -> None:
    obj = ingress({READ: "120"})
    r = route(obj, read_timeout=written(120.0, annotation(obj, READ)))
    finding = only(read_timeout_too_short, r, Policy(max_silence_s=450.5))
    assert finding.fix is not None
    assert len(finding.fix.edits) == 1
    assert f'{READ}: "451"' in fixed(obj, finding.fix)


def test_tp201_quiet_when_long_enough_or_when_tp203_owns_the_value() -> None:
    assert run(read_timeout_too_short, route(read_timeout=Setting(3600.0, default("r")))) == []
    obj = ingress({READ: "3600s"})
    r = route(obj, read_timeout=ignored(Setting(60.0, default("r")), annotation(obj, READ)))
    assert run(read_timeout_too_short, r) == []


def test_tp202_is_info_and_compares_with_the_policy() -> None:
    finding = only(send_timeout_too_short, route())
    assert finding.severity is Severity.INFO
    assert run(send_timeout_too_short, route(), Policy(max_silence_s=30)) == []


# --- TP203 timeout-value-ignored ------------------------------------------------------------


@pytest.mark.parametrize(("raw", "want"), [("3600s", "3600"), ("1h", "3600"), ("90m", "5400")])
def test_tp203_unit_suffix_is_rewritten_safely(raw: str, want: str) -> None:
    obj = ingress({READ: raw})
    r = route(obj, read_timeout=ignored(Setting(60.0, default("r")), annotation(obj, READ)))
    finding = only(timeout_value_ignored, r)
    assert finding.severity is Severity.ERROR
    assert "60 s applies (the controller's default)" in finding.message
    assert finding.value == raw
    assert finding.fix is not None
    assert finding.fix.safety is Safety.SAFE
    assert f'{READ}: "{want}"' in fixed(obj, finding.fix)


def test_tp203_nic_rejected_value_rewritten_in_nginx_time() -> None:
    key = "nginx.org/proxy-send-timeout"
    obj = ingress({key: "1.5h"})
    setting = ignored(Setting(60.0, default("s")), annotation(obj, key))
    r = route(obj, controller=NIC, send_timeout=setting, refused=setting.ignored)
    finding = only(timeout_value_ignored, r)
    assert "rejects this whole Ingress" in finding.message
    assert f'{key}: "5400s"' in fixed(obj, finding.fix)


def test_tp203_no_fix_when_the_duration_is_unclear() -> None:
    obj = ingress({READ: "forever"})
    r = route(obj, read_timeout=ignored(Setting(60.0, default("r")), annotation(obj, READ)))
    assert only(timeout_value_ignored, r).fix is None


# --- TP301 compression-of-event-stream ------------------------------------------------------


def _gzip(types: str) -> tuple[ObjectRef, dict[str, Setting[object]]]:
    cm = configmap({"use-gzip": "true", "gzip-types": types})
    return cm, {
        "gzip": written(True, cm_key(cm, "use-gzip")),
        "gzip_types": written(tuple(types.split()), cm_key(cm, "gzip-types")),
    }


def test_tp301_removes_the_stream_type_from_the_configmap_list_unsafely() -> None:
    cm, overrides = _gzip("application/json text/event-stream text/plain")
    finding = only(compression_of_event_stream, route(**overrides))
    assert finding.severity is Severity.WARNING
    assert finding.object == cm
    assert finding.fix is not None
    assert finding.fix.safety is Safety.UNSAFE
    assert 'gzip-types: "application/json text/plain"' in fixed(cm, finding.fix)


def test_tp301_wildcard_gets_advice_and_buffering_makes_it_an_error() -> None:
    _, overrides = _gzip("*")
    finding = only(
        compression_of_event_stream, route(buffering=Setting(True, default("b")), **overrides)
    )
    assert finding.severity is Severity.ERROR
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY


def test_tp301_quiet_without_stream_types_or_when_the_policy_allows() -> None:
    _, overrides = _gzip("application/json")
    assert run(compression_of_event_stream, route(**overrides)) == []
    _, overrides = _gzip("text/event-stream application/json")
    assert (
        run(compression_of_event_stream, route(**overrides), Policy(compression_allowed=True)) == []
    )


# --- TP401 body-size-too-small --------------------------------------------------------------


def test_tp401_default_1m_raised_to_the_policy() -> None:
    obj = ingress()
    finding = only(body_size_too_small, route(obj))
    assert "1 MiB" in finding.message
    assert "32 MiB" in finding.message
    assert 'nginx.ingress.kubernetes.io/proxy-body-size: "32m"' in fixed(obj, finding.fix)
    assert run(body_size_too_small, route(body_size=Setting(None, default("b")))) == []


# --- TP501 snippet-ignored ------------------------------------------------------------------


def _snippet(text: str) -> Snippet:
    key = "nginx.ingress.kubernetes.io/configuration-snippet"
    obj = ingress({key: text.replace("\n", " ")})
    return Snippet(source=annotation(obj, key), text=text, applied=False, reason="snippets are off")


def test_tp501_streaming_directives_make_it_an_error_with_annotation_advice() -> None:
    snippet = _snippet("proxy_buffering off;\nproxy_read_timeout 1h;\nmore_set_headers x: y;")
    finding = only(snippet_ignored, route(snippets=(snippet,)))
    assert finding.severity is Severity.ERROR
    assert "proxy_buffering, proxy_read_timeout" in finding.message
    assert finding.fix is not None
    assert finding.fix.safety is Safety.DISPLAY_ONLY
    assert f'{BUF}: "off"' in finding.fix.title
    assert f'{READ}: "3600"' in finding.fix.title


def test_tp501_other_snippets_are_warnings_and_applied_ones_are_quiet() -> None:
    snippet = _snippet("more_set_headers x: y;")
    assert only(snippet_ignored, route(snippets=(snippet,))).severity is Severity.WARNING
    applied = Snippet(source=snippet.source, text="proxy_buffering off;", applied=True)
    assert run(snippet_ignored, route(snippets=(applied,))) == []


def test_tp501_a_snippet_that_gets_the_ingress_refused_is_an_error() -> None:
    snippet = _snippet("more_set_headers x: y;")
    refused = (Ignored(source=snippet.source, raw=snippet.text, reason="risk level"),)
    finding = only(snippet_ignored, route(snippets=(snippet,), refused=refused))
    assert finding.severity is Severity.ERROR


# --- TP502 annotation-not-read --------------------------------------------------------------


def _unread(
    obj_key: str, value: str, controller: Controller = NIC
) -> tuple[ObjectRef, list[Finding]]:
    obj = ingress({obj_key: value})
    entry = Ignored(source=annotation(obj, obj_key), raw=value, reason="not read")
    return obj, run(annotation_not_read, route(obj, controller=controller, unread=(entry,)))


def test_tp502_foreign_prefix_is_renamed_with_the_value_converted() -> None:
    obj, found = _unread(READ, "3600")
    assert len(found) == 1
    finding = found[0]
    assert finding.severity is Severity.WARNING
    text = fixed(obj, finding.fix)
    assert 'nginx.org/proxy-read-timeout: "3600s"' in text
    assert READ not in text


def test_tp502_typo_is_renamed_to_the_nearest_key_keeping_the_value() -> None:
    obj, found = _unread("nginx.ingress.kubernetes.io/proxy-read-timout", "3600", IN)
    text = fixed(obj, found[0].fix)
    assert f'{READ}: "3600"' in text


def test_tp502_no_fix_without_an_equivalent() -> None:
    _, found = _unread("nginx.ingress.kubernetes.io/enable-cors", "true")
    assert found[0].fix is None


# --- TP503 / TP504 / TP505 ------------------------------------------------------------------


def test_tp503_once_per_ingress_nginx_ingress_at_the_object() -> None:
    obj = ingress()
    finding = only(ingress_nginx_retired, route(obj))
    assert finding.severity is Severity.INFO
    assert finding.line == obj.line
    assert run(ingress_nginx_retired, route(controller=NIC)) == []


def test_tp504_stream_timeout_longer_than_the_read_timeout_points_at_the_configmap() -> None:
    cm = configmap({"proxy-stream-timeout": "3600s"})
    finding = only(proxy_stream_timeout_not_http, route(configmap_ref=cm))
    assert finding.object == cm
    assert finding.line == cm_key(cm, "proxy-stream-timeout").line
    assert finding.source is not None
    assert finding.source.kind is SourceKind.CONFIGMAP
    short = configmap({"proxy-stream-timeout": "30s"})
    assert run(proxy_stream_timeout_not_http, route(configmap_ref=short)) == []


def test_tp505_kubernetes_quantity_body_size_is_rewritten_safely() -> None:
    key = "nginx.ingress.kubernetes.io/proxy-body-size"
    obj = ingress({key: "64Mi"})
    r = route(obj, body_size=ignored(Setting(1048576, default("b")), annotation(obj, key)))
    finding = only(setting_value_ignored, r)
    assert "1 MiB applies" in finding.message
    assert finding.fix is not None
    assert finding.fix.safety is Safety.SAFE
    assert f'{key}: "64m"' in fixed(obj, finding.fix)
    assert run(body_size_too_small, r) == []  # TP505 owns it until fixed


# --- intent readings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("3600", 3600.0),
        ("3600s", 3600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("90 seconds", 90.0),
        ("500ms", 0.5),
        ("", None),
        ("forever", None),
        ("1x", None),
    ],
)
def test_intended_seconds(raw: str, want: float | None) -> None:
    assert intended_seconds(raw) == want


def test_intended_whole_seconds_refuses_fractions_and_zero() -> None:
    assert intended_whole_seconds("500ms") is None
    assert intended_whole_seconds("0") is None
    assert intended_whole_seconds("2m") == 120.0


@pytest.mark.parametrize(("raw", "want"), [("False", False), ("on", True), ("maybe", None)])
def test_intended_bool(raw: str, want: bool | None) -> None:
    assert intended_bool(raw) is want


@pytest.mark.parametrize(
    ("raw", "want"), [("64Mi", 64 * 2**20), ("64m", 64 * 2**20), ("8k", 8192), ("1.5g", None)]
)
def test_intended_bytes(raw: str, want: int | None) -> None:
    assert intended_bytes(raw) == want
