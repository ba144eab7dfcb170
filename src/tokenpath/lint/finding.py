"""Rule metadata and findings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tokenpath.fix.edit import Fix
from tokenpath.lint.model import Family, ObjectRef, Source


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return ("info", "warning", "error").index(self.value)


class Category(StrEnum):
    RESPONSE_BUFFERING = "response-buffering"
    READ_TIMEOUT_TOO_SHORT = "read-timeout-too-short"
    SEND_TIMEOUT_TOO_SHORT = "send-timeout-too-short"
    ROUTE_TIMEOUT_TOO_SHORT = "route-timeout-too-short"
    IDLE_TIMEOUT_TOO_SHORT = "idle-timeout-too-short"
    COMPRESSION_BUFFERS_STREAM = "compression-buffers-stream"
    REQUEST_BUFFERING_LARGE_PROMPTS = "request-buffering-large-prompts"
    BODY_SIZE_TOO_SMALL = "body-size-too-small"
    HTTP10_UPSTREAM = "http10-upstream"
    SNIPPET_OVERRIDES = "snippet-overrides"
    IGNORED_SETTING = "ignored-setting"
    INFO = "info"


class FixAvailability(StrEnum):
    ALWAYS = "always"
    SOMETIMES = "sometimes"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class RuleMeta:
    code: str  # "TP101"; permanent, never reused
    name: str  # kebab-case, names the problem
    severity: Severity
    category: Category
    fix: FixAvailability
    references: tuple[str, ...] = ()
    proven_on: str = ""  # e.g. "nginx 1.22.1 (tests/proxy/test_rule_proofs.py)"
    family: Family = Family.NGINX  # the routes it checks: their proxy family


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    category: Category
    severity: Severity
    message: str  # what is wrong, with values
    object: ObjectRef
    line: int  # the line the finding points at (the setting's value, else the object)
    setting: str = ""  # normalised setting name, e.g. "read_timeout", or the annotation key
    value: str = ""  # the effective value, as text
    source: Source | None = None  # where the effective value came from
    fix: Fix | None = None
    route: str = ""  # host+path when the finding concerns one route

    @property
    def file(self) -> str:
        return self.object.file
