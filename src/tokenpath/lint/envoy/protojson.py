"""How Envoy reads the keys and scalars of a YAML/JSON config: both spellings of a field,
``Any`` type URLs, durations, integers and booleans (FACTS.md §5).

Envoy parses YAML and JSON configs with protobuf's JSON parser. It accepts each field's proto
name and its JSON name (lowerCamelCase), and ``@type`` in a message packed in an ``Any``
(``typed_config``).
"""

from __future__ import annotations

import re

from tokenpath.lint.envoy.values import parse_proto_duration
from tokenpath.lint.fields import is_null, yaml_int
from tokenpath.lint.yamlnode import NodeKind, YNode

ANY_TYPE_KEY = "@type"  # names the message packed in an Any; a key of that message's map

# The largest duration protobuf accepts (10000 years); Envoy rejects more ("out of range").
_MAX_DURATION_S = 315_576_000_000
# protobuf's own duration syntax: "1.s" and ".5s" are rejected ("bad nanoseconds"), M 1.40.0.
_STRICT_DURATION = re.compile(r"^[0-9]+(\.[0-9]{1,9})?s$")


def proto_seconds(node: YNode) -> float:
    """Seconds of a protobuf duration as Envoy reads YAML: a ``"15s"`` string (an unquoted
    number is rejected), or a ``{seconds, nanos}`` map. ValueError with the reason."""
    if node.kind is NodeKind.MAP:
        whole, nanos = (
            proto_integer(get_field(node, "seconds")),
            proto_integer(get_field(node, "nanos")),
        )
        if whole is None and nanos is None:
            raise ValueError("a duration map needs integer seconds or nanos")
        return (whole or 0) + (nanos or 0) / 1e9
    if node.kind is not NodeKind.SCALAR or not node.tag.endswith(":str"):
        raise ValueError(f'{node.value or "this"} is not a protobuf duration string (write "15s")')
    seconds = parse_proto_duration(node.value)
    if not _STRICT_DURATION.match(node.value) or seconds > _MAX_DURATION_S:
        raise ValueError(f'"{node.value}" is not a protobuf duration Envoy accepts')
    return seconds


def json_name(name: str) -> str:
    """protobuf's JSON name of a field: ``allow_chunked_length`` -> ``allowChunkedLength``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def type_url(config: YNode) -> str:
    url = config.get(ANY_TYPE_KEY)
    return url.value if url is not None and url.kind is NodeKind.SCALAR else ""


def packed_type(config: YNode) -> str:
    """The message name an Any's ``@type`` names: ``.../envoy...v3.Buffer`` -> ``Buffer``."""
    return type_url(config).rsplit("/", 1)[-1].rsplit(".", 1)[-1]


def get_field(node: YNode | None, name: str) -> YNode | None:
    """A field by its proto name or its JSON name (Envoy accepts both)."""
    if node is None:
        return None
    found = node.get(name)
    return found if found is not None else node.get(json_name(name))


def spelling(node: YNode, name: str) -> str:
    """How the field ``name`` is written in ``node`` (proto or JSON name); ``name`` if absent."""
    return json_name(name) if node.get(name) is None and node.get(json_name(name)) else name


def field_path(node: YNode | None, *names: str) -> YNode | None:
    for name in names:
        node = get_field(node, name)
    return node


def proto_integer(node: YNode | None) -> int | None:
    """An integer as protobuf JSON takes it: a number or a string of digits."""
    if node is None or node.kind is not NodeKind.SCALAR or is_null(node):
        return None
    return yaml_int(node.value) if node.value.strip().lstrip("+-").isdigit() else None


def elements(node: YNode | None) -> tuple[YNode, ...]:
    return node.elements if node is not None and node.kind is NodeKind.SEQ else ()


def is_true(node: YNode | None) -> bool:
    return node is not None and node.kind is NodeKind.SCALAR and node.value.lower() == "true"


def filter_config(item: YNode, message: str, name: str) -> YNode | None:
    """The ``typed_config`` of a filter whose ``@type`` is ``message`` (or, without an
    ``@type``, whose name is ``name``); None for other filters."""
    config = get_field(item, "typed_config")
    if config is None or config.kind is not NodeKind.MAP:
        return None
    packed = packed_type(config)
    if packed:
        return config if packed == message else None
    filter_name = get_field(item, "name")
    return config if filter_name is not None and filter_name.value == name else None
