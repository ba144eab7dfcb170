"""What a rule is: a module with ``META`` and a pure ``check(route, ctx)``; optionally also a
pure ``check_objects(objects, ctx)`` for problems that belong to no route (a policy whose
target does not exist)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tokenpath.fix.edit import Fix
from tokenpath.lint.finding import Finding, RuleMeta
from tokenpath.lint.model import AnyRoute, ObjectRef, Setting
from tokenpath.lint.objects import Objects
from tokenpath.lint.policy import Policy

Check = Callable[[AnyRoute, "RuleContext"], Iterator[Finding]]
ObjectCheck = Callable[[Objects, "RuleContext"], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    meta: RuleMeta
    check: Check
    doc: str  # the module docstring: the rule's documentation page
    check_objects: ObjectCheck | None = None

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        return cls(
            meta=module.META,
            check=module.check,
            doc=module.__doc__ or "",
            check_objects=getattr(module, "check_objects", None),
        )


@dataclass(frozen=True, slots=True)
class RuleContext:
    policy: Policy

    def finding(
        self,
        meta: RuleMeta,
        route: AnyRoute,
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
        line = source.line if source is not None and source.line else route.obj.line
        obj = source.obj if source is not None and source.obj is not None else route.obj
        value = ""
        if setting is not None:
            value = setting.raw if setting.raw is not None else _text(setting.value)
        found = self.object_finding(
            meta, obj, line, message, setting_name=setting_name, value=value, fix=fix
        )
        return dataclasses.replace(found, source=source, route=route.label())

    def object_finding(
        self,
        meta: RuleMeta,
        obj: ObjectRef,
        line: int,
        message: str,
        *,
        setting_name: str = "",
        value: str = "",
        fix: Fix | None = None,
    ) -> Finding:
        """A finding about an object rather than a route."""
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
            fix=fix,
        )


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "unlimited" if value is None else str(value)
