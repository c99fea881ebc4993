"""ACA-Py events to Redis: webhook jobs for the deliverers and/or the events streams.

Subscribes the configured topic regexes (default: what ACA-Py's own webhooks
send). The event bus runs subscribers as concurrent tasks, so each event is
put on an in-memory queue before the handler's first await, and one writer
task publishes them in that order. A Redis error never drops an event: the
writer retries the same job (same mid, deduplicated by `outbound_seen`); a
write that hangs is abandoned after WRITE_TIMEOUT_S and tried again.

The queue holds at most `events.queue_max` events. Beyond that, an event waits
(in order, in its bus task) until the writer has room; it is never dropped. Such
waits are counted (`overflowed`) and logged; the inbound message whose events
are not in Redis in time is not acknowledged (`written_so_far` returns False).

An event raised while an inbound message is handled (its `inbound_writes`)
waits up to COMMIT_LINGER_S for that message's own writes (its outbound jobs
and acknowledgement, `commit`): they then go to Redis together, in order, in
one call (write_batch), the acknowledgement after them.

Webhooks (`events.webhooks_via_deliverer`): `POST {url}/topic/{topic}/` with
ACA-Py's JSON body and headers (`x-api-key` from `url#key`, `x-wallet-id` for
sub-wallets), ordered per connection (recipient key "webhook:<connection id>",
or the wallet id, or "webhook:base"). ACA-Py's own webhook posting is switched
off at startup so controllers do not get every event twice.
"""

import asyncio
import collections
import json
import logging
import re
import time
from dataclasses import dataclass, field

from redis.asyncio import RedisCluster

from acapy_bridge.codec import encode_envelope
from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge.write_batch import Ack, Append, Applied, Write, merged_acks, write_batch
from acapy_bridge_shim import inbound_writes
from acapy_bridge_shim.acapy_compat import disable_webhook_router, held_back_event_handlers
from acapy_bridge_shim.config import EventSettings, ShimConfig
from acapy_bridge_shim.events_topics import ACAPY_WEBHOOK_EVENT_PATTERNS, webhook_topic_for
from acapy_bridge_shim.inbound_writes import CommitFailed, MessageWrites
from acapy_bridge_shim.outbound_jobs import OutboundBusyError, enqueue_job, job_write, new_mid, now_ms

LOGGER = logging.getLogger(__name__)

# One write to Redis taking longer than this is abandoned and retried (same mid).
WRITE_TIMEOUT_S = 10.0
# How often a full queue is logged while it stays full.
OVERFLOW_LOG_EVERY_S = 5.0
# How long an event raised while an inbound message is handled waits for that message's writes to share a call.
COMMIT_LINGER_S = 0.05


@dataclass
class _Queued:
    """An event taken from the bus, in its turn."""

    profile: object
    topic: str
    payload: object
    created: int
    # The inbound message being handled when it was raised (its writes may carry it), or None.
    owner: MessageWrites | None
    queued_at: float = field(default_factory=time.monotonic)


@dataclass
class _Rider:
    """One inbound message's writes, to go after every event raised before them."""

    writes: list[Write]
    # Events accepted when it came: all of them go to Redis first.
    after_events: int
    deadline: float
    done: asyncio.Future


def selected_topics(config: ShimConfig) -> tuple[str, ...]:
    """The configured topic regexes; left at the default, exactly the events ACA-Py sends webhooks for."""
    if tuple(config.events.topics) == EventSettings().topics:
        return ACAPY_WEBHOOK_EVENT_PATTERNS
    return tuple(config.events.topics)


def payload_json(payload) -> str:
    """The event payload as ACA-Py's webhook body: `json.dumps(payload)`."""
    if hasattr(payload, "serialize"):
        payload = payload.serialize()
    try:
        return json.dumps(payload)
    except TypeError:
        return json.dumps(payload, default=str)


def webhook_targets(urls) -> list[tuple[str, str | None]]:
    """`url#apikey` -> (url, apikey), as ACA-Py's `enqueue_webhook` splits it."""
    out = []
    for raw in urls or []:
        parts = str(raw).split("#")
        out.append((parts[0], parts[1] if len(parts) > 1 else None))
    return out


