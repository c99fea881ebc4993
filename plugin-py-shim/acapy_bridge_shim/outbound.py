"""ACA-Py outbound transport: every DIDComm message goes to Redis for the deliverers.

Load with `-ot acapy_bridge_shim.outbound -ot http` and `--plugin acapy_bridge_shim`.
It is an external transport (`is_external`), so ACA-Py hands it every DIDComm
message whatever the endpoint, while its private scheme leaves `http` to
ACA-Py's own transport for webhooks. ACA-Py picks the first
`BaseOutboundTransport` subclass of this module in alphabetical order, so it
must be the only one here.

A full outbound partition (deliverers behind) or a Redis error is retried with a
short backoff for `outbound.busy_retry_s` before ACA-Py is told: ACA-Py calls an
external transport inline from the handler, so brief backpressure slows the
handler instead of failing it (a failed handler leaves its inbound message
unacknowledged, to be delivered again).

A message to an http(s)/ws(s) endpoint becomes a job on its outbound partition.
Sent by the handler of an inbound message, the job goes to Redis with that
message's acknowledgement, in one call (inbound_writes.py): the transport
returns at once, and a full partition or a Redis error then leaves the inbound
message unacknowledged.
A target without one (a mobile wallet: no endpoint, or `didcomm:transport/queue`)
goes, on a mediator (`mailbox.enabled`, on with `--open-mediation`), to the
wallet's live session on whichever relay holds it or to its mailbox in Redis
(`wallet_routing`, docs/mediator.md). Elsewhere it is refused as before, and
ACA-Py keeps it in its undelivered queue (or reports it undeliverable).
"""

import asyncio
import logging
import time
from urllib.parse import urlsplit

import redis.exceptions as redis_errors
from acapy_agent.transport.outbound.base import (
    BaseOutboundTransport,
    OutboundDeliveryError,
    OutboundTransportError,
    QueuedOutboundMessage,
)
from acapy_agent.transport.wire_format import DIDCOMM_V0_MIME_TYPE, DIDCOMM_V1_MIME_TYPE

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim import inbound_writes
from acapy_bridge_shim.config import load_config
from acapy_bridge_shim.outbound_jobs import OutboundBusyError, enqueue_job, job_write, new_mid, now_ms

LOGGER = logging.getLogger(__name__)

DELIVERABLE_SCHEMES = frozenset({"http", "https", "ws", "wss"})

# Redis (or the network) away for a moment: worth another try; anything else is raised at once.
TRANSIENT_ERRORS = (
    OutboundBusyError,
    redis_errors.ConnectionError,  # includes BusyLoadingError
    redis_errors.TimeoutError,
    redis_errors.TryAgainError,
    redis_errors.ClusterDownError,
    ConnectionError,
    TimeoutError,
)
RETRY_FIRST_DELAY_S = 0.05
RETRY_MAX_DELAY_S = 0.5


async def with_backoff(write, budget_s: float, what: str):
    """Runs `write()`; a transient failure is retried (growing delay) until budget_s is spent, then raised."""
    deadline = time.monotonic() + budget_s
    delay = RETRY_FIRST_DELAY_S
    while True:
        try:
            return await write()
        except TRANSIENT_ERRORS as error:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            LOGGER.debug("acapy-bridge: %s not queued yet (%s); retrying", what, error)
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, RETRY_MAX_DELAY_S)


def has_deliverable_endpoint(endpoint) -> bool:
    """An endpoint the deliverers can reach; anything else (None, "", didcomm:transport/queue) is a wallet's."""
    return bool(endpoint) and urlsplit(str(endpoint)).scheme.lower() in DELIVERABLE_SCHEMES


def content_type_of(payload, settings) -> str:
    """As ACA-Py's own http transport: packed bytes -> DIDComm MIME type, text -> application/json."""
    if isinstance(payload, bytes | bytearray):
        return DIDCOMM_V1_MIME_TYPE if settings.get("emit_new_didcomm_mime_type") else DIDCOMM_V0_MIME_TYPE
    return "application/json"


