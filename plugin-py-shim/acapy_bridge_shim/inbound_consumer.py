"""Reads the inbound partitions as consumer group `acapy` and hands entries to ACA-Py.

At-least-once: an entry stays pending until its reply (if any) is in the
origin relay's inbox and the hand-off to ACA-Py is done; only then is it
acknowledged (the `ack` script: XACK + XDEL), a little later and together
with others (`LingeringAcks`). Entries of consumers that died
(no heartbeat) or got stuck (idle beyond `claim_idle_ms`) are claimed; an
entry delivered more than `max_deliveries` times is dead-lettered as POISON.

This module knows Redis and the contract, not ACA-Py: the transport in
`inbound.py` supplies `deliver` (hand one AgentMessage to ACA-Py) and
`requeue` (send a returned direct response through ACA-Py).
"""

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from acapy_bridge.codec import EnvelopeDecodeError, decode_envelope, encode_envelope
from acapy_bridge.keyspace import KEY_SPECS, Keyspace
from acapy_bridge.lingering_acks import LingeringAcks
from acapy_bridge.partitioning import partition_of
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import (
    StreamEntry,
    auto_claim,
    bury_entry,
    enqueue_envelope,
    ensure_group,
    read_group,
)
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import InboundSettings
from acapy_bridge_shim.outbound_jobs import new_mid

LOGGER = logging.getLogger(__name__)

DEAD_LETTER_CAP = KEY_SPECS["inbound_dead_letters"].max_length
# How long a handled entry's acknowledgement waits for others to share its Redis call.
ACK_LINGER_S = 0.02
# Waits between the attempts to write a reply (or command) to a relay's inbox: about 6 s in all,
# well inside the relay's wait for a direct response.
REPLY_RETRY_DELAYS_S = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
# Entries this process finished (acknowledged or dead-lettered) are remembered this long, and at most
# this many: a claim (or a re-read of our own pending entries) that took them before they were done
# skips them instead of starting them again. Entry ids are never reused, so remembering longer only
# costs memory; the bound covers a claim that waits for slots behind slow handlers.
FINISHED_MEMORY_S = 600.0
FINISHED_MEMORY_MAX = 20_000
# A base58 Ed25519 verkey, as the relay tells one (packages/relay/src/envelope-recipient.ts).
_BASE58_VERKEY = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,64}$")


class RetryLater(Exception):
    """Raised by `deliver`: the entry is not acknowledged; it stays pending and is delivered again later."""


@dataclass
class Outcome:
    """What became of one AgentMessage in ACA-Py."""

    # Written to the origin relay's inbox before the entry is acknowledged.
    reply: pb.DirectReply | None = None
    # Tell the relay to close the message's socket (WebSocket parse errors, like ACA-Py's 1003).
    close_socket: tuple[int, str] | None = None
    # Dead-letter the entry instead of acknowledging it.
    dead_letter: tuple[int, str] | None = None


# deliver(message, reply_now) -> Outcome; reply_now writes a reply at once (before processing ends).
Deliver = Callable[[pb.AgentMessage, Callable[[pb.DirectReply], Awaitable[None]]], Awaitable[Outcome]]
# requeue(returned reply) -> None (sent, acknowledge it) or an Outcome whose dead_letter says why it cannot be.
Requeue = Callable[[pb.AgentMessage], Awaitable[Outcome | None]]


class RecentlyFinished:
    """Keys of entries finished a short while ago, bounded in time and in number (oldest forgotten first)."""

    def __init__(self, ttl_s: float = FINISHED_MEMORY_S, max_entries: int = FINISHED_MEMORY_MAX):
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._until: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._until)

    def add(self, key: str) -> None:
        self._until[key] = time.monotonic() + self._ttl_s
        self._until.move_to_end(key)
        while len(self._until) > self._max_entries:
            self._until.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        now = time.monotonic()
        while self._until:  # one ttl for all: the oldest expires first
            oldest, until = next(iter(self._until.items()))
            if until > now:
                break
            del self._until[oldest]
        return key in self._until


def _now_ms() -> int:
    return int(time.time() * 1000)


