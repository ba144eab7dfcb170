"""The policy file, ``.tokenpath.yaml`` (or ``--policy FILE``): the user's expectations.

::

    # Longest silence the stream may have: time to first token (queue + prefill) or a pause
    # between tokens. Idle/read timers must exceed it.       Default: 5m
    max_silence: 5m
    # Longest generation, request to last token. Total/route timers must exceed it.
    #                                                          Default: 15m
    max_generation: 15m
    # Whether compressing token streams is acceptable at all. Default: false
    compression_allowed: false
    # Smallest request body an LLM route must accept (long prompts, images). Default: 32Mi
    min_body_size: 32Mi
    # Severity per rule code: info, warning or error.          Default: each rule's own
    severity:
      TP201: error
    # Rules not to run.                                         Default: none
    disable: [TP501]

Durations take ``ms``, ``s``, ``m`` or ``h`` (a bare number is seconds); sizes take ``k``,
``M`` or ``G`` with an optional ``i``/``B`` (binary multiples; a bare number is bytes). An
empty file means every default. Unknown keys and bad values are errors that name the file and
line (``ConfigError``), never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]

from tokenpath.errors import ConfigError, UsageError
from tokenpath.lint.finding import Severity
from tokenpath.lint.policy import Policy
from tokenpath.units import parse_duration, parse_size

_Loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_CODE = re.compile(r"TP\d{3}")
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
KEYS = (
    "max_silence",
    "max_generation",
    "compression_allowed",
    "min_body_size",
    "severity",
    "disable",
)


def parse_policy(text: str, file: str) -> Policy:
    """The policy in ``text`` (the contents of ``file``). Raises ``ConfigError``."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise _error(file, line, f"not valid YAML: {problem}") from None
    if root is None or root.tag == _NULL:
        return Policy()
    if not isinstance(root, yaml.MappingNode):
        raise _error(file, _line(root), "expected a mapping of settings, e.g. max_silence: 5m")
    values: dict[str, Any] = {}
    for key_node, value_node in root.value:
        key = str(key_node.value)
        if key not in KEYS:
            known = ", ".join(KEYS)
            raise _error(file, _line(key_node), f"unknown key {key!r}; known keys: {known}")
        if key in values:
            raise _error(file, _line(key_node), f"{key} is given twice")
        values[key] = _READERS[key](file, value_node)
    defaults = Policy()
    return Policy(
        max_silence_s=values.get("max_silence", defaults.max_silence_s),
        max_generation_s=values.get("max_generation", defaults.max_generation_s),
        compression_allowed=values.get("compression_allowed", defaults.compression_allowed),
        min_body_bytes=values.get("min_body_size", defaults.min_body_bytes),
        severity_overrides=values.get("severity", defaults.severity_overrides),
        disabled=values.get("disable", defaults.disabled),
    )


def _line(node: Any) -> int:
    return int(node.start_mark.line) + 1


def _error(file: str, line: int, message: str) -> ConfigError:
    return ConfigError(f"{file}:{line}: {message}" if line else f"{file}: {message}")


def _scalar(file: str, node: Any, key: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL:
        raise _error(file, _line(node), f"{key} takes a single value")
    return str(node.value)


def _duration(file: str, node: Any, key: str) -> float:
    text = _scalar(file, node, key)
    try:
        seconds = parse_duration(text)
    except UsageError:
        message = f"{key}: {text!r} is not a duration (e.g. 300s, 15m, 1h)"
        raise _error(file, _line(node), message) from None
    if seconds <= 0:
        raise _error(file, _line(node), f"{key} must be longer than zero")
    return seconds


def _max_silence(file: str, node: Any) -> float:
    return _duration(file, node, "max_silence")


def _max_generation(file: str, node: Any) -> float:
    return _duration(file, node, "max_generation")


def _compression_allowed(file: str, node: Any) -> bool:
    text = _scalar(file, node, "compression_allowed")
    if node.tag != _BOOL:
        raise _error(file, _line(node), f"compression_allowed takes true or false, not {text!r}")
    return bool(yaml.safe_load(text))


def _min_body_size(file: str, node: Any) -> int:
    text = _scalar(file, node, "min_body_size")
    try:
        return parse_size(text)
    except UsageError:
        message = f"min_body_size: {text!r} is not a size (e.g. 32Mi, 64M)"
        raise _error(file, _line(node), message) from None


def _code(file: str, node: Any, key: str) -> str:
    code = _scalar(file, node, key).strip().upper()
    if not _CODE.fullmatch(code):
        raise _error(file, _line(node), f"{key}: {node.value!r} is not a rule code (TPnnn)")
    return code


def _severity(file: str, node: Any) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(node, yaml.MappingNode):
        raise _error(file, _line(node), "severity takes a mapping of rule code to severity")
    choices = ", ".join(s.value for s in Severity)
    overrides = []
    for key_node, value_node in node.value:
        code = _code(file, key_node, "severity")
        word = _scalar(file, value_node, f"severity of {code}").strip().lower()
        if word not in {s.value for s in Severity}:
            raise _error(file, _line(value_node), f"severity of {code}: use one of {choices}")
        overrides.append((code, Severity(word)))
    return tuple(overrides)


def _disable(file: str, node: Any) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode) and node.tag != _NULL:
        # "TP501, TP502" written as one string
        words = [w for w in re.split(r"[,\s]+", str(node.value)) if w]
        codes = []
        for word in words:
            if not _CODE.fullmatch(word.upper()):
                raise _error(file, _line(node), f"disable: {word!r} is not a rule code (TPnnn)")
            codes.append(word.upper())
        return tuple(codes)
    if not isinstance(node, yaml.SequenceNode):
        raise _error(file, _line(node), "disable takes a list of rule codes, e.g. [TP501]")
    return tuple(_code(file, item, "disable") for item in node.value)


_READERS: dict[str, Callable[[str, Any], Any]] = {
    "max_silence": _max_silence,
    "max_generation": _max_generation,
    "compression_allowed": _compression_allowed,
    "min_body_size": _min_body_size,
    "severity": _severity,
    "disable": _disable,
}
