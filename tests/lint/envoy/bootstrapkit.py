"""A raw Envoy bootstrap builder shared by the bootstrap tests (test_bootstrap_routes,
test_envoy_field_rejected, test_envoy_validate): one listener, one HCM, one virtual host and a
cluster ``vllm`` on port 8000, valid for Envoy 1.40.0 as it stands. Holds no tests."""

from __future__ import annotations

HCM_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager"
)


def route_entry(path: str = "/v1/chat/completions", action: str = "") -> str:
    """One route entry (indented 14) sending ``path`` to ``vllm``; ``action`` is more of its
    route action (indented 18)."""
    return (
        f"              - match: {{prefix: {path}}}\n"
        "                route:\n"
        "                  cluster: vllm\n"
        f"{action}"
    )


def bootstrap(
    *,
    hcm: str = "",
    vhost: str = "",
    routes: str = "",
    filters: str = "",
    cluster: str = "",
    domains: str = '["*"]',
) -> str:
    """The bootstrap with ``hcm`` (indented 10), ``vhost`` (14), ``routes`` (route entries,
    14), ``filters`` (http_filters entries before the router, 10) and ``cluster`` (4) added."""
    return f"""\
static_resources:
  listeners:
  - name: main
    address:
      socket_address: {{address: 127.0.0.1, port_value: 10000}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": {HCM_TYPE}
          stat_prefix: ingress
{hcm}          route_config:
            virtual_hosts:
            - name: all
              domains: {domains}
{vhost}              routes:
{routes}          http_filters:
{filters}          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: vllm
    type: STATIC
{cluster}    load_assignment:
      cluster_name: vllm
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{address: 127.0.0.1, port_value: 8000}}
"""
