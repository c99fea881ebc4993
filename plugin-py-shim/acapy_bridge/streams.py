"""Typed operations on the contract's work streams (enqueue, read, ack, bury, claim)."""

from dataclasses import dataclass

from redis.exceptions import ResponseError

from acapy_bridge.keyspace import KEY_SPECS
from acapy_bridge.scripts import Scripts


@dataclass(frozen=True)
class Queued:
    entry_id: str


@dataclass(frozen=True)
class Duplicate:
    pass


@dataclass(frozen=True)
class Busy:
    backlog: int


EnqueueOutcome = Queued | Duplicate | Busy


@dataclass(frozen=True)
class StreamEntry:
    id: str
    # None when the entry was deleted while pending.
    payload: bytes | None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def enqueue_envelope(
    scripts: Scripts,
    *,
    stream: str,
    entry_field: str,
    payload: bytes,
    high_water_mark: int,
    seen_key: str | None = None,
    seen_ttl_ms: int = 0,
) -> EnqueueOutcome:
    status, detail = await scripts.enqueue(
        stream=stream,
        seen=seen_key or None,
        entry_field=entry_field,
        envelope=payload,
        high_water_mark=high_water_mark,
        seen_ttl_ms=seen_ttl_ms,
    )
    if status == "OK":
        return Queued(detail)
    if status == "DUP":
        return Duplicate()
    return Busy(int(detail))


async def ensure_group(client, stream: str, group: str) -> None:
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def _entries(raw, entry_field: str) -> list[StreamEntry]:
    field = entry_field.encode()
    out = []
    for entry_id, fields in raw:
        payload = None
        if fields:
            payload = fields.get(field)
        out.append(StreamEntry(_text(entry_id), payload))
    return out


async def read_group(
    client,
    *,
    stream: str,
    group: str,
    consumer: str,
    entry_field: str,
    count: int,
    after: str = ">",
    block_ms: int | None = None,
) -> list[StreamEntry]:
    reply = await client.xreadgroup(
        group, consumer, {stream: after}, count=count, block=block_ms if after == ">" else None
    )
    if not reply:
        return []
    _, raw = reply[0]
    return _entries(raw, entry_field)


async def read_groups(
    client,
    *,
    streams: list[str],
    group: str,
    consumer: str,
    entry_field: str,
    count: int,
    block_ms: int,
) -> list[tuple[str, list[StreamEntry]]]:
    """New entries of several streams in one blocking XREADGROUP (keys of one slot, or standalone Redis)."""
    reply = await client.xreadgroup(group, consumer, dict.fromkeys(streams, ">"), count=count, block=block_ms)
    # RESP2: [[stream, entries], ...], only the streams that had entries; None when the block timed out.
    return [(_text(stream), _entries(raw, entry_field)) for stream, raw in reply or []]


async def ack_entries(scripts: Scripts, stream: str, group: str, ids: list[str]) -> int:
    if not ids:
        return 0
    return await scripts.ack(stream=stream, group=group, ids=ids)


async def bury_entry(
    scripts: Scripts,
    *,
    stream: str,
    dead_letter_stream: str,
    group: str,
    entry_id: str,
    entry_field: str,
    dead_letter: bytes,
    dead_letter_cap: int = KEY_SPECS["inbound_dead_letters"].max_length,
) -> str:
    return await scripts.bury(
        stream=stream,
        dead_letters=dead_letter_stream,
        group=group,
        entry_id=entry_id,
        entry_field=entry_field,
        dead_letter=dead_letter,
        cap=dead_letter_cap,
    )


async def auto_claim(
    client,
    *,
    stream: str,
    group: str,
    consumer: str,
    min_idle_ms: int,
    entry_field: str,
    cursor: str = "0-0",
    count: int = 100,
) -> tuple[str, list[StreamEntry], list[str]]:
    """One XAUTOCLAIM step: (next cursor, claimed entries, ids deleted while pending)."""
    reply = await client.execute_command("XAUTOCLAIM", stream, group, consumer, min_idle_ms, cursor, "COUNT", count)
    next_cursor, raw, *rest = reply
    entries = []
    field = entry_field.encode()
    for entry_id, flat in raw:
        payload = None
        if flat:
            # redis-py parses the reply into a dict; a raw reply is a flat list.
            pairs = flat if isinstance(flat, dict) else dict(zip(flat[::2], flat[1::2], strict=False))
            payload = pairs.get(field)
        entries.append(StreamEntry(_text(entry_id), payload))
    deleted = [_text(i) for i in rest[0]] if rest else []
    return _text(next_cursor), entries, deleted
