"""``tokenpath probe URL``: stream requests, stamp every read, say what the path did."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import click

from tokenpath.cli import _console
from tokenpath.stream.dialects import Dialect
from tokenpath.units import parse_duration, parse_size

if TYPE_CHECKING:
    from tokenpath.probe.request import ProbeRequest


@click.command()
@click.argument("url")
@click.option(
    "-X", "--method", default=None, help="HTTP method (default: POST, GET for --dialect raw)."
)
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="Extra request header; repeatable.",
)
@click.option(
    "-d",
    "--data",
    default=None,
    metavar="JSON|@FILE",
    help="Request body instead of the dialect's default request.",
)
@click.option("--model", default=None, help="Model name in the default request body.")
@click.option("--prompt", default=None, help="Prompt in the default request body.")
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Token limit in the default request body.",
)
@click.option(
    "--dialect",
    type=click.Choice([d.value for d in Dialect]),
    default=Dialect.AUTO.value,
    show_default=True,
    help="Streaming API; auto guesses from the path and content type.",
)
@click.option(
    "--api-key-env",
    metavar="VAR",
    default=None,
    help="Send 'Authorization: Bearer $VAR'. The key is never printed.",
)
@click.option(
    "--scenario",
    default=None,
    metavar="SPEC",
    help="tokenpath mock scenario, sent as X-Tokenpath-Scenario (e.g. 'ttft=2s;pause=5@3s').",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Number of requests (sequential).",
)
@click.option(
    "--compare",
    "direct_url",
    default=None,
    metavar="DIRECT_URL",
    help="Also probe this URL (the server without the path), interleaved, and attribute "
    "the difference to the path.",
)
@click.option(
    "--timeout",
    default="30s",
    show_default=True,
    help="Give up after this long without any byte (idle).",
)
@click.option(
    "--max-time", default="300s", show_default=True, help="Give up after this long in total."
)
@click.option(
    "--max-bytes", default="64M", show_default=True, help="Stop reading after this many body bytes."
)
@click.option(
    "--diagnose",
    is_flag=True,
    help="Run a bounded series of tokenpath-mock scenarios through URL (a mock behind the "
    "path) and report buffering, idle/total timeouts, heartbeats, compression and framing.",
)
@click.option(
    "--budget",
    default=None,
    metavar="DURATION",
    help="--diagnose: total time for all probes; the long-generation probe for a total "
    "timer gets what is left (default: --max-time).",
)
@click.option(
    "--max-idle",
    default="90s",
    show_default=True,
    metavar="DURATION",
    help="--diagnose: longest silence tried when searching for an idle timeout (covers the "
    "common 60 s defaults; raise it, and --budget, for longer timers).",
)
@click.option("--insecure", is_flag=True, help="Do not verify the TLS certificate.")
@click.option(
    "--cacert",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Verify TLS with this CA bundle.",
)
@click.option(
    "--no-compression",
    is_flag=True,
    help="Send 'Accept-Encoding: identity' (default asks for gzip, as the OpenAI SDK does).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document (schema in docs/probe.md)."
)
@click.option(
    "--jsonl", "as_jsonl", is_flag=True, help="Print one JSON line per event, then a summary."
)
@click.option("--color/--no-color", default=None, help="Colour output (default: when a terminal).")
def probe(
    url: str,
    method: str | None,
    headers: tuple[str, ...],
    data: str | None,
    model: str | None,
    prompt: str | None,
    max_tokens: int | None,
    dialect: str,
    api_key_env: str | None,
    scenario: str | None,
    repeat: int,
    direct_url: str | None,
    timeout: str,
    max_time: str,
    max_bytes: str,
    diagnose: bool,
    budget: str | None,
    max_idle: str,
    insecure: bool,
    cacert: str | None,
    no_compression: bool,
    as_json: bool,
    as_jsonl: bool,
    color: bool | None,
) -> int:
    """Stream a request through URL and say what the path does to the stream.

    Every socket read is stamped on arrival, before parsing, so bursts stay visible. The
    verdict is one of STREAMING, BUFFERED, BURSTY, CUT, SLOW_START, COMPRESSED or INVALID,
    with its evidence. Against the tokenpath mock, each event's send time is known and the
    verdict is certain.

    Exit codes: 0 STREAMING, 1 any other verdict, 2 usage or connection error.
    """
    from tokenpath.probe.classify import VerdictKind, analyse
    from tokenpath.probe.client import fetch
    from tokenpath.probe.compare import compare
    from tokenpath.probe.request import build_request
    from tokenpath.report.probe_json import render_probe_json, render_probe_jsonl
    from tokenpath.report.probe_text import render_compare_text, render_probe_text

    if as_json and as_jsonl:
        raise click.UsageError("choose one of --json and --jsonl")
    extra = list(headers)
    if scenario is not None:
        extra.append(f"X-Tokenpath-Scenario: {scenario}")

    def request_for(target: str) -> ProbeRequest:
        request = build_request(
            target,
            dialect=Dialect(dialect),
            model=model,
            prompt=prompt,
            data=data,
            headers=tuple(extra),
            api_key_env=api_key_env,
            max_tokens=max_tokens,
            method=method,
        )
        return dataclasses.replace(
            request,
            timeout_s=parse_duration(timeout),
            max_time_s=parse_duration(max_time),
            max_bytes=parse_size(max_bytes),
            insecure=insecure,
            cacert=cacert,
            accept_encoding="identity" if no_compression else request.accept_encoding,
        )

    via_request = request_for(url)
    if diagnose:
        return _run_diagnose(
            via_request,
            budget=parse_duration(budget if budget is not None else max_time),
            max_idle=parse_duration(max_idle),
            as_json=as_json,
        )
    direct_request = request_for(direct_url) if direct_url else None
    via_results = []
    direct_results = []
    for run in range(1, repeat + 1):
        suffix = f" (run {run}/{repeat})" if repeat > 1 else ""
        if direct_request is not None:
            _console.progress(f"probing {direct_request.url} direct{suffix}")
            direct_results.append(analyse(fetch(direct_request)))
        _console.progress(f"probing {via_request.url}{suffix}")
        via_results.append(analyse(fetch(via_request)))

    comparison = compare(direct_results, via_results) if direct_results else None
    use_color = _console.use_color(color)
    if as_json:
        _console.out(render_probe_json(via_results, comparison))
    elif as_jsonl:
        for result in via_results:
            for line in render_probe_jsonl(result):
                _console.out(line)
    else:
        for index, result in enumerate(via_results):
            if index:
                _console.out("")
            _console.out(render_probe_text(result, color=use_color))
        if comparison is not None:
            _console.out("")
            _console.out(render_compare_text(comparison, color=use_color))
    streaming = all(r.verdict.kind is VerdictKind.STREAMING for r in via_results)
    return 0 if streaming else 1


def _run_diagnose(request: ProbeRequest, *, budget: float, max_idle: float, as_json: bool) -> int:
    """``--diagnose``: exit 0 when the path streams and no total timer cut a flowing stream,
    1 otherwise."""
    from tokenpath.probe.diagnose import run_diagnosis
    from tokenpath.probe.diagnosis import Buffering
    from tokenpath.report.diagnose import render_diagnosis_json, render_diagnosis_text

    diagnosis = run_diagnosis(
        request, budget_s=budget, max_idle_s=max_idle, progress=_console.progress
    )
    _console.out(render_diagnosis_json(diagnosis) if as_json else render_diagnosis_text(diagnosis))
    clean = (
        diagnosis.buffering is not None
        and diagnosis.buffering.mode is Buffering.NONE
        and not (diagnosis.total is not None and diagnosis.total.found)
    )
    return 0 if clean else 1
