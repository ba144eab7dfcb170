"""The route of a VirtualService or HTTPProxy entry that lists several backends: each is
resolved to its Service and workloads, and the route names the first that looks like an LLM
server (else the first); the settings are the entry's, the same for every backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.lint.llm import llm_reason
from tokenpath.lint.model import EnvoyRoute, EnvoyRouteSettings, ObjectRef, Ownership, Route
from tokenpath.lint.objects import Backend, Entry, Objects, images_of
from tokenpath.lint.routes import Target, resolve_backend


@dataclass(frozen=True, slots=True)
class Resolved:
    """A backend, where it leads, and why it looks like an LLM server ("" when it does not)."""

    backend: Backend
    target: Target
    reason: str


def resolved(
    objects: Objects,
    namespace: str,
    ref: ObjectRef,
    annotations: Sequence[Entry],
    path: str,
    backend: Backend,
) -> Resolved:
    """``backend`` of the route at ``path`` of ``ref``, resolved in ``namespace``."""
    target = resolve_backend(objects, namespace, backend)
    reason = llm_reason(annotations, str(ref), path, target.service, target.workloads, target.ports)
    return Resolved(backend, target, reason)


def backend_route(
    ref: ObjectRef,
    owner: Ownership,
    settings: EnvoyRouteSettings,
    where: tuple[str, str, int],
    choices: Sequence[Resolved],
) -> EnvoyRoute:
    """The route at ``where`` (host, path, line) to the first LLM-looking of ``choices``."""
    host, path, line = where
    chosen = next((c for c in choices if c.reason), choices[0])
    workloads = chosen.target.workloads
    return Route(
        obj=ref,
        host=host,
        path=path,
        service=chosen.backend.service,
        port=chosen.backend.port,
        workload=workloads[0].ref if workloads else None,
        images=images_of(workloads),
        owner=owner,
        llm_reason=chosen.reason,
        settings=settings,
        line=line,
    )
