"""Redis key names, rendered from the templates declared in keyspace.proto.

Nothing here spells a key: every template, consumer group and entry field is
read from the `redis_key` options of the generated `Keyspace` descriptor.
"""

import re
from dataclasses import dataclass
from string import Template
from typing import TYPE_CHECKING

from google.protobuf.descriptor import Descriptor

from acapy_bridge.partitioning import partition_tag
from acapy_bridge.v1 import keyspace_options_pb2, keyspace_pb2

if TYPE_CHECKING:
    # With the upb backend (the default) descriptors are of this class.
    from google._upb._message import Descriptor as UpbDescriptor


class KeyError_(Exception):
    """A key could not be rendered (missing or unsafe part)."""


@dataclass(frozen=True)
class KeySpec:
    name: str
    template: str
    type: int
    encoding: int
    partition_family: str
    consumer_group: str
    entry_field: str
    default_ttl_ms: int
    # Streams: the length writers keep it near (XADD MAXLEN ~), 0 = unbounded.
    max_length: int
    value_descriptor: "Descriptor | UpbDescriptor | None"


def _specs() -> dict[str, KeySpec]:
    specs = {}
    for field in keyspace_pb2.Keyspace.DESCRIPTOR.fields:
        # The generated stub types the extension as a plain FieldDescriptor, not as RedisKey's extension.
        redis_key = keyspace_options_pb2.redis_key
        option: keyspace_options_pb2.RedisKey = field.GetOptions().Extensions[redis_key]  # type: ignore[index]
        specs[field.name] = KeySpec(
            name=field.name,
            template=option.template,
            type=option.type,
            encoding=option.encoding,
            partition_family=option.partition_family,
            consumer_group=option.consumer_group,
            entry_field=option.entry_field,
            default_ttl_ms=option.default_ttl_ms,
            max_length=option.max_length,
            value_descriptor=field.message_type,
        )
    return specs


KEY_SPECS: dict[str, KeySpec] = _specs()

# Values end up inside key names and hash tags: braces would move the slot.
_UNSAFE = re.compile(r"[{}\s\x00-\x1f\x7f]")
_MAX_VALUE_LENGTH = 256


def _check(name: str, placeholder: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise KeyError_(f"key {name} needs ${{{placeholder}}}")
    if len(value) > _MAX_VALUE_LENGTH or _UNSAFE.search(value):
        raise KeyError_(f"key {name}: ${{{placeholder}}} is not a safe key part")
    return value


def partition_counts_of(topology) -> dict[str, int]:
    """Partition counts per family letter (see `partition_family` in keyspace.proto)."""
    return {
        "i": topology.inbound_partitions,
        "o": topology.outbound_partitions,
        "e": topology.event_partitions,
        "a": topology.admin_partitions,
    }


class Keyspace:
    """Renders the keys of one deployment (its prefix and partition counts)."""

    def __init__(self, prefix: str, partitions: dict[str, int]):
        _check("topology", "prefix", prefix)
        self.prefix = prefix
        self.partitions = dict(partitions)
        self._templates = {name: Template(spec.template) for name, spec in KEY_SPECS.items()}
        # Parsed once: keys are rendered for every message (Template parses its text on each call).
        self._identifiers = {name: template.get_identifiers() for name, template in self._templates.items()}

    def spec(self, name: str) -> KeySpec:
        return KEY_SPECS[name]

    def partition_count(self, name: str) -> int:
        family = KEY_SPECS[name].partition_family
        count = self.partitions.get(family, 0) if family else 0
        if count < 1:
            raise KeyError_(f"key {name} is not partitioned or its family has no count")
        return count

    def key(self, name: str, **parts: str | int) -> str:
        template = self._templates[name]
        values: dict[str, str] = {"prefix": self.prefix}
        for placeholder in self._identifiers[name]:
            if placeholder == "prefix":
                continue
            if placeholder == "partition":
                count = self.partition_count(name)
                p = parts.get("partition")
                if not isinstance(p, int) or not 0 <= p < count:
                    raise KeyError_(f"key {name} needs a partition in 0..{count - 1}, got {p}")
                values["partition"] = partition_tag(KEY_SPECS[name].partition_family, p, count)
            else:
                values[placeholder] = _check(name, placeholder, parts.get(placeholder))
        return template.substitute(values)

    def all_partitions(self, name: str) -> list[str]:
        return [self.key(name, partition=p) for p in range(self.partition_count(name))]
