"""ACA-Py inbound transport: DIDComm messages from the relay tier, through Redis.

Load with `-it acapy_bridge_shim.inbound <host> <port>` (host and port are
ignored) and `--plugin acapy_bridge_shim`. Each message becomes an ACA-Py
session exactly as ACA-Py's own HTTP transport makes one (inbound_delivery.py),
and its direct response (return route) goes back to the relay that holds the
agent's request or socket; one the relay could not deliver is sent again
through ACA-Py (inbound_returned_replies.py). ACA-Py picks the first
`BaseInboundTransport` subclass of this module in alphabetical order, so it
must be the only one here.

An entry is acknowledged only once ACA-Py's handler for it has succeeded and the
events it raised are in Redis. A handler that raised or was cancelled (ACA-Py
reports both as "processing complete", with `exc_info`), a transient error while
receiving, or a wait that timed out raises `RetryLater` to the consumer: the
entry stays pending and is delivered again (counting toward `max_deliveries`,
after which the consumer dead-letters it as poison). A handler that refused the
message (HandlerException) would refuse it again: it is dead-lettered at once.
"""

import asyncio
import logging
from typing import Any

from acapy_agent.transport.inbound.base import BaseInboundTransport
from redis.asyncio import RedisCluster

from acapy_bridge.write_batch import Write
from acapy_bridge_shim.acapy_compat import session_factory_of
from acapy_bridge_shim.config import load_config
from acapy_bridge_shim.events import EventPublisher
from acapy_bridge_shim.inbound_consumer import InboundConsumer
from acapy_bridge_shim.inbound_delivery import SessionDelivery
from acapy_bridge_shim.inbound_returned_replies import ReturnedReplies
from acapy_bridge_shim.inbound_writes import direct_commit

LOGGER = logging.getLogger(__name__)

START_RETRY_FIRST_S = 0.5
START_RETRY_MAX_S = 5.0


class RedisInboundTransport(BaseInboundTransport):
    """Takes DIDComm messages from the inbound partitions (consumer group `acapy`)."""

    def __init__(self, host: str, port: str, create_session: Any, **kwargs: Any) -> None:
        super().__init__("redis", create_session, **kwargs)
        self.host = host
        self.port = port
        # A bad configuration must stop ACA-Py here: a failing plugin or start() is only logged.
        self.config = load_config(self.root_profile.settings)
        self._consumer: InboundConsumer | None = None
        self._starter: asyncio.Task | None = None

    async def start(self) -> None:
        # Connect in the background: ACA-Py does not wait for (or check) start().
        self._starter = asyncio.create_task(self._start(), name="acapy-bridge-inbound-start")

    async def _start(self) -> None:
        """Connects and starts the consumer; every failure is logged and retried (backoff) until it runs."""
        delay = START_RETRY_FIRST_S
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._start_once()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis may come up (or finish loading) after ACA-Py
                if self._consumer is not None and self._consumer.stopping:
                    LOGGER.info("acapy-bridge inbound: stopped before it could start (%s)", error)
                    return
                LOGGER.warning(
                    "acapy-bridge inbound: not reading yet (attempt %d: %s: %s); retrying in %.1f s",
                    attempt,
                    type(error).__name__,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, START_RETRY_MAX_S)

    async def _start_once(self) -> None:
        from acapy_bridge_shim import runtime_for

        runtime = await runtime_for(self.root_profile.context).connect()
        membership = runtime.membership
        keyspace = runtime.keyspace
        assert membership is not None and keyspace is not None and runtime.scripts is not None  # connected

        async def live_consumers() -> list[str]:
            return await membership.live_members(membership.role)

        if self._consumer is None:
            manager_hint = session_factory_of(self)
            delivery = SessionDelivery(
                open_session=self.create_session,
                manager_hint=manager_hint,
                root_profile=self.root_profile,
                settings=self.config.inbound,
                max_message_size=self.max_message_size,
                wallets=runtime.wallets,
            )
            returned = ReturnedReplies(manager_hint=manager_hint, root_profile=self.root_profile)
            without_events = direct_commit(
                runtime.scripts, runtime.client, one_call=not isinstance(runtime.client, RedisCluster)
            )
            busy_retry_s = self.config.outbound.busy_retry_s

            async def commit(writes: list[Write], timeout_s: float) -> int:
                # After the events the message raised, in the same call when they are still waiting.
                publisher = self.root_profile.inject_or(EventPublisher)
                if publisher is None:
                    return await without_events(writes, min(timeout_s, busy_retry_s))
                return await publisher.commit(writes, timeout_s, busy_retry_s)

            self._consumer = InboundConsumer(
                client=runtime.client,
                scripts=runtime.scripts,
                keyspace=keyspace,
                consumer=runtime.instance_id,
                settings=self.config.inbound,
                deliver=delivery.deliver,
                requeue=returned.requeue,
                live_consumers=live_consumers,
                commit=commit,
            )
        runtime.inbound = self._consumer
        # Creates the consumer groups, then starts reading; a failure there started nothing.
        await self._consumer.start()
        LOGGER.info(
            "acapy-bridge inbound: consumer %s reads %d inbound partitions (concurrency %d)",
            runtime.instance_id,
            keyspace.partition_count("inbound_queue"),
            self.config.inbound.concurrency,
        )

    async def stop(self) -> None:
        if self._starter and not self._starter.done():
            self._starter.cancel()
            try:
                await self._starter
            except asyncio.CancelledError:
                pass
        if self._consumer:
            await self._consumer.stop()

    @property
    def consumer(self) -> InboundConsumer | None:
        return self._consumer