class BridgeOutboundTransport(BaseOutboundTransport):
    """Writes each outbound DIDComm message to its outbound partition, or a wallet's route or mailbox."""

    schemes = ("acapy-bridge",)
    is_external = True

    def __init__(self, root_profile=None, **kwargs) -> None:
        super().__init__(root_profile=root_profile, **kwargs)
        # A bad configuration must stop ACA-Py here, not leave an agent that silently moves nothing.
        self.config = load_config(root_profile.settings)
        self.logger = LOGGER

    async def start(self) -> None:
        """Connects lazily on the first message (Redis may come up after ACA-Py)."""

    async def stop(self) -> None:
        """The shared runtime closes the connection at ACA-Py's shutdown."""

    async def handle_message(self, profile, outbound_message, endpoint, metadata=None, api_key=None) -> None:
        if not has_deliverable_endpoint(endpoint):
            if self.config.mailbox.enabled:
                await self._deliver_to_wallet(profile, outbound_message, endpoint)
                return
            # ACA-Py then keeps the message in its undelivered queue (or reports it undeliverable).
            raise OutboundDeliveryError(f"no HTTP or WebSocket endpoint to deliver to ({endpoint!r})")
        job = self._job_for(profile, outbound_message, str(endpoint), metadata, api_key)
        from acapy_bridge_shim import runtime_for

        message_writes = inbound_writes.current()
        if message_writes is not None:
            # Sent by the handler of an inbound message: it goes to Redis with that message's acknowledgement.
            runtime = await runtime_for(self.root_profile.context).connect()
            assert runtime.keyspace is not None  # set by connect()
            if message_writes.take_job(job_write(runtime.keyspace, self.config.outbound, job)):
                LOGGER.debug(
                    "acapy-bridge: %s for %s goes with its inbound message's acknowledgement", job.mid, endpoint
                )
                return

        async def write():
            runtime = await runtime_for(self.root_profile.context).connect()
            assert runtime.scripts is not None and runtime.keyspace is not None  # set by connect()
            # The same job (same mid) each try: `outbound_seen` makes a retried write count once.
            return await enqueue_job(runtime.scripts, runtime.keyspace, self.config.outbound, job)

        metrics = runtime_for(self.root_profile.context).metrics
        try:
            partition, _ = await with_backoff(write, self.config.outbound.busy_retry_s, job.mid)
        except OutboundBusyError as error:
            raise OutboundTransportError(f"acapy-bridge: {error}") from error
        except Exception as error:  # noqa: BLE001 - any Redis failure means "not queued"
            metrics.count_redis_error("outbound")
            raise OutboundTransportError(f"acapy-bridge: message not queued: {error}") from error
        metrics.outbound_jobs_written += 1
        LOGGER.debug("acapy-bridge: queued %s for %s on outbound partition %d", job.mid, endpoint, partition)

    async def _deliver_to_wallet(self, profile, outbound_message, endpoint) -> None:
        """Live push to the wallet's session, its mailbox, or a dead letter (mailbox full).

        Returns once Redis holds the message somewhere; a dead letter counts as handled (the
        control API lists it). The route key is the target's first recipient key, the wallet's
        connection key, which is the key its sessions register under.
        """
        queued = isinstance(outbound_message, QueuedOutboundMessage)
        payload = outbound_message.payload if queued else None
        keys = list(getattr(outbound_message.target, "recipient_keys", None) or []) if queued else []
        if payload is None or not keys:
            raise OutboundDeliveryError(f"no endpoint and no recipient key to route to ({endpoint!r})")
        from acapy_bridge_shim import runtime_for

        body = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
        content_type = content_type_of(payload, (profile or self.root_profile).settings)
        mid = new_mid(now_ms())
        message = None

        from acapy_bridge_shim.pickup.live import live_delivery_packer

        # Used only if the wallet collects with Message Pickup 2.0 and turned live delivery on.
        pack_live = live_delivery_packer(profile or self.root_profile, outbound_message.target, content_type_of)

        async def write():
            nonlocal message
            runtime = await runtime_for(self.root_profile.context).connect()
            assert runtime.wallets is not None  # set by connect()
            if message is None:
                message = runtime.wallets.wallet_message(keys[0], bytes(body), content_type, mid)
            return await runtime.wallets.deliver(message, pack_live)

        try:
            result = await with_backoff(write, self.config.outbound.busy_retry_s, mid)
        except Exception as error:  # noqa: BLE001 - any Redis failure means "not queued"
            raise OutboundTransportError(f"acapy-bridge: wallet message not queued: {error}") from error
        LOGGER.debug("acapy-bridge: wallet message %s for %s: %s", mid, keys[0], result)

    def _job_for(self, profile, outbound_message, endpoint, metadata, api_key) -> pb.OutboundJob:
        if isinstance(outbound_message, QueuedOutboundMessage):
            payload = outbound_message.payload
            target = outbound_message.target
            message = outbound_message.message
        else:  # the raw (str | bytes) shape of internal transports
            payload, target, message = outbound_message, None, None
        if payload is None:
            raise OutboundTransportError("acapy-bridge: outbound message has no encoded payload")
        body = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
        settings = (profile or self.root_profile).settings
        recipient_keys = list(getattr(target, "recipient_keys", None) or [])
        routing_keys = list(getattr(target, "routing_keys", None) or [])
        created = now_ms()
        headers = {str(k): str(v) for k, v in (metadata or {}).items()}
        if api_key:
            headers["x-api-key"] = api_key
        return pb.OutboundJob(
            mid=new_mid(created),
            kind=pb.JOB_KIND_DIDCOMM,
            recipient_key=recipient_keys[0] if recipient_keys else f"endpoint:{endpoint}",
            endpoint=endpoint,
            content_type=content_type_of(payload, settings),
            body=bytes(body),
            headers=headers,
            created_at_ms=created,
            expires_at_ms=created + self.config.outbound.expiry_s * 1000,
            wallet_id=settings.get("wallet.id") or "",
            connection_id=(getattr(message, "connection_id", None) or ""),
            recipient_keys=recipient_keys,
            routing_keys=routing_keys,
            producer_id=_producer_id(self.root_profile),
        )


def _producer_id(root_profile) -> str:
    from acapy_bridge_shim.runtime import BridgeRuntime

    runtime = root_profile.inject_or(BridgeRuntime) if root_profile else None
    return runtime.instance_id if runtime else ""
