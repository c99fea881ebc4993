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

from acapy_bridge.codec import encode_envelope
from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.acapy_compat import disable_webhook_router, held_back_event_handlers
from acapy_bridge_shim.config import EventSettings, ShimConfig
from acapy_bridge_shim.events_topics import ACAPY_WEBHOOK_EVENT_PATTERNS, webhook_topic_for
from acapy_bridge_shim.outbound_jobs import OutboundBusyError, enqueue_job, new_mid, now_ms

LOGGER = logging.getLogger(__name__)

# One write to Redis taking longer than this is abandoned and retried (same mid).
WRITE_TIMEOUT_S = 10.0
# How often a full queue is logged while it stays full.
OVERFLOW_LOG_EVERY_S = 5.0


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

    def subscribe(self, bus) -> None:
        # One subscription for all patterns: an event matching several is still published once.
        combined = "|".join(f"(?:{p})" for p in selected_topics(self._config))
        bus.subscribe(re.compile(combined), self.on_event)
        self._bus = bus

    async def on_event(self, profile, event) -> None:
        # No await before the event is queued or in the overflow line: the bus starts handlers in event order.
        item = (profile, event.topic, event.payload, now_ms())
        self.accepted += 1
        if self._writer is None and not self._closing:
            self._writer = asyncio.create_task(self._write_loop(), name="acapy-bridge-events")
        if not self._overflow and self._queue.qsize() < self._queue_max:
            self._queue.put_nowait(item)
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
            profile, topic, payload, created = await self._queue.get()
            self._admit_waiting()
            try:
                jobs, event = self.jobs_for(profile, topic, payload, created)
            except Exception:  # noqa: BLE001 - one bad event must not stop the others
                LOGGER.exception("acapy-bridge: cannot serialise event %s", topic)
                self._done_with_one()
                continue
            for job in jobs:
                await self._patiently(lambda job=job: self._enqueue(job), topic)
            if event is not None:
                await self._patiently(lambda event=event: self._append_event(event), topic)
            self.published += 1
            self._done_with_one()

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
