"""Lint reports: the JSON keys are exact and documented, the text groups by file and object
and colours only when asked, GitHub commands are escaped, and the routes view shows every
setting with where it came from. Manifest text never reaches a terminal raw."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import TypeVar

from tokenpath.fix.edit import Edit, Fix, Safety
from tokenpath.lint.document import InputError
from tokenpath.lint.finding import Category, Finding, Severity
from tokenpath.lint.model import (
    Controller,
    Ignored,
    ObjectRef,
    Ownership,
    Route,
    RouteSettings,
    Setting,
    Snippet,
    Source,
    SourceKind,
)
from tokenpath.lint.yamlnode import NodeKind, Span, YNode
from tokenpath.report.github import escape_data, escape_property, render_github
from tokenpath.report.lint_json import (
    EDIT_KEYS,
    ERROR_KEYS,
    FINDING_KEYS,
    FIX_KEYS,
    SCHEMA_VERSION,
    SOURCE_KEYS,
    SUMMARY_KEYS,
    TOP_KEYS,
    render_lint_json,
)
from tokenpath.report.lint_text import render_lint_text, safe
from tokenpath.report.routes import (
    SETTINGS,
    render_routes_json,
    render_routes_text,
    routes_to_json,
)

T = TypeVar("T")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "lint-output.md"
ESC = "\x1b"
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u202eevil\x9b31m\r\n::error::x"
ANSI = re.compile("\x1b\\[[0-9;]*m")

ING = ObjectRef("Ingress", "chat", "llm", "deploy/ing.yaml", 1, 0)
ING2 = ObjectRef("Ingress", "admin", "llm", "deploy/ing.yaml", 30, 1)
CM = ObjectRef("ConfigMap", "ingress-nginx-controller", "ingress-nginx", "base/cm.yaml", 1, 0)
CLASS = ObjectRef("IngressClass", "nginx", "", "base/class.yaml", 1, 0)


def node(line: int, column: int, value: str = "") -> YNode:
    return YNode(NodeKind.SCALAR, Span(0, len(value), line, column), value=value)


def annotation(key: str, line: int, column: int = 0, obj: ObjectRef = ING) -> Source:
    value_node = node(line, column) if column else None
    return Source(SourceKind.ANNOTATION, key, obj, line, node=value_node)


READ_TIMEOUT = annotation("nginx.ingress.kubernetes.io/proxy-read-timeout", 12, 5)
CM_BUFFERING = Source(SourceKind.CONFIGMAP, "proxy-buffering", CM, 7, node=node(7, 20))
DEFAULT = Source(SourceKind.DEFAULT, "proxy_buffering", detail="ingress-nginx default")


def finding(
    code: str = "TP201",
    *,
    severity: Severity = Severity.ERROR,
    obj: ObjectRef = ING,
    line: int = 12,
    source: Source | None = READ_TIMEOUT,
    fix: Fix | None = None,
    message: str = "read timeout 60s is shorter than the policy's 300s",
    setting: str = "read_timeout",
    value: str = "60",
    route: str = "chat.example.com/v1/chat/completions",
) -> Finding:
    return Finding(
        code=code,
        name={"TP201": "read-timeout-too-short", "TP101": "proxy-buffering-enabled"}.get(
            code, "some-rule"
        ),
        category=Category.READ_TIMEOUT_TOO_SHORT,
        severity=severity,
        message=message,
        object=obj,
        line=line,
        setting=setting,
        value=value,
        source=source,
        fix=fix,
        route=route,
    )


SAFE_FIX = Fix(
    'set proxy-read-timeout to "3600"', (Edit("deploy/ing.yaml", 10, 12, "3600"),), Safety.SAFE
)
UNSAFE_FIX = Fix("set proxy-buffering to off", (Edit("base/cm.yaml", 5, 7, "off"),), Safety.UNSAFE)
ADVICE = Fix("move the route to a streaming-aware gateway", (), Safety.DISPLAY_ONLY)


def sample() -> tuple[list[Finding], list[InputError]]:
    findings = [
        finding(
            "TP101",
            obj=CM,
            line=7,
            source=CM_BUFFERING,
            fix=UNSAFE_FIX,
            severity=Severity.WARNING,
            message="response buffering is on",
            setting="buffering",
            value="on",
        ),
        finding(fix=SAFE_FIX),
        finding(
            "TP999",
            obj=ING2,
            line=31,
            source=None,
            severity=Severity.INFO,
            setting="",
            value="",
            message="ingress-nginx is retired",
            fix=ADVICE,
            route="",
        ),
        finding(
            "TP101",
            line=3,
            source=annotation("nginx.ingress.kubernetes.io/proxy-buffering", 3),
            severity=Severity.WARNING,
            message="response buffering is on",
            setting="buffering",
            value="on",
        ),
    ]
    errors = [
        InputError("broken.yaml", 4, "YAML syntax error: mapping values are not allowed here"),
        InputError("binary.yaml", 0, "not UTF-8 text"),
    ]
    return findings, errors


# --- JSON -----------------------------------------------------------------------------------


def test_json_document_has_exact_keys_and_sorted_findings() -> None:
    findings, errors = sample()
    doc = json.loads(render_lint_json(findings, errors))
    assert tuple(doc) == TOP_KEYS
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["tool"] == "tokenpath"
    for item in doc["findings"]:
        assert tuple(item) == FINDING_KEYS
        if item["source"] is not None:
            assert tuple(item["source"]) == SOURCE_KEYS
        if item["fix"] is not None:
            assert tuple(item["fix"]) == FIX_KEYS
            for edit in item["fix"]["edits"]:
                assert tuple(edit) == EDIT_KEYS
    assert [(f["file"], f["line"], f["code"]) for f in doc["findings"]] == [
        ("base/cm.yaml", 7, "TP101"),
        ("deploy/ing.yaml", 3, "TP101"),
        ("deploy/ing.yaml", 12, "TP201"),
        ("deploy/ing.yaml", 31, "TP999"),
    ]
    assert [tuple(e) for e in doc["errors"]] == [ERROR_KEYS, ERROR_KEYS]
    assert doc["errors"] == [
        {"file": "binary.yaml", "line": None, "message": "not UTF-8 text"},
        {
            "file": "broken.yaml",
            "line": 4,
            "message": "YAML syntax error: mapping values are not allowed here",
        },
    ]
    assert tuple(doc["summary"]) == SUMMARY_KEYS
    assert doc["summary"] == {
        "findings": 4,
        "by_severity": {"error": 1, "warning": 2, "info": 1},
        "files": 2,
        "fixable": 1,
        "unsafe_fixable": 1,
        "input_errors": 2,
    }


def test_json_finding_values() -> None:
    doc = json.loads(render_lint_json([finding(fix=SAFE_FIX)], []))
    assert doc["findings"][0] == {
        "code": "TP201",
        "name": "read-timeout-too-short",
        "category": "read-timeout-too-short",
        "severity": "error",
        "message": "read timeout 60s is shorter than the policy's 300s",
        "object": "Ingress/llm/chat",
        "kind": "Ingress",
        "namespace": "llm",
        "object_name": "chat",
        "file": "deploy/ing.yaml",
        "line": 12,
        "column": 5,
        "helm_source": None,
        "setting": "read_timeout",
        "value": "60",
        "source": {
            "kind": "annotation",
            "key": "nginx.ingress.kubernetes.io/proxy-read-timeout",
            "object": "Ingress/llm/chat",
            "file": "deploy/ing.yaml",
            "line": 12,
            "detail": None,
            "description": READ_TIMEOUT.describe(),
        },
        "fix": {
            "title": 'set proxy-read-timeout to "3600"',
            "safety": "safe",
            "edits": [{"file": "deploy/ing.yaml", "start": 10, "end": 12, "replacement": "3600"}],
        },
        "route": "chat.example.com/v1/chat/completions",
    }


def test_json_cluster_scoped_object_and_empty_fields_are_null() -> None:
    item = finding(obj=CLASS, line=1, source=None, setting="", value="", route="")
    doc = json.loads(render_lint_json([item], []))
    got = doc["findings"][0]
    assert got["object"] == "IngressClass/nginx"
    assert got["namespace"] is None
    assert (got["source"], got["fix"], got["route"], got["setting"], got["value"]) == (None,) * 5
    assert got["column"] is None


def test_json_escapes_control_characters() -> None:
    text = render_lint_json([finding(message=HOSTILE)], [InputError(HOSTILE, 1, HOSTILE)])
    assert ESC not in text
    assert "\u202e" not in text
    assert "\r" not in text
    assert json.loads(text)["findings"][0]["message"] == HOSTILE


def test_json_empty() -> None:
    doc = json.loads(render_lint_json([], []))
    assert doc["findings"] == []
    assert doc["errors"] == []
    assert doc["summary"]["findings"] == 0


def test_docs_describe_every_json_key() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    keys = {
        *TOP_KEYS,
        *FINDING_KEYS,
        *SOURCE_KEYS,
        *FIX_KEYS,
        *EDIT_KEYS,
        *ERROR_KEYS,
        *SUMMARY_KEYS,
    }
    missing = sorted(k for k in keys if f"`{k}`" not in docs)
    assert not missing, f"docs/lint-output.md does not describe {missing}"
    route_keys = set(routes_to_json([route()])[0])
    missing = sorted(k for k in route_keys if f"`{k}`" not in docs)
    assert not missing, f"docs/lint-output.md does not describe route keys {missing}"


# --- text -----------------------------------------------------------------------------------


def test_text_groups_by_file_then_object() -> None:
    findings, errors = sample()
    text = render_lint_text(findings, errors)
    assert ESC not in text
    lines = text.splitlines()
    assert lines[:3] == [
        "binary.yaml: input error: not UTF-8 text",
        "broken.yaml:4: input error: YAML syntax error: mapping values are not allowed here",
        "",
    ]
    headers = [line for line in lines if line and not line.startswith(" ")]
    assert headers[2:4] == ["base/cm.yaml", "deploy/ing.yaml"]
    objects = [
        line.strip() for line in lines if line.startswith("  ") and not line.startswith("   ")
    ]
    assert objects == [
        "ConfigMap/ingress-nginx/ingress-nginx-controller",
        "Ingress/llm/chat",
        "Ingress/llm/admin",
    ]
    heads = [re.match(r"^ +[\d:]+ +(?=error|warning|info)", line) for line in lines]
    assert len({m.end() for m in heads if m}) == 1  # one severity column for all findings
    assert sum(1 for m in heads if m) == 4
    assert lines[-1] == (
        "4 findings (1 error, 2 warnings, 1 info) in 2 files; 1 fixable with `tokenpath fix` "
        "(1 more with --unsafe-fixes); 2 input errors."
    )


def test_text_finding_block() -> None:
    text = render_lint_text([finding(fix=SAFE_FIX)], [])
    assert text.splitlines() == [
        "deploy/ing.yaml",
        "  Ingress/llm/chat",
        "    12:5  error    TP201 read-timeout-too-short [read-timeout-too-short]  "
        "read timeout 60s is shorter than the policy's 300s",
        "                   read_timeout = 60  (from: annotation "
        "nginx.ingress.kubernetes.io/proxy-read-timeout (deploy/ing.yaml:12))",
        "                   route: chat.example.com/v1/chat/completions",
        '                   fix: set proxy-read-timeout to "3600" [safe]',
        "",
        "1 finding (1 error, 0 warnings, 0 info) in 1 file; 1 fixable with `tokenpath fix`.",
    ]


def test_text_location_without_column_and_display_only_fix() -> None:
    item = finding(
        "TP999", obj=ING2, line=31, source=None, setting="", value="", fix=ADVICE, route=""
    )
    lines = render_lint_text([item], []).splitlines()
    assert lines[2].startswith("    31  error    TP999 some-rule [read-timeout-too-short]  ")
    assert lines[3].strip() == "fix: move the route to a streaming-aware gateway [display-only]"
    assert lines[-1] == "1 finding (1 error, 0 warnings, 0 info) in 1 file."


def test_text_clean_run() -> None:
    assert render_lint_text([], []) == "No findings."
    assert render_lint_text([], [InputError("x.yaml", 2, "bad")]) == (
        "x.yaml:2: input error: bad\n\nNo findings; 1 input error."
    )


def test_text_colour_only_when_asked() -> None:
    findings, errors = sample()
    plain = render_lint_text(findings, errors)
    coloured = render_lint_text(findings, errors, color=True)
    assert ESC not in plain
    assert "\x1b[1;31merror" in coloured
    assert "\x1b[1;33mwarning" in coloured
    assert ANSI.sub("", coloured) == plain


def test_text_escapes_manifest_control_characters() -> None:
    hostile_obj = ObjectRef("Ingress", HOSTILE, "llm", "ev\x1bil.yaml", 1, 0, helm_source=HOSTILE)
    item = finding(
        obj=hostile_obj,
        source=None,
        message=HOSTILE,
        value=HOSTILE,
        route=HOSTILE,
        fix=Fix(HOSTILE, (), Safety.DISPLAY_ONLY),
    )
    for color in (False, True):
        text = render_lint_text([item], [InputError(HOSTILE, 1, HOSTILE)], color=color)
        stripped = ANSI.sub("", text)
        assert ESC not in stripped
        assert "\x07" not in stripped
        assert "\x9b" not in stripped
        assert "\u202e" not in stripped
        assert "\r" not in stripped
        assert "\\x1b]0;pwned\\x07" in stripped
    assert safe("a\nb") == "a\\x0ab"


# --- GitHub ---------------------------------------------------------------------------------


def test_github_commands() -> None:
    findings, errors = sample()
    lines = render_github(findings, errors).splitlines()
    assert lines[0] == "::error file=binary.yaml,title=tokenpath input error::not UTF-8 text"
    assert lines[1].startswith("::error file=broken.yaml,line=4,title=tokenpath input error::")
    assert lines[2].startswith(
        "::warning file=base/cm.yaml,line=7,col=20,"
        "title=TP101 proxy-buffering-enabled [read-timeout-too-short]::"
    )
    assert lines[4] == (
        "::error file=deploy/ing.yaml,line=12,col=5,"
        "title=TP201 read-timeout-too-short [read-timeout-too-short]::"
        "read timeout 60s is shorter than the policy's 300s%0A"
        "read_timeout = 60%0A"
        "from: annotation nginx.ingress.kubernetes.io/proxy-read-timeout (deploy/ing.yaml:12)%0A"
        "route: chat.example.com/v1/chat/completions%0A"
        'fix: set proxy-read-timeout to "3600" [safe]'
    )
    assert lines[5].startswith(
        "::notice file=deploy/ing.yaml,line=31,title=TP999 some-rule [read-timeout-too-short]::"
    )
    assert len(lines) == 6


def test_github_escaping() -> None:
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"
    weird = ObjectRef("Ingress", "x", "", "dir,1/a:b%.yaml", 1, 0)
    item = finding(obj=weird, source=None, message="50% of\r\nlines::error::x", route="")
    line = render_github([item], [])
    assert "\n" not in line
    assert "\r" not in line
    assert line.startswith("::error file=dir%2C1/a%3Ab%25.yaml,line=12,")
    assert line.endswith("::50%25 of\\x0d\\x0alines::error::x%0Aread_timeout = 60")


def test_github_hostile_text_is_one_line_without_escape_sequences() -> None:
    text = render_github(
        [finding(message=HOSTILE, value=HOSTILE)], [InputError(HOSTILE, 2, HOSTILE)]
    )
    assert len(text.splitlines()) == 2
    assert ESC not in text
    assert "\x07" not in text
    assert "\u202e" not in text


# --- routes ---------------------------------------------------------------------------------


def setting(
    value: T,
    source: Source = DEFAULT,
    *,
    raw: str | None = None,
    overridden: tuple[Source, ...] = (),
    ignored: tuple[Ignored, ...] = (),
) -> Setting[T]:
    return Setting(value, source, raw=raw, overridden=overridden, ignored=ignored)


def route(**changes: object) -> Route:
    settings = RouteSettings(
        buffering=setting(
            True,
            CM_BUFFERING,
            raw="on",
            overridden=(DEFAULT,),
            ignored=(
                Ignored(
                    annotation("nginx.ingress.kubernetes.io/proxy-buffering", 9),
                    "false",
                    'only "on" and "off" are read',
                ),
            ),
        ),
        request_buffering=setting(True),
        http_version=setting("1.1"),
        read_timeout=setting(
            60.0,
            ignored=(
                Ignored(
                    annotation("nginx.ingress.kubernetes.io/proxy-read-timeout", 10),
                    "3600s",
                    "integer seconds expected",
                ),
            ),
        ),
        send_timeout=setting(60.0),
        connect_timeout=setting(5.0),
        gzip=setting(False),
        gzip_types=setting(("application/json", "text/event-stream")),
        brotli=setting(False),
        brotli_types=setting(()),
        body_size=setting(
            1024 * 1024, annotation("nginx.ingress.kubernetes.io/proxy-body-size", 11), raw="1m"
        ),
        modsecurity=setting(False),
        snippets=(
            Snippet(
                annotation("nginx.ingress.kubernetes.io/configuration-snippet", 13),
                "proxy_buffering on;\nmore_set_headers x;",
                applied=False,
                reason="snippet annotations are off by default since v1.9",
            ),
        ),
        unread=(
            Ignored(
                annotation("nginx.org/proxy-buffering", 14),
                "off",
                "an F5 NGINX annotation; ingress-nginx does not read it",
            ),
        ),
    )
    values: dict[str, object] = {
        "obj": ING,
        "host": "chat.example.com",
        "path": "/v1/chat/completions",
        "service": "vllm",
        "port": "8000",
        "workload": ObjectRef("Deployment", "vllm", "llm", "deploy/vllm.yaml", 1, 0),
        "images": ("vllm/vllm-openai:v0.6.3",),
        "owner": Ownership(
            Controller.INGRESS_NGINX,
            "1.12.1",
            'ingressClassName "nginx" -> IngressClass nginx',
            "nginx",
            CM,
        ),
        "llm_reason": "image vllm/vllm-openai is an LLM server",
        "settings": settings,
        "line": 16,
    }
    values.update(changes)
    return Route(**values)  # type: ignore[arg-type]


def test_routes_text_shows_every_setting_with_its_source() -> None:
    text = render_routes_text([route()])
    assert ESC not in text
    lines = text.splitlines()
    assert lines[:6] == [
        "chat.example.com/v1/chat/completions",
        "  Ingress/llm/chat  (deploy/ing.yaml:16)",
        "  → Service vllm:8000 → Deployment/llm/vllm  [vllm/vllm-openai:v0.6.3]",
        '  controller  ingress-nginx 1.12.1 — ingressClassName "nginx" -> IngressClass nginx',
        "  configmap   ConfigMap/ingress-nginx/ingress-nginx-controller (base/cm.yaml:1)",
        "  LLM route   image vllm/vllm-openai is an LLM server",
    ]
    table = lines[6:]
    assert table[0].split() == ["setting", "value", "from"]
    labels = [label for _, label in SETTINGS]
    for label in labels:
        assert any(line.startswith(f"    {label}  ") for line in table), label
    cells = [re.split(" {2,}", line.strip()) for line in table[1:] if line[4:5].strip()]
    row = {label: rest for label, *rest in cells}
    assert row["buffering"] == ["on", CM_BUFFERING.describe()]
    assert row["read timeout"] == ["60s", "default (ingress-nginx default)"]
    assert row["connect timeout"][0] == "5s"
    assert row["upstream HTTP"][0] == "HTTP/1.1"
    assert row["body size"] == [
        "1 MiB",
        "annotation nginx.ingress.kubernetes.io/proxy-body-size (deploy/ing.yaml:11)",
    ]
    assert row["brotli types"][0] == "(none)"
    assert row["snippet"][0:1] == ["not applied"]
    notes = [line.strip() for line in table if not line[4:5].strip()]
    assert "overrides: default (ingress-nginx default)" in notes
    assert (
        'ignored: nginx.ingress.kubernetes.io/proxy-read-timeout "3600s" at deploy/ing.yaml:10'
        " — integer seconds expected" in notes
    )
    assert (
        'ignored: nginx.ingress.kubernetes.io/proxy-buffering "false" at deploy/ing.yaml:9'
        ' — only "on" and "off" are read' in notes
    )
    assert "why: snippet annotations are off by default since v1.9" in notes
    assert "text: proxy_buffering on; …" in notes
    assert "not read: an F5 NGINX annotation; ingress-nginx does not read it" in notes
    assert lines[-1] == "1 route (1 LLM)."


def test_routes_text_long_value_moves_source_below_and_aligns() -> None:
    long_types = tuple(f"application/x-type-{i}" for i in range(4))
    changed = dataclasses.replace(route().settings, gzip_types=setting(long_types))
    lines = render_routes_text([route(settings=changed)]).splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("    gzip types"))
    assert lines[index].endswith(" ".join(long_types))
    assert lines[index + 1].strip() == "default (ingress-nginx default)"
    starts = {
        line.index("default (")
        for line in lines
        if line.endswith("  default (ingress-nginx default)")
    }
    assert len(starts) == 1  # one origin column


def test_routes_text_orders_and_marks_non_llm_routes() -> None:
    other = route(host="", path="/admin", llm_reason="", workload=None, images=(), line=40)
    text = render_routes_text([other, route()])
    titles = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert titles == ["chat.example.com/v1/chat/completions", "*/admin", "2 routes (1 LLM)."]
    assert "→ Service vllm:8000 → no workload found" in text
    assert "LLM route   no (linted only with --all-routes)" in text
    assert render_routes_text([]) == "No routes found."


def test_routes_text_colour_and_escaping() -> None:
    hostile = route(host=HOSTILE, images=(HOSTILE,), llm_reason=HOSTILE)
    plain = render_routes_text([hostile])
    coloured = render_routes_text([hostile], color=True)
    assert ESC not in plain
    assert "\u202e" not in plain
    assert ESC in coloured
    assert ANSI.sub("", coloured) == plain
    assert "\x1b[35mkey proxy-buffering" in coloured  # ConfigMap sources stand out
    assert "\x1b[36mannotation nginx.ingress.kubernetes.io/proxy-body-size" in coloured


def test_routes_json() -> None:
    (item,) = routes_to_json([route()])
    assert set(item) == {
        "route",
        "host",
        "path",
        "ingress",
        "object",
        "family",
        "file",
        "line",
        "service",
        "port",
        "workload",
        "images",
        "controller",
        "llm",
        "llm_reason",
        "settings",
        "snippets",
        "unread",
    }
    assert item["route"] == "chat.example.com/v1/chat/completions"
    assert item["controller"] == {
        "name": "ingress-nginx",
        "version": "1.12.1",
        "reason": 'ingressClassName "nginx" -> IngressClass nginx',
        "class_name": "nginx",
        "configmap": "ConfigMap/ingress-nginx/ingress-nginx-controller",
    }
    settings = item["settings"]
    assert isinstance(settings, dict)
    assert list(settings) == [name for name, _ in SETTINGS]
    buffering = settings["buffering"]
    assert set(buffering) == {"value", "text", "raw", "source", "overridden", "ignored"}
    assert buffering["value"] is True
    assert buffering["text"] == "on"
    assert buffering["raw"] == "on"
    assert buffering["source"]["kind"] == "configmap"
    assert [s["kind"] for s in buffering["overridden"]] == ["default"]
    assert buffering["ignored"][0]["raw"] == "false"
    assert settings["gzip_types"]["value"] == ["application/json", "text/event-stream"]
    assert settings["body_size"]["value"] == 1048576
    assert item["snippets"][0]["applied"] is False  # type: ignore[index]
    assert item["unread"][0]["raw"] == "off"  # type: ignore[index]
    json.dumps(item)  # serialisable as is


def test_routes_json_document() -> None:
    doc = json.loads(render_routes_json([route()], [InputError("x.yaml", 0, "not UTF-8 text")]))
    assert list(doc) == ["schema_version", "tool", "routes", "errors"]
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["routes"] == json.loads(json.dumps(routes_to_json([route()])))
    assert doc["errors"] == [{"file": "x.yaml", "line": None, "message": "not UTF-8 text"}]
