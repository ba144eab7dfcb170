"""What a rule is: a module with ``META`` and a pure ``check(route, ctx)``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Finding, RuleMeta
from tokenpath.lint.model import Route, Setting
from tokenpath.lint.policy import Policy

Check = Callable[[Route, "RuleContext"], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    meta: RuleMeta
    check: Check
    doc: str  # the module docstring: the rule's documentation page

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        return cls(meta=module.META, check=module.check, doc=module.__doc__ or "")


@dataclass(frozen=True, slots=True)
class RuleContext:
    policy: Policy

    def finding(
        self,
        meta: RuleMeta,
        route: Route,
        message: str,
        *,
        setting_name: str = "",
        setting: Setting[Any] | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        """A finding for ``route`` that points at ``setting``'s value when it was written in a
        manifest, else at the route's Ingress (whose annotations hold every NGINX-family
        route setting, so all paths of one Ingress fold into one finding)."""
        source = setting.source if setting is not None else None
        line = source.line if source is not None and source.line else route.ingress.line
        obj = source.obj if source is not None and source.obj is not None else route.ingress
        value = ""
        if setting is not None:
            value = setting.raw if setting.raw is not None else _text(setting.value)
        return Finding(
            code=meta.code,
            name=meta.name,
            category=meta.category,
            severity=self.policy.severity_for(meta.code, meta.severity),
            message=message,
            object=obj,
            line=line or obj.line,
            setting=setting_name,
            value=value,
            source=source,
            fix=fix,
            route=route.label(),
        )


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "unlimited" if value is None else str(value)
