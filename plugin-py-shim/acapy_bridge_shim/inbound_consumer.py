"""Reads the inbound partitions as consumer group `acapy` and hands entries to ACA-Py.

At-least-once: an entry stays pending until its reply (if any) is in the
origin relay's inbox and the hand-off to ACA-Py is done; only then is it
acknowledged (inbound_entries.py). This module reads: its own pending entries
first, then new ones, in one blocking read over all partitions (on a Redis
Cluster, whose reads cannot span slots, one loop per partition), only while a slot is free
(inbound_in_flight.py); and it claims the entries of consumers that died
(no heartbeat) or got stuck (idle beyond `claim_idle_ms`).

This module knows Redis and the contract, not ACA-Py: the transport in
`inbound.py` supplies `deliver` (hand one AgentMessage to ACA-Py) and
`requeue` (send a returned direct response through ACA-Py).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import RedisCluster

from acapy_bridge.keyspace import Keyspace
from acapy_bridge.lingering_acks import LingeringAcks
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import (
    StreamEntry,
    auto_claim,
    ensure_group,
    read_group,
    read_groups,
)
from acapy_bridge_shim.config import InboundSettings
from acapy_bridge_shim.inbound_entries import InboundEntries
from acapy_bridge_shim.inbound_in_flight import InFlight, RecentlyFinished
from acapy_bridge_shim.inbound_outcome import Deliver, Requeue
from acapy_bridge_shim.inbound_writes import Commit, direct_commit
from acapy_bridge_shim.relay_inbox_writer import REPLY_RETRY_DELAYS_S, RelayInboxWriter

LOGGER = logging.getLogger(__name__)

# How long a handled entry's acknowledgement waits for others to share its Redis call.
ACK_LINGER_S = 0.02


class InboundConsumer:
    def __init__(
        self,
        *,
        client: Any,
        scripts: Scripts,
        keyspace: Keyspace,
        consumer: str,
        settings: InboundSettings,
        deliver: Deliver,
        requeue: Requeue,
        live_consumers: Callable[[], Awaitable[list[str]]],
        claim_interval_s: float | None = None,
        reply_retry_delays_s: tuple[float, ...] = REPLY_RETRY_DELAYS_S,
        commit: Commit | None = None,
    ):
        self._client = client
        self.consumer = consumer
        self._settings = settings
        self._live_consumers = live_consumers
        spec = keyspace.spec("inbound_queue")
        self._group = spec.consumer_group
        self._field = spec.entry_field
        self._streams = keyspace.all_partitions("inbound_queue")
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
        self._acks = LingeringAcks(scripts, self._group, ACK_LINGER_S)
        self._replies = RelayInboxWriter(
            scripts=scripts, keyspace=keyspace, stats=self.stats, retry_delays_s=reply_retry_delays_s
        )
        finished = RecentlyFinished()
        entries = InboundEntries(
            scripts=scripts,
            keyspace=keyspace,
            consumer=consumer,
            settings=settings,
            acks=self._acks,
            finished=finished,
            replies=self._replies,
            deliver=deliver,
            requeue=requeue,
            # A handled message's writes and acknowledgement, in one call (without an event publisher to go after).
            commit=commit or direct_commit(scripts, client, one_call=not isinstance(client, RedisCluster)),
            stats=self.stats,
        )
        self._in_flight = InFlight(settings.concurrency, self._acks, finished, entries.process)
        self._tasks: list[asyncio.Task] = []
        self._stopping = False
        self._stopper: asyncio.Future | None = None
        self._claim_interval_s = claim_interval_s or max(0.5, min(5.0, settings.claim_idle_ms / 4000))
        self._stuck_check_s = max(self._claim_interval_s, settings.claim_idle_ms / 4000)
        self._pending_at_last_sweep = True

    @property
    def stopping(self) -> bool:
        """True once stop() was called: nothing is read or claimed any more."""
        return self._stopping

    @property
    def _reply_retry_delays_s(self) -> tuple[float, ...]:
        """The waits between attempts to write to a relay's inbox (tests shorten them)."""
        return self._replies.retry_delays_s

    @_reply_retry_delays_s.setter
    def _reply_retry_delays_s(self, delays: tuple[float, ...]) -> None:
        self._replies.retry_delays_s = delays

    async def start(self) -> None:
        for stream in self._streams:
            await ensure_group(self._client, stream, self._group)
        if isinstance(self._client, RedisCluster):
            # One read cannot span hash slots: a loop per partition.
            for index, stream in enumerate(self._streams):
                self._tasks.append(asyncio.create_task(self._read_loop([stream]), name=f"acapy-bridge-inbound-{index}"))
        else:
            # One blocking read over all partitions: an idle shim makes one call per block_ms, not one per partition.
            self._tasks.append(asyncio.create_task(self._read_loop(self._streams), name="acapy-bridge-inbound"))
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
        await self._in_flight.settle(grace_s)
        await self._acks.close()

    # ---- reading ----

    async def _read_loop(self, streams: list[str]) -> None:
        batch = max(1, min(self._settings.concurrency, 16))
        catch_up = True  # own pending entries first (a lost reply leaves entries pending under our name)
        while not self._stopping:
            try:
                await self._in_flight.wait_for_room()
                if catch_up:
                    for stream in streams:
                        await self._read_own_pending(stream, batch)
                    catch_up = False
                found = await read_groups(
                    self._client,
                    streams=streams,
                    group=self._group,
                    consumer=self.consumer,
                    entry_field=self._field,
                    count=batch,
                    block_ms=self._settings.block_ms,
                )
                for stream, entries in found:
                    for entry in entries:
                        await self._in_flight.spawn(stream, entry, 1)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep reading through Redis outages
                if self._stopping:
                    return
                LOGGER.warning("acapy-bridge inbound: reading %s failed (%s); retrying", ", ".join(streams), error)
                catch_up = True
                await asyncio.sleep(0.5)

    async def _read_own_pending(self, stream: str, batch: int) -> None:
        """Starts the entries pending under this consumer's name in `stream` (read before, never acknowledged)."""
        after = "0"
        while not self._stopping:
            await self._in_flight.wait_for_room()
            entries = await read_group(
                self._client,
                stream=stream,
                group=self._group,
                consumer=self.consumer,
                entry_field=self._field,
                count=batch,
                after=after,
            )
            if not entries:
                return
            after = entries[-1].id
            counts = await self._delivery_counts(stream, [e.id for e in entries])
            for entry in entries:
                await self._in_flight.spawn(stream, entry, counts.get(entry.id, 1))

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
        # Every tick reads who is live (one call); the sweep over the partitions (an XPENDING each) runs
        # only when it can find something: a consumer left the live set since the last tick (a dead
        # one's entries), the last sweep saw entries pending (they may become idle), or claim_idle_ms/4
        # passed since the last sweep (entries of a live consumer that got stuck). An idle shim then
        # sweeps every claim_idle_ms/4 (15 s), not every tick (5 s).
        known_live: set[str] | None = None
        last_sweep = float("-inf")
        while not self._stopping:
            try:
                await asyncio.sleep(self._claim_interval_s)
                live = set(await self._live_consumers())
                someone_left = known_live is None or bool(known_live - live)
                known_live = live
                stuck_check_due = time.monotonic() - last_sweep >= self._stuck_check_s
                if someone_left or self._pending_at_last_sweep or stuck_check_due:
                    last_sweep = time.monotonic()
                    await self.claim_once(live)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001
                LOGGER.warning("acapy-bridge inbound: claiming failed: %s", error)

    async def claim_once(self, live_consumers: set[str] | None = None) -> int:
        """Takes the pending entries of dead consumers, and of any consumer idle beyond claim_idle_ms."""
        live = set(live_consumers if live_consumers is not None else await self._live_consumers())
        live.add(self.consumer)
        self._pending_at_last_sweep = False
        claimed = 0
        for stream in self._streams:
            summary = await self._client.xpending(stream, self._group)
            if not summary.get("pending"):
                continue  # nothing pending, nothing to claim: spares the idle sweep most of its calls
            self._pending_at_last_sweep = True
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
                fresh = [e for e in entries if not self._in_flight.busy(stream, e.id)]
                if fresh:
                    counts = await self._delivery_counts(stream, [e.id for e in fresh])
                    started = 0
                    for entry in fresh:
                        started += await self._in_flight.spawn(stream, entry, counts.get(entry.id, 1))
                    claimed += started
                    LOGGER.info("acapy-bridge inbound: claimed %d idle entries of %s", started, stream)
                if cursor == "0-0":
                    break
        self.stats["claimed"] += claimed
        return claimed

    async def _handle_claimed(self, stream: str, raw: Any, why: str) -> int:
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
            started += await self._in_flight.spawn(stream, entry, counts.get(entry.id, 1))
        return started
