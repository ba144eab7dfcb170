"""The policy file: defaults, every key, and one-line errors with file:line."""

from __future__ import annotations

import pytest

from tokenpath.errors import ConfigError
from tokenpath.lint.finding import Severity
from tokenpath.lint.policy import Policy
from tokenpath.lint.policyfile import parse_policy


def test_empty_file_means_defaults() -> None:
    assert parse_policy("", ".tokenpath.yaml") == Policy()
    assert parse_policy("# nothing yet\n", ".tokenpath.yaml") == Policy()


def test_documented_defaults() -> None:
    policy = Policy()
    assert policy.max_silence_s == 300.0
    assert policy.max_generation_s == 900.0
    assert policy.compression_allowed is False
    assert policy.min_body_bytes == 32 * 1024**2


def test_every_key() -> None:
    policy = parse_policy(
        """\
max_silence: 2m
max_generation: 1h
compression_allowed: true
min_body_size: 64Mi
severity:
  TP201: error
  tp101: info
disable: [TP501, TP502]
""",
        "p.yaml",
    )
    assert policy.max_silence_s == 120.0
    assert policy.max_generation_s == 3600.0
    assert policy.compression_allowed is True
    assert policy.min_body_bytes == 64 * 1024**2
    assert policy.severity_overrides == (("TP201", Severity.ERROR), ("TP101", Severity.INFO))
    assert policy.disabled == ("TP501", "TP502")
    assert policy.severity_for("TP201", Severity.WARNING) is Severity.ERROR


def test_bare_numbers_and_string_lists() -> None:
    policy = parse_policy("max_silence: 90\nmin_body_size: 1048576\ndisable: TP501, TP502\n", "p")
    assert policy.max_silence_s == 90.0
    assert policy.min_body_bytes == 1048576
    assert policy.disabled == ("TP501", "TP502")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_silense: 5m\n", "p.yaml:1: unknown key 'max_silense'"),
        ("max_silence: 5m\nmax_generation: soon\n", "p.yaml:2: max_generation: 'soon' is not a"),
        ("max_silence: 0s\n", "p.yaml:1: max_silence must be longer than zero"),
        ("compression_allowed: maybe\n", "p.yaml:1: compression_allowed takes true or false"),
        ("min_body_size: lots\n", "p.yaml:1: min_body_size: 'lots' is not a size"),
        ("severity:\n  TP201: fatal\n", "p.yaml:2: severity of TP201: use one of info, warning"),
        ("severity:\n  buffering: error\n", "p.yaml:2: severity: 'buffering' is not a rule code"),
        ("severity: [TP201]\n", "p.yaml:1: severity takes a mapping"),
        ("disable: [TP501, nope]\n", "p.yaml:1: disable: 'nope' is not a rule code"),
        ("disable: {a: b}\n", "p.yaml:1: disable takes a list"),
        ("- max_silence\n", "p.yaml:1: expected a mapping"),
        ("max_silence: [1]\n", "p.yaml:1: max_silence takes a single value"),
        ("max_silence: 5m\nmax_silence: 6m\n", "p.yaml:2: max_silence is given twice"),
        ("max_silence: 5m\n  bad: [\n", "p.yaml:2: not valid YAML"),
    ],
)
def test_errors_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, "p.yaml")
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message
