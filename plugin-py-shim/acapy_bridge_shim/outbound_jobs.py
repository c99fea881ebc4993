"""Building outbound jobs and putting them on their outbound partition.

Shared by the outbound transport (DIDComm messages) and the event publisher
(webhooks): one mid per job, partition by recipient key, and `enqueue` with
the `outbound_seen` dedup marker and the high-water mark, all in one script.
"""

import os
import time

from acapy_bridge.codec import encode_envelope
from acapy_bridge.keyspace import Keyspace
from acapy_bridge.partitioning import partition_of
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import Busy, EnqueueOutcome, enqueue_envelope
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge.write_batch import Enqueue
from acapy_bridge_shim.config import OutboundSettings

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_last = [-1, 0]  # time and random part of the previous id


def new_mid(now_ms: int | None = None) -> str:
    """A ULID: 48-bit time then 80 random bits, Crockford base32; monotonic within this process."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    if ms <= _last[0]:
        ms, rand = _last[0], (_last[1] + 1) % (1 << 80)
    else:
        rand = int.from_bytes(os.urandom(10), "big")
    _last[0], _last[1] = ms, rand
    value = (ms << 80) | rand
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class OutboundBusyError(Exception):
    """The outbound partition reached its high-water mark: the deliverers are behind."""

    def __init__(self, partition: int, backlog: int):
        super().__init__(f"outbound partition {partition} is full ({backlog} jobs waiting)")
        self.partition = partition
        self.backlog = backlog


def now_ms() -> int:
    return int(time.time() * 1000)


def job_write(keyspace: Keyspace, settings: OutboundSettings, job: pb.OutboundJob) -> Enqueue:
    """The job as a write for a batch (write_batch): the same stream, marker and mark as `enqueue_job`."""
    partition = partition_of(job.recipient_key, keyspace.partition_count("outbound_queue"))
    return Enqueue(
        stream=keyspace.key("outbound_queue", partition=partition),
        seen=keyspace.key("outbound_seen", partition=partition, mid=job.mid),
        entry_field=keyspace.spec("outbound_queue").entry_field,
        envelope=encode_envelope(job),
        high_water_mark=settings.high_water_mark,
        seen_ttl_ms=settings.seen_ttl_ms,
    )


async def enqueue_job(
    scripts: Scripts, keyspace: Keyspace, settings: OutboundSettings, job: pb.OutboundJob
) -> tuple[int, EnqueueOutcome]:
    """Writes the job to its partition; returns only once Redis has it (or raises)."""
    partition = partition_of(job.recipient_key, keyspace.partition_count("outbound_queue"))
    outcome = await enqueue_envelope(
        scripts,
        stream=keyspace.key("outbound_queue", partition=partition),
        entry_field=keyspace.spec("outbound_queue").entry_field,
        payload=encode_envelope(job),
        high_water_mark=settings.high_water_mark,
        seen_key=keyspace.key("outbound_seen", partition=partition, mid=job.mid),
        seen_ttl_ms=settings.seen_ttl_ms,
    )
    if isinstance(outcome, Busy):
        raise OutboundBusyError(partition, outcome.backlog)
    return partition, outcome
