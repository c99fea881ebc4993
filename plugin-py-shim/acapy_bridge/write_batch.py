"""Several stream writes of one process in one Redis call (write_batch.lua), in order.

Each write does what its own script does (enqueue, ack; `Append` is a plain
XADD with MAXLEN ~; `Signal` a PUBLISH of a bodiless command to its relay). The batch stops at the
first enqueue whose partition is full: the writes before it are applied, none
after it. A Cluster client cannot run one script over keys of several slots: it
makes the same writes one call each, with the same stop rule.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from acapy_bridge.scripts import Scripts


@dataclass(frozen=True)
class Enqueue:
    """An envelope for a work stream, at most once per `seen` marker, refused at the high-water mark."""

    stream: str
    seen: str | None
    entry_field: str
    envelope: bytes
    high_water_mark: int
    seen_ttl_ms: int


@dataclass(frozen=True)
class Append:
    """An entry for a capped stream (the events streams): never refused."""

    stream: str
    entry_field: str
    envelope: bytes
    max_length: int


@dataclass(frozen=True)
class Signal:
    """A bodiless command published to its relay's channel: not stored, gone when no relay listens."""

    channel: str
    command: bytes


@dataclass(frozen=True)
class Ack:
    """Acknowledge and delete entries of a consumer group's stream."""

    stream: str
    group: str
    ids: tuple[str, ...]


Write = Enqueue | Append | Signal | Ack


@dataclass(frozen=True)
class Applied:
    # Signals that reached no subscriber (their relay is gone).
    gone: int


@dataclass(frozen=True)
class StoppedAtFull:
    # Writes [0, at) are applied, none from `at` on; `at` is an Enqueue to a partition holding `backlog`.
    at: int
    backlog: int


BatchOutcome = Applied | StoppedAtFull


def encode(writes: Sequence[Write]) -> tuple[list[str], list[bytes]]:
    """KEYS and ARGV of write_batch.lua: each key once, referenced by its 1-based index."""
    keys: list[str] = []
    index: dict[str, int] = {}

    def ref(key: str) -> bytes:
        at = index.get(key)
        if at is None:
            keys.append(key)
            at = index[key] = len(keys)
        return str(at).encode()

    args: list[bytes] = []
    for write in writes:
        match write:
            case Enqueue():
                seen = ref(write.seen) if write.seen else b"0"
                args += [
                    b"enqueue",
                    ref(write.stream),
                    seen,
                    write.entry_field.encode(),
                    write.envelope,
                    str(write.high_water_mark).encode(),
                    str(write.seen_ttl_ms).encode(),
                ]
            case Append():
                args += [
                    b"append",
                    ref(write.stream),
                    write.entry_field.encode(),
                    write.envelope,
                    str(write.max_length).encode(),
                ]
            case Signal():
                args += [b"signal", write.channel.encode(), write.command]
            case Ack():
                args += [b"ack", ref(write.stream), write.group.encode(), str(len(write.ids)).encode()]
                args += [i.encode() for i in write.ids]
    return keys, args


async def write_batch(scripts: Scripts, client, writes: Sequence[Write], *, one_call: bool) -> BatchOutcome:
    """Applies `writes` in order: in one call (`one_call`, standalone Redis), or one call each (Cluster)."""
    if not writes:
        return Applied(0)
    if one_call:
        keys, args = encode(writes)
        reply = await scripts.write_batch(keys=keys, ops=args)
        if reply[0] == "OK":
            return Applied(reply[1])
        return StoppedAtFull(reply[1], reply[2])
    gone = 0
    for at, write in enumerate(writes):
        match write:
            case Enqueue():
                status, detail = await scripts.enqueue(
                    stream=write.stream,
                    seen=write.seen,
                    entry_field=write.entry_field,
                    envelope=write.envelope,
                    high_water_mark=write.high_water_mark,
                    seen_ttl_ms=write.seen_ttl_ms,
                )
                if status == "BUSY":
                    return StoppedAtFull(at, int(detail))
            case Append():
                await client.xadd(
                    write.stream,
                    {write.entry_field: write.envelope},
                    maxlen=write.max_length or None,
                    approximate=True,
                )
            case Signal():
                # A Cluster counts the subscribers of the node it was published on only: a count, nothing more.
                gone += await client.publish(write.channel, write.command) == 0
            case Ack():
                await scripts.ack(stream=write.stream, group=write.group, ids=list(write.ids))
    return Applied(gone)


def merged_acks(writes: Sequence[Write]) -> list[Write]:
    """The writes with their acknowledgements moved to the end, one per stream and group.

    Moving an acknowledgement later is always safe (it then also waits for the writes
    placed between); merging saves a call per entry inside the batch.
    """
    rest: list[Write] = []
    acks: dict[tuple[str, str], list[str]] = {}
    for write in writes:
        if isinstance(write, Ack):
            acks.setdefault((write.stream, write.group), []).extend(write.ids)
        else:
            rest.append(write)
    return rest + [Ack(stream, group, tuple(ids)) for (stream, group), ids in acks.items()]
