"""The deployment's partition counts: recorded once, checked by every process."""

import time
from dataclasses import dataclass

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.keyspace import Keyspace, partition_counts_of
from acapy_bridge.v1 import envelopes_pb2


class TopologyMismatchError(RuntimeError):
    """This process's partition counts differ from the deployment's."""


@dataclass(frozen=True)
class PartitionPlan:
    inbound_partitions: int = 16
    outbound_partitions: int = 16
    event_partitions: int = 4
    admin_partitions: int = 1


async def ensure_topology(client, prefix: str, wanted: PartitionPlan) -> Keyspace:
    key = Keyspace(prefix, {}).key("topology")
    proposed = envelopes_pb2.Topology(
        inbound_partitions=wanted.inbound_partitions,
        outbound_partitions=wanted.outbound_partitions,
        event_partitions=wanted.event_partitions,
        admin_partitions=wanted.admin_partitions,
        created_at_ms=int(time.time() * 1000),
    )
    created = await client.set(key, encode_envelope(proposed), nx=True)
    actual = proposed
    if not created:
        stored = await client.get(key)
        if stored is None:
            raise TopologyMismatchError(f"topology key {key} vanished")
        actual = decode_envelope(envelopes_pb2.Topology, stored)
        for field in ("inbound_partitions", "outbound_partitions", "event_partitions", "admin_partitions"):
            if getattr(actual, field) != getattr(wanted, field):
                raise TopologyMismatchError(
                    f"{key} says {field}={getattr(actual, field)} but this process is configured "
                    f"with {getattr(wanted, field)}; every process must use the same partition counts"
                )
    return Keyspace(prefix, partition_counts_of(actual))
