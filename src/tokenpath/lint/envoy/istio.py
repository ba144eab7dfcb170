"""Placeholder until the istio adapter lands."""

from __future__ import annotations

from tokenpath.lint.document import InputError
from tokenpath.lint.model import Controller, EnvoyRoute
from tokenpath.lint.objects import Objects


def virtual_service_routes(
    objects: Objects, controller_hint: Controller | None
) -> tuple[list[EnvoyRoute], list[InputError]]:
    return [], []