class InboundConsumer:
    def __init__(
        self,
        *,
        client,
        scripts: Scripts,
        keyspace: Keyspace,
        consumer: str,
        settings: InboundSettings,
        deliver: Deliver,
        requeue: Requeue,
        live_consumers: Callable[[], Awaitable[list[str]]],
        claim_interval_s: float | None = None,
        reply_retry_delays_s: tuple[float, ...] = REPLY_RETRY_DELAYS_S,
    ):
        self._client = client
        self._scripts = scripts
        self._keyspace = keyspace
        self.consumer = consumer
        self._settings = settings
        self._deliver = deliver
        self._requeue = requeue
        self._reply_retry_delays_s = reply_retry_delays_s
        self._live_consumers = live_consumers
        spec = keyspace.spec("inbound_queue")
        self._group = spec.consumer_group
        self._field = spec.entry_field
        self._streams = keyspace.all_partitions("inbound_queue")
        self._dlq_field = keyspace.spec("inbound_dead_letters").entry_field
        self._inbox_field = keyspace.spec("relay_inbox").entry_field
        self._acks = LingeringAcks(scripts, self._group, ACK_LINGER_S)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._in_flight: dict[str, asyncio.Task] = {}
        # Entries found (read or claimed) and waiting for a slot, as `stream|id`.
        self._reserved: set[str] = set()
        # Entries handled and acknowledged (or dead-lettered) here: a claim that took them in its
        # snapshot before they were done does not start them again. Failed entries are not in it.
        self._finished = RecentlyFinished()
        self._tasks: list[asyncio.Task] = []
        self._stopping = False
        self._stopper: asyncio.Future | None = None
        self._claim_interval_s = claim_interval_s or max(0.5, min(5.0, settings.claim_idle_ms / 4000))
        # Counters a test or an operator can read (also logged).
        self.stats = {
            "processed": 0,
            "replied": 0,
            "dead_lettered": 0,
            "claimed": 0,
            "returned_replies": 0,
            # Direct responses whose relay was gone, written back to the inbound partitions.
            "replies_handed_back": 0,
            # Replies without a body and CloseSockets for a gone relay.
            "dropped_commands": 0,
        }

    async def start(self) -> None:
        for stream in self._streams:
            await ensure_group(self._client, stream, self._group)
        for index, stream in enumerate(self._streams):
            self._tasks.append(asyncio.create_task(self._read_loop(stream), name=f"acapy-bridge-inbound-{index}"))
        self._tasks.append(asyncio.create_task(self._claim_loop(), name="acapy-bridge-inbound-claim"))

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stops reading, lets messages in hand finish (up to grace_s); the rest stay pending.

        Safe to call more than once and from several tasks (ACA-Py's transport manager and the
        runtime's shutdown both do): every caller returns once the one stop is complete.
        """
        if self._stopper is None:
            self._stopper = asyncio.ensure_future(self._stop(grace_s))
        await asyncio.shield(self._stopper)

    async def _stop(self, grace_s: float) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._in_flight:
            _done, pending = await asyncio.wait(list(self._in_flight.values()), timeout=grace_s)
            for task in pending:
                task.cancel()
            if pending:  # abandoned: give the cancellation a moment to land (they stay pending in Redis)
                await asyncio.wait(pending, timeout=1.0)
        await self._acks.close()

    # ---- reading ----

    async def _read_loop(self, stream: str) -> None:
        after = "0"  # own pending entries first (a lost reply leaves entries pending under our name)
        batch = max(1, min(self._settings.concurrency, 16))
        while not self._stopping:
            try:
                # Read only when there is room: entries wait in Redis, not in memory.
                await self._slots.acquire()
                self._slots.release()
                entries = await read_group(
                    self._client,
                    stream=stream,
                    group=self._group,
                    consumer=self.consumer,
                    entry_field=self._field,
                    count=batch,
                    after=after,
                    block_ms=self._settings.block_ms,
                )
                if after != ">":
                    if not entries:
                        after = ">"
                        continue
                    after = entries[-1].id
                    counts = await self._delivery_counts(stream, [e.id for e in entries])
                else:
                    counts = {}
                for entry in entries:
                    await self._spawn(stream, entry, counts.get(entry.id, 1))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep reading through Redis outages
                if self._stopping:
                    return
                LOGGER.warning("acapy-bridge inbound: reading %s failed (%s); retrying", stream, error)
                after = "0"
                await asyncio.sleep(0.5)

    def _busy(self, stream: str, entry_id: str) -> bool:
        """True while this process waits to handle, handles, or acknowledges the entry, or finished it lately."""
        key = f"{stream}|{entry_id}"  # ids are only unique within one stream
        return (
            key in self._in_flight
            or key in self._reserved
            or self._acks.holds(stream, entry_id)
            or key in self._finished
        )

    async def _spawn(self, stream: str, entry: StreamEntry, deliveries: int) -> bool:
        """Starts the entry once a slot is free; False when it is already in hand or done here.

        A claim (or a re-read) checks each entry of its snapshot only when it gets to it, after
        waiting for the slots of those before: what finished meanwhile is skipped then.
        """
        key = f"{stream}|{entry.id}"
        if self._busy(stream, entry.id):
            # claimed while we still work on it (or wait for a slot), done and about to be
            # acknowledged, or acknowledged (dead-lettered) since the snapshot was taken
            return False
        # Reserved before waiting for a slot: a read loop and a claim that both hold the entry
        # (the claim takes back what a reader waits with) must not both start it.
        self._reserved.add(key)
        try:
            await self._slots.acquire()
        finally:
            self._reserved.discard(key)
        task = asyncio.create_task(self._process(stream, entry, deliveries))
        self._in_flight[key] = task

        def done(_task: asyncio.Task) -> None:
            self._in_flight.pop(key, None)
            self._slots.release()

        task.add_done_callback(done)
        return True

    async def _delivery_counts(self, stream: str, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        rows = await self._client.xpending_range(stream, self._group, min=ids[0], max=ids[-1], count=len(ids) + 1000)
        out = {}
        for row in rows:
            entry_id = row["message_id"]
            entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            out[entry_id] = int(row["times_delivered"])
        return out

    # ---- claiming from dead or stuck consumers ----

    async def _claim_loop(self) -> None:
        while not self._stopping:
            try:
                await asyncio.sleep(self._claim_interval_s)
                await self.claim_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001
                LOGGER.warning("acapy-bridge inbound: claiming failed: %s", error)

    async def claim_once(self) -> int:
        """Takes the pending entries of dead consumers, and of any consumer idle beyond claim_idle_ms."""
        live = set(await self._live_consumers())
        live.add(self.consumer)
        claimed = 0
        for stream in self._streams:
            summary = await self._client.xpending(stream, self._group)
            if not summary.get("pending"):
                continue  # nothing pending, nothing to claim: spares the idle sweep most of its calls
            for row in summary.get("consumers") or []:
                name = row["name"].decode() if isinstance(row["name"], bytes) else row["name"]
                if name in live:
                    continue
                rows = await self._client.xpending_range(stream, self._group, "-", "+", 100, consumername=name)
                ids = [r["message_id"] for r in rows]
                if not ids:
                    continue
                # min idle 1 s: an entry just handed to that consumer by a reconnect is not taken.
                got = await self._client.xclaim(stream, self._group, self.consumer, 1000, ids)
                claimed += await self._handle_claimed(stream, got, f"consumer {name} is dead")
            cursor = "0-0"
            while True:
                cursor, entries, _deleted = await auto_claim(
                    self._client,
                    stream=stream,
                    group=self._group,
                    consumer=self.consumer,
                    min_idle_ms=self._settings.claim_idle_ms,
                    entry_field=self._field,
                    cursor=cursor,
                    count=100,
                )
                fresh = [e for e in entries if not self._busy(stream, e.id)]
                if fresh:
                    counts = await self._delivery_counts(stream, [e.id for e in fresh])
                    started = 0
                    for entry in fresh:
                        started += await self._spawn(stream, entry, counts.get(entry.id, 1))
                    claimed += started
                    LOGGER.info("acapy-bridge inbound: claimed %d idle entries of %s", started, stream)
                if cursor == "0-0":
                    break
        self.stats["claimed"] += claimed
        return claimed

    async def _handle_claimed(self, stream: str, raw, why: str) -> int:
        field = self._field.encode()
        entries = []
        for entry_id, fields in raw or []:
            entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            payload = fields.get(field) if isinstance(fields, dict) else None
            entries.append(StreamEntry(entry_id, payload))
        if not entries:
            return 0
        LOGGER.info("acapy-bridge inbound: claimed %d entries of %s (%s)", len(entries), stream, why)
        counts = await self._delivery_counts(stream, [e.id for e in entries])
        started = 0
        for entry in entries:
            started += await self._spawn(stream, entry, counts.get(entry.id, 1))
        return started

    # ---- one entry ----

    async def _process(self, stream: str, entry: StreamEntry, deliveries: int) -> None:
        try:
            await self._process_entry(stream, entry, deliveries)
        except asyncio.CancelledError:
            raise
        except RetryLater as later:  # expected (a failed handler, a timeout): one line, no traceback
            LOGGER.warning("acapy-bridge inbound: entry %s of %s: %s; it stays pending", entry.id, stream, later)
        except Exception:  # noqa: BLE001 - the entry stays pending; it is claimed later, then dead-lettered
            LOGGER.exception("acapy-bridge inbound: entry %s of %s failed; it stays pending", entry.id, stream)

    async def _process_entry(self, stream: str, entry: StreamEntry, deliveries: int) -> None:
        if entry.payload is None:  # deleted while pending
            self._acknowledge(stream, entry.id)
            return
        try:
            message = decode_envelope(pb.AgentMessage, entry.payload)
        except EnvelopeDecodeError as error:
            await self._bury(
                stream, entry.id, None, pb.DEAD_LETTER_REASON_MALFORMED, str(error), deliveries, entry.payload
            )
            return
        if deliveries > self._settings.max_deliveries:
            await self._bury(
                stream,
                entry.id,
                message,
                pb.DEAD_LETTER_REASON_POISON,
                f"delivered {deliveries} times (max_deliveries {self._settings.max_deliveries})",
                deliveries,
            )
            return
        if message.expires_at_ms and message.expires_at_ms < _now_ms():
            await self._bury(stream, entry.id, message, pb.DEAD_LETTER_REASON_EXPIRED, "expired", deliveries)
            return
        if message.kind == pb.INBOUND_KIND_RETURNED_REPLY:
            outcome = await self._requeue(message)
            self.stats["returned_replies"] += 1
            if outcome is not None and outcome.dead_letter:
                reason, detail = outcome.dead_letter
                await self._bury(stream, entry.id, message, reason, detail, deliveries)
            else:
                self._acknowledge(stream, entry.id)
            return
        if message.kind != pb.INBOUND_KIND_AGENT_MESSAGE:
            self._acknowledge(stream, entry.id)
            return

        async def reply_now(reply: pb.DirectReply) -> None:
            await self._write_reply(message, reply)

        outcome = await self._deliver(message, reply_now)
        # Logged before the acknowledgement: a crash after this line redelivers (a duplicate), never loses.
        LOGGER.debug("acapy-bridge inbound: processed mid=%s entry=%s", message.mid, entry.id)
        if outcome.reply is not None:
            await self._write_reply(message, outcome.reply)
        if outcome.close_socket and message.socket_id and message.relay_id:
            code, reason = outcome.close_socket
            await self._write_command(
                message.relay_id,
                pb.RelayCommand(close=pb.CloseSocket(socket_id=message.socket_id, code=code, reason=reason[:120])),
            )
        if outcome.dead_letter:
            reason, detail = outcome.dead_letter
            await self._bury(stream, entry.id, message, reason, detail, deliveries)
        else:
            self._acknowledge(stream, entry.id)
        self.stats["processed"] += 1

    def _acknowledge(self, stream: str, entry_id: str) -> None:
        """The entry is done: acknowledged soon (LingeringAcks retries a failed call), and remembered."""
        self._acks.add(stream, entry_id)
        self._finished.add(f"{stream}|{entry_id}")

    async def _write_reply(self, message: pb.AgentMessage, reply: pb.DirectReply) -> None:
        if not message.relay_id:
            return
        await self._write_command(message.relay_id, pb.RelayCommand(reply=reply))

    async def _write_command(self, relay_id: str, command: pb.RelayCommand) -> None:
        """Writes to the relay's inbox, retried through a brief Redis outage (the reply exists only here).

        Raises after the last attempt: the entry then stays pending and is handled again later.
        """
        what = command.WhichOneof("command")
        for attempt, delay in enumerate((*self._reply_retry_delays_s, None), start=1):
            try:
                await self._push_command(relay_id, command)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis away for a moment: try again
                if delay is None:
                    LOGGER.error(
                        "acapy-bridge inbound: writing %s to relay %s failed %d times (%s); giving up",
                        what,
                        relay_id,
                        attempt,
                        error,
                    )
                    raise
                LOGGER.warning(
                    "acapy-bridge inbound: writing %s to relay %s failed (attempt %d: %s); retrying in %.1f s",
                    what,
                    relay_id,
                    attempt,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _push_command(self, relay_id: str, command: pb.RelayCommand) -> None:
        # inbox_push, not enqueue: XADD would re-create the inbox of a relay the janitor retired.
        status, _ = await self._scripts.inbox_push(
            inbox=self._keyspace.key("relay_inbox", relay=relay_id),
            entry_field=self._inbox_field,
            command=encode_envelope(command),
        )
        if status == "OK":
            if command.WhichOneof("command") == "reply":
                self.stats["replied"] += 1
            return
        if status != "GONE":
            raise RuntimeError(f"inbox_push returned {status!r}")
        # The relay is dead and its inbox retired: the request or socket went with it.
        if command.WhichOneof("command") == "reply" and command.reply.body:
            await self._return_reply(relay_id, command.reply)
            return
        self.stats["dropped_commands"] += 1
        LOGGER.info(
            "acapy-bridge inbound: relay %s is gone; %s for mid=%s dropped (nothing to deliver)",
            relay_id,
            command.WhichOneof("command"),
            command.reply.mid if command.HasField("reply") else command.close.socket_id,
        )

    async def _return_reply(self, relay_id: str, reply: pb.DirectReply) -> None:
        """Hands a direct response whose relay is gone back to ACA-Py, as the relay janitor does."""
        verkey = reply.reply_to_verkey
        returned = pb.AgentMessage(
            mid=new_mid(),
            kind=pb.INBOUND_KIND_RETURNED_REPLY,
            recipient_key=verkey if _BASE58_VERKEY.match(verkey) else f"reply:{reply.mid}",
            content_type=reply.content_type,
            received_at_ms=_now_ms(),
            transport=pb.TRANSPORT_UNSPECIFIED,
            returned_reply=reply,
        )
        count = self._keyspace.partition_count("inbound_queue")
        await enqueue_envelope(
            self._scripts,
            stream=self._keyspace.key("inbound_queue", partition=partition_of(returned.recipient_key, count)),
            entry_field=self._field,
            payload=encode_envelope(returned),
            high_water_mark=0,  # never refuse: the reply exists only here now
        )
        self.stats["replies_handed_back"] += 1
        LOGGER.info(
            "acapy-bridge inbound: relay %s is gone; direct response to mid=%s handed back to ACA-Py as %s",
            relay_id,
            reply.mid,
            returned.mid,
        )

    async def _bury(
        self,
        stream: str,
        entry_id: str,
        message: pb.AgentMessage | None,
        reason: int,
        detail: str,
        deliveries: int,
        raw: bytes | None = None,
    ) -> None:
        letter = pb.DeadLetter(
            mid=message.mid if message is not None else f"entry:{entry_id}",
            reason=reason,
            detail=detail[:1000],
            attempts=deliveries,
            dead_at_ms=_now_ms(),
            source_key=stream,
            instance_id=self.consumer,
        )
        if message is not None:
            letter.agent_message.CopyFrom(message)
        else:
            letter.undecodable = raw or b""
        dlq = self._dead_letter_stream(stream)
        await bury_entry(
            self._scripts,
            stream=stream,
            dead_letter_stream=dlq,
            group=self._group,
            entry_id=entry_id,
            entry_field=self._dlq_field,
            dead_letter=encode_envelope(letter),
            dead_letter_cap=DEAD_LETTER_CAP,
        )
        # Acknowledged with it (XACK + XDEL): a claim that took it before must not handle it again.
        self._finished.add(f"{stream}|{entry_id}")
        self.stats["dead_lettered"] += 1
        LOGGER.warning(
            "acapy-bridge inbound: dead-lettered mid=%s reason=%s: %s",
            letter.mid,
            pb.DeadLetterReason.Name(reason),
            detail,
        )

    def _dead_letter_stream(self, stream: str) -> str:
        return self._keyspace.key("inbound_dead_letters", partition=self._streams.index(stream))