def ordering_key(payload, wallet_id: str | None) -> str:
    connection_id = payload.get("connection_id") if isinstance(payload, dict) else None
    return f"webhook:{connection_id or wallet_id or 'base'}"


class EventPublisher:
    """One per ACA-Py process: an ordered queue of events and the task that writes them."""

    def __init__(self, runtime, config: ShimConfig, *, monitor_forward: bool = False):
        self._runtime = runtime
        self._config = config
        self._monitor_forward = monitor_forward
        self._queue: asyncio.Queue = asyncio.Queue()
        self._queue_max = config.events.queue_max
        # Events waiting for room in the queue, oldest first, each with the future its bus task awaits.
        self._overflow: collections.deque = collections.deque()
        self.overflowed = 0  # events that had to wait for room
        self._overflow_logged_at = 0.0
        self._writer: asyncio.Task | None = None
        self._closing = False
        self._bus = None
        self.published = 0
        # Events taken from the bus, and events the writer is done with (written, or unserialisable).
        self.accepted = 0
        self.handled = 0
        self._waiters: list[tuple[int, asyncio.Future]] = []
        # Inbound messages' writes waiting for the writer, in arrival order, and those it is writing.
        self._riders: collections.deque[_Rider] = collections.deque()
        self._riders_writing: list[_Rider] = []
        # An event the writer took from the queue and holds while its message's writes may still come.
        self._held: _Queued | None = None
        self._wake = asyncio.Event()

    def subscribe(self, bus) -> None:
        # One subscription for all patterns: an event matching several is still published once.
        combined = "|".join(f"(?:{p})" for p in selected_topics(self._config))
        bus.subscribe(re.compile(combined), self.on_event)
        self._bus = bus

    async def on_event(self, profile, event) -> None:
        # No await before the event is queued or in the overflow line: the bus starts handlers in event order.
        item = _Queued(profile, event.topic, event.payload, now_ms(), inbound_writes.owner())
        self.accepted += 1
        self._start_writer()
        if not self._overflow and self._queue.qsize() < self._queue_max:
            self._queue.put_nowait(item)
            self._wake.set()
            return
        # Full: this bus task waits its turn (the writer moves it into the queue); nothing is dropped.
        room = asyncio.get_running_loop().create_future()
        self._overflow.append((item, room))
        self.overflowed += 1
        now = time.monotonic()
        if now - self._overflow_logged_at >= OVERFLOW_LOG_EVERY_S:
            self._overflow_logged_at = now
            LOGGER.warning(
                "acapy-bridge: event queue full (%d waiting for Redis, %d more waiting for room, %d overflows so far)",
                self._queue.qsize(),
                len(self._overflow),
                self.overflowed,
            )
        # Cancelled or not, the item stays in line and is written.
        await asyncio.shield(room)

    def _start_writer(self) -> None:
        if self._writer is None and not self._closing:
            self._writer = asyncio.create_task(self._write_loop(), name="acapy-bridge-events")

    def _admit_waiting(self) -> None:
        """Moves waiting events into the queue, oldest first, while there is room."""
        while self._overflow and self._queue.qsize() < self._queue_max:
            item, room = self._overflow.popleft()
            self._queue.put_nowait(item)
            if not room.done():
                room.set_result(None)

    @property
    def waiting(self) -> int:
        """Events accepted from the bus and not yet written (queued or waiting for room)."""
        return self._queue.qsize() + len(self._overflow)

    def jobs_for(self, profile, topic: str, payload, created: int) -> tuple[list[pb.OutboundJob], pb.AgentEvent | None]:
        settings = profile.settings
        wallet_id = settings.get("wallet.id") or ""
        webhook_topic = webhook_topic_for(topic, monitor_forward=self._monitor_forward)
        body = None
        jobs = []
        if self._config.events.webhooks_via_deliverer and webhook_topic:
            body = payload_json(payload)
            for url, api_key in webhook_targets(settings.get("admin.webhook_urls")):
                headers = {}
                if api_key is not None:
                    headers["x-api-key"] = api_key
                if wallet_id:
                    headers["x-wallet-id"] = wallet_id
                jobs.append(
                    pb.OutboundJob(
                        mid=new_mid(created),
                        kind=pb.JOB_KIND_WEBHOOK,
                        recipient_key=ordering_key(payload, wallet_id),
                        endpoint=f"{url}/topic/{webhook_topic}/",
                        content_type="application/json",
                        body=body.encode(),
                        headers=headers,
                        created_at_ms=created,
                        expires_at_ms=created + self._config.outbound.expiry_s * 1000,
                        wallet_id=wallet_id,
                        connection_id=(payload.get("connection_id") or "") if isinstance(payload, dict) else "",
                        producer_id=self._runtime.instance_id,
                    )
                )
        event = None
        if self._config.events.to_stream:
            event = pb.AgentEvent(
                mid=new_mid(created),
                topic=topic,
                webhook_topic=webhook_topic or "",
                wallet_id=wallet_id,
                payload_json=(body or payload_json(payload)).encode(),
                created_at_ms=created,
                ordering_key=ordering_key(payload, wallet_id),
            )
        return jobs, event

    async def _write_loop(self) -> None:
        while True:
            if self._held is None and self._queue.empty() and not self._riders:
                self._wake.clear()
                await self._wake.wait()
                continue
            item, self._held = self._held, None
            if item is None and not self._queue.empty():
                item = self._queue.get_nowait()
                self._admit_waiting()
            if item is not None and item.owner is None and not self._riders:
                await self._write_alone(item)
                continue
            if item is not None and item.owner is not None and not item.owner.settled.is_set() and not self._riders:
                left = item.queued_at + COMMIT_LINGER_S - time.monotonic()
                if left > 0:
                    # Its message's writes (jobs, acknowledgement) are likely to come: one call for all.
                    self._held = item
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), left)
                    except TimeoutError:
                        pass
                    continue
            await self._write_together(item)

    async def _write_alone(self, item: _Queued) -> None:
        """One event by itself, each of its writes retried until it is in Redis (no inbound message waits for it)."""
        try:
            jobs, event = self.jobs_for(item.profile, item.topic, item.payload, item.created)
        except Exception:  # noqa: BLE001 - one bad event must not stop the others
            LOGGER.exception("acapy-bridge: cannot serialise event %s", item.topic)
            self._done_with_one()
            return
        for job in jobs:
            await self._patiently(lambda job=job: self._enqueue(job), item.topic)
        if event is not None:
            await self._patiently(lambda event=event: self._append_event(event), item.topic)
        self.published += 1
        self._done_with_one()

    async def _write_together(self, first: _Queued | None) -> None:
        """Events and inbound messages' writes in one call (write_batch), in their order, until all are in Redis.

        Every event accepted before a message's writes came goes first. A full partition stops the
        call there: what came before is in Redis, the rest is tried again; a message whose writes
        are still not in Redis by its deadline is given up (it is not acknowledged, and delivered again).
        """
        riders = [r for r in self._riders if not r.done.done()]
        self._riders.clear()
        self._riders_writing = riders
        items = [first] if first is not None else []
        needed = max((r.after_events for r in riders), default=0)
        while self.handled + len(items) < needed and not self._queue.empty():
            items.append(self._queue.get_nowait())
            self._admit_waiting()
        delay = 0.2
        while True:  # the keys need the deployment's keyspace: connected first
            try:
                runtime = await self._runtime.connect()
                break
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis away: events wait, messages past their deadline give up
                LOGGER.warning("acapy-bridge: events not written yet (%s); retrying", error)
                riders = [r for r, _ in self._give_up_late([(r, []) for r in riders], error)]
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        # Each unit: an event (its writes) or a rider, with the writes it still has to make.
        units: list[tuple[_Queued | _Rider, list[Write]]] = []
        for item in items:
            try:
                units.append((item, self._event_writes(item)))
            except Exception:  # noqa: BLE001 - one bad event must not stop the others
                LOGGER.exception("acapy-bridge: cannot serialise event %s", item.topic)
                units.append((item, []))
        units += [(rider, list(rider.writes)) for rider in riders]
        delay = 0.2
        one_call = not isinstance(runtime.client, RedisCluster)
        while units:
            units = [(u, w) for u, w in units if not (isinstance(u, _Rider) and u.done.done())]
            batch = merged_acks([w for _, writes in units for w in writes])
            try:
                outcome = await asyncio.wait_for(
                    write_batch(runtime.scripts, runtime.client, batch, one_call=one_call),
                    WRITE_TIMEOUT_S,
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis away: the same writes again (enqueues deduplicated)
                LOGGER.warning("acapy-bridge: %d events and writes not written yet (%s); retrying", len(units), error)
                units = self._give_up_late(units, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if isinstance(outcome, Applied):
                for unit, _ in units:
                    self._finish(unit, outcome.gone)
                return
            # Stopped at a full partition: the writes (acknowledgements excepted) before `at` are in Redis.
            units = self._after_applied(units, outcome.at)
            LOGGER.info(
                "acapy-bridge: events and writes wait for a full outbound partition (%d jobs waiting)",
                outcome.backlog,
            )
            units = self._give_up_late(units, OutboundBusyError(-1, outcome.backlog))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _event_writes(self, item: _Queued) -> list[Write]:
        jobs, event = self.jobs_for(item.profile, item.topic, item.payload, item.created)
        keyspace = self._runtime.keyspace
        assert keyspace is not None  # connected
        writes: list[Write] = [job_write(keyspace, self._config.outbound, job) for job in jobs]
        if event is not None:
            partition = partition_of(event.ordering_key, keyspace.partition_count("events"))
            writes.append(
                Append(
                    stream=keyspace.key("events", partition=partition),
                    entry_field=keyspace.spec("events").entry_field,
                    envelope=encode_envelope(event),
                    max_length=self._config.events.stream_max_length,
                )
            )
        return writes

    def _after_applied(self, units: list, applied: int) -> list:
        """The units with the writes that are in Redis taken off; events wholly written are finished."""
        left = []
        for unit, writes in units:
            others = [w for w in writes if not isinstance(w, Ack)]
            acks = [w for w in writes if isinstance(w, Ack)]
            done = min(applied, len(others))
            applied -= done
            remaining = others[done:] + acks
            if not remaining:
                self._finish(unit, 0)
            else:
                left.append((unit, remaining))
        return left

    def _give_up_late(self, units: list, error: Exception) -> list:
        """Messages whose writes are not in Redis by their deadline are told so (events are never given up)."""
        now = time.monotonic()
        left = []
        for unit, writes in units:
            if isinstance(unit, _Rider) and now >= unit.deadline:
                if not unit.done.done():
                    unit.done.set_exception(CommitFailed(f"{type(error).__name__}: {error}"))
                continue
            left.append((unit, writes))
        return left

    def _finish(self, unit: "_Queued | _Rider", gone: int) -> None:
        if isinstance(unit, _Rider):
            if not unit.done.done():
                unit.done.set_result(gone)
            return
        self.published += 1
        self._done_with_one()

    async def commit(self, writes: list[Write], timeout_s: float, busy_retry_s: float) -> int:
        """Writes an inbound message's writes after every event raised so far, in one call with them.

        Returns the number of signals dropped (their relay is gone). Raises CommitFailed when they
        are not all in Redis within busy_retry_s of a full partition or Redis error, or timeout_s.
        """
        if self._closing:
            raise CommitFailed("the event publisher closed")
        held_back = held_back_event_handlers(self._bus)
        if held_back:
            await asyncio.wait(held_back, timeout=timeout_s)
        await asyncio.sleep(0)  # handlers already started queue their events in their first step
        rider = _Rider(
            writes=writes,
            after_events=self.accepted,
            deadline=time.monotonic() + busy_retry_s,
            done=asyncio.get_running_loop().create_future(),
        )
        self._riders.append(rider)
        self._start_writer()
        self._wake.set()
        try:
            return await asyncio.wait_for(asyncio.shield(rider.done), timeout_s)
        except TimeoutError:
            rider.done.cancel()  # the writer drops what it has not written yet, the acknowledgement with it
            raise CommitFailed(f"not in Redis after {timeout_s:.0f} s") from None

    def _done_with_one(self) -> None:
        self.handled += 1
        self._queue.task_done()
        if self._waiters:
            still = []
            for target, waiter in self._waiters:
                if self.handled >= target:
                    if not waiter.done():
                        waiter.set_result(None)
                else:
                    still.append((target, waiter))
            self._waiters = still

    async def written_so_far(self, timeout_s: float) -> bool:
        """Waits until every event raised before this call is in Redis; False after timeout_s.

        The inbound transport calls it before acknowledging a message, so the events
        (webhooks) that processing the message raised survive a crash of this process:
        they are in Redis, or the message is redelivered. ACA-Py's bus runs handlers as
        tasks; one turn of the loop runs the first step of those already started (which
        queues the event here), and handlers the bus holds back start when it has room.
        """
        held_back = held_back_event_handlers(self._bus)
        if held_back:
            await asyncio.wait(held_back, timeout=timeout_s)
        await asyncio.sleep(0)
        target = self.accepted
        if self.handled >= target:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        try:
            await asyncio.wait_for(waiter, timeout_s)
            return True
        except TimeoutError:
            return False

    async def _patiently(self, write, topic: str) -> None:
        delay = 0.2
        while True:
            try:
                await asyncio.wait_for(write(), WRITE_TIMEOUT_S)
                self._runtime.metrics.events_written += 1
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis away or partition full: keep the order, retry
                if not isinstance(error, OutboundBusyError):
                    self._runtime.metrics.count_redis_error("event")
                level = logging.INFO if isinstance(error, OutboundBusyError) else logging.WARNING
                LOGGER.log(level, "acapy-bridge: event %s not written yet (%s); retrying", topic, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _enqueue(self, job: pb.OutboundJob) -> None:
        runtime = await self._runtime.connect()
        await enqueue_job(runtime.scripts, runtime.keyspace, self._config.outbound, job)

    async def _append_event(self, event: pb.AgentEvent) -> None:
        runtime = await self._runtime.connect()
        keyspace = runtime.keyspace
        partition = partition_of(event.ordering_key, keyspace.partition_count("events"))
        await runtime.client.xadd(
            keyspace.key("events", partition=partition),
            {keyspace.spec("events").entry_field: encode_envelope(event)},
            maxlen=self._config.events.stream_max_length,
            approximate=True,
        )

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Waits (bounded) until every queued event is written."""
        if self._writer is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout_s)
        except TimeoutError:
            LOGGER.warning("acapy-bridge: %d events not written at shutdown", self.waiting)

    async def close(self, timeout_s: float = 5.0) -> None:
        self._closing = True
        await self.drain(timeout_s)
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass
            self._writer = None
        # Messages whose writes wait now stay unacknowledged (delivered again), without waiting for their timeout.
        for rider in [*self._riders_writing, *self._riders]:
            if not rider.done.done():
                rider.done.set_exception(CommitFailed("the event publisher closed"))
        self._riders.clear()


def register_events(context, runtime, config: ShimConfig) -> EventPublisher | None:
    """Subscribes the configured topics when events go to the deliverer or the streams."""
    if not (config.events.webhooks_via_deliverer or config.events.to_stream):
        return None
    from acapy_agent.core.event_bus import EventBus

    bus = context.inject(EventBus)
    publisher = EventPublisher(runtime, config, monitor_forward=bool(context.settings.get("monitor_forward")))
    publisher.subscribe(bus)
    context.injector.bind_instance(EventPublisher, publisher)

    if config.events.webhooks_via_deliverer:

        async def take_over_webhooks(profile, event) -> None:
            # ACA-Py would post the same webhooks itself; its admin /ws stream stays as it is.
            from acapy_agent.admin.base_server import BaseAdminServer

            admin = profile.inject_or(BaseAdminServer)
            if admin is not None:
                disable_webhook_router(admin)
                LOGGER.info("acapy-bridge: webhooks now go through the deliverers")

        bus.subscribe(re.compile(r"^acapy::core::startup$"), take_over_webhooks)
    return publisher
