"""Which partition a message goes to, and the hash tag of each partition.

The rules are specified in proto/acapy_bridge/v1/keyspace.proto and shared
with TypeScript through proto/testdata/vectors.json.
"""

import hashlib
from functools import cache

CLUSTER_SLOTS = 16384


def _crc16_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return table


_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    """CRC16/XMODEM, the checksum Redis Cluster uses for key slots."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def hash_slot(key: str | bytes) -> int:
    """The slot Redis Cluster assigns to `key`, honouring a `{hash tag}`."""
    raw = key.encode() if isinstance(key, str) else key
    start = raw.find(b"{")
    if start != -1:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            return crc16(raw[start + 1 : end]) % CLUSTER_SLOTS
    return crc16(raw) % CLUSTER_SLOTS


def partition_of(routing_key: str, count: int) -> int:
    """p = uint32_be(sha256(utf8(routing_key))[0..4]) mod count."""
    if count < 1:
        raise ValueError(f"partition count must be positive, got {count}")
    digest = hashlib.sha256(routing_key.encode()).digest()
    return int.from_bytes(digest[:4], "big") % count


@cache
def partition_tag(family: str, partition: int, count: int) -> str:
    """The first `family + partition + "-" + n` whose slot is in slice `partition` of `count`."""
    if not 0 <= partition < count <= CLUSTER_SLOTS:
        raise ValueError(f"partition {partition} out of range 0..{count - 1}")
    n = 0
    while True:
        tag = f"{family}{partition}-{n}"
        if crc16(tag.encode()) % CLUSTER_SLOTS * count // CLUSTER_SLOTS == partition:
            return tag
        n += 1
