"""Options shared by ``lint`` and ``fix``."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import TypeVar

import click

from tokenpath.errors import UsageError
from tokenpath.lint.model import Controller
from tokenpath.lint.pipeline import LintOptions
from tokenpath.lint.policy import Policy
from tokenpath.lint.policyfile import parse_policy

F = TypeVar("F", bound=Callable[..., object])

DEFAULT_POLICY_FILE = ".tokenpath.yaml"
# Controllers a user may name: AIGatewayRoutes and Envoy bootstrap files always say theirs.
HINTS = tuple(c for c in Controller if c not in (Controller.ENVOY_AI_GATEWAY, Controller.ENVOY))


def lint_options(command: F) -> F:
    decorators = (
        click.option(
            "--policy",
            "policy_file",
            type=click.Path(dir_okay=False),
            default=None,
            help=f"Policy file (default: {DEFAULT_POLICY_FILE} in the current "
            "directory when present).",
        ),
        click.option(
            "--controller",
            type=click.Choice([c.value for c in HINTS]),
            default=None,
            help="Controller to assume when the manifests do not say: for Ingresses with no "
            "IngressClass or controller Deployment in the input (ingress-nginx, nginx-inc), "
            "and for Gateway API routes whose Gateway or GatewayClass is not in the input "
            "(envoy-gateway, istio, contour).",
        ),
        click.option(
            "--all-routes",
            is_flag=True,
            help="Lint every route, not only those that look like LLM routes.",
        ),
    )
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def tune_gc_for_manifests() -> None:
    """Collect the young generation less often while manifests load: the YAML trees are
    hundreds of thousands of long-lived objects, and the default thresholds rescan them
    over and over (about a quarter of a 10k-object lint run). The CLI owns its process,
    so the setting is made here, not in the library."""
    gc.set_threshold(200_000, 20, 100)


def options_from(policy_file: str | None, controller: str | None, all_routes: bool) -> LintOptions:
    path = policy_file
    if path is None and os.path.isfile(DEFAULT_POLICY_FILE):
        path = DEFAULT_POLICY_FILE
    policy = Policy()
    if path is not None:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise UsageError(f"cannot read the policy file {path}: {exc.strerror}") from exc
        policy = parse_policy(text, path)
    return LintOptions(
        policy=policy,
        controller=Controller(controller) if controller else None,
        all_routes=all_routes,
    )
