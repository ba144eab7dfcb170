"""What ``tokenpath simulate PATH…`` and ``tokenpath simulate --prove-rules`` do, as plain
functions the click command calls: plain values in, ``(output text, exit code)`` out.

Exit codes: 0 when every prediction agrees with the measurement, 1 when one disagrees (or a
route could not be run), 2 for input errors (as ``lint``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from enum import StrEnum

from tokenpath.simulate.scale import DEFAULT_TIME_SCALE

Progress = Callable[[str], None]


class ProofFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"  # the content of docs/rule-proofs.md


def run_manifests(
    paths: Sequence[str],
    *,
    scenario_names: Sequence[str] = (),
    time_scale: float = DEFAULT_TIME_SCALE,
    policy_file: str | None = None,
    controller: str | None = None,
    all_routes: bool = False,
    as_json: bool = False,
    color: bool = False,
    width: int = 120,
    progress: Progress = lambda _message: None,
) -> tuple[str, int]:
    """Every LLM route of the manifests at ``paths`` through the proxy of its family (nginx or
    Envoy): predicted vs measured.

    ``scenario_names``: standard scenarios to run (none: all). ``policy_file`` /
    ``controller`` / ``all_routes`` as for ``lint``. Raises UsageError for a bad time scale or
    scenario name, ConfigError for a bad policy file.
    """
    from tokenpath.cli.options import options_from
    from tokenpath.report.manifests import render_manifests_json, render_manifests_text
    from tokenpath.simulate.manifests import simulate_manifests
    from tokenpath.simulate.scale import check_time_scale
    from tokenpath.simulate.scenarios import select

    report = simulate_manifests(
        paths,
        options_from(policy_file, controller, all_routes),
        select(scenario_names),
        time_scale=check_time_scale(time_scale),
        progress=progress,
    )
    if as_json:
        text = json.dumps(render_manifests_json(report), indent=2)
    else:
        text = render_manifests_text(report, color=color, width=width)
    if report.errors:
        return text, 2
    ran = all(route.report is not None for route in report.routes)
    return text, 0 if ran and report.all_agree else 1


def run_prove_rules(
    *,
    output: str = ProofFormat.TEXT,
    color: bool = False,
    width: int = 120,
    progress: Progress = lambda _message: None,
) -> tuple[str, int]:
    """The rule-proof matrix through the real nginx and Envoy. ``output``: ``text``, ``json`` or
    ``markdown`` (what docs/rule-proofs.md holds). Exit 0 when every row agrees, else 1."""
    from tokenpath.report.proofs import (
        render_proofs_json,
        render_proofs_markdown,
        render_proofs_text,
    )
    from tokenpath.simulate.proofs import prove_rules

    fmt = ProofFormat(output)
    matrix = prove_rules(progress)
    match fmt:
        case ProofFormat.TEXT:
            text = render_proofs_text(matrix, color=color, width=width)
        case ProofFormat.JSON:
            text = json.dumps(render_proofs_json(matrix), indent=2)
        case ProofFormat.MARKDOWN:
            text = render_proofs_markdown(matrix).rstrip("\n")
    return text, 0 if matrix.all_agree else 1
