"""The one Redis connection (and its contract helpers) an ACA-Py process shares.

The plugin's setup binds a BridgeRuntime into ACA-Py's injector; the inbound
transport, the outbound transport and the event publisher all use it.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from acapy_bridge.keyspace import Keyspace
from acapy_bridge.membership import Membership, new_instance_id
from acapy_bridge.redis_connection import create_redis_client, redact_url
from acapy_bridge.scripts import Scripts
from acapy_bridge.topology import ensure_topology
from acapy_bridge_shim.admin_executor import AdminExecutor
from acapy_bridge_shim.config import ShimConfig
from acapy_bridge_shim.inbound_consumer import InboundConsumer
from acapy_bridge_shim.ops_endpoint import OpsEndpoint
from acapy_bridge_shim.pickup.mailbox import PickupMailbox
from acapy_bridge_shim.push.devices import PushDevices
from acapy_bridge_shim.push.notifications import PushJobs
from acapy_bridge_shim.redis_health import NotConnectedError, RedisHealth
from acapy_bridge_shim.shim_metrics import ShimMetrics
from acapy_bridge_shim.wallet_routing import WalletRouter

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connected:
    """What `BridgeRuntime.connect` set up, for the parts that start after it (typed, never None)."""

    client: Any
    keyspace: Keyspace
    scripts: Scripts
    membership: Membership
    wallets: WalletRouter


ROLE = "shim"


class BridgeRuntime:
    def __init__(self, config: ShimConfig):
        self.config = config
        self.instance_id = new_instance_id(ROLE)
        self.client = None
        self.scripts: Scripts | None = None
        self.keyspace: Keyspace | None = None
        self.membership: Membership | None = None
        self.wallets: WalletRouter | None = None
        self.pickup: PickupMailbox | None = None  # Message Pickup's view of the wallet mailboxes
        self.push_devices: PushDevices | None = None  # wallets' push devices (device-info protocols)
        # The inbound transport's consumer, stopped before the heartbeat member goes (see stop_inbound).
        self.inbound: InboundConsumer | None = None
        self.metrics = ShimMetrics()
        self.metrics.read_inbound_from(lambda: self.inbound.stats if self.inbound is not None else {})
        self.redis_health = RedisHealth(self._ping, self.metrics)
        self.ops: OpsEndpoint | None = None
        # Serves admin API calls from Redis while ACA-Py has an admin server (admin.enabled).
        self.admin: AdminExecutor | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    def connected(self) -> Connected:
        """The connection's parts; raises if `connect` has not completed."""
        if (
            self.client is None
            or self.keyspace is None
            or self.scripts is None
            or self.membership is None
            or self.wallets is None
        ):
            raise NotConnectedError("the shim is not connected to Redis yet")
        return Connected(self.client, self.keyspace, self.scripts, self.membership, self.wallets)

    async def _ping(self) -> object:
        if self.client is None:
            raise NotConnectedError("not connected to Redis yet")
        return await self.client.ping()

    async def start_monitoring(self) -> None:
        """Redis health and (when configured) the metrics listener: from ACA-Py's startup, before Redis is reached."""
        self.redis_health.start()
        if self.config.metrics.port and self.ops is None:
            self.ops = OpsEndpoint(self.metrics, self.redis_health)
            await self.ops.start(self.config.metrics.host, self.config.metrics.port)

    async def connect(self) -> "BridgeRuntime":
        """Connects once (idempotent): checks the topology and starts the heartbeat.

        Connected only once the heartbeat beats: if any step fails the connection is closed and
        the next call starts over (nothing consumes without a heartbeat, nothing stays half set up).
        """
        async with self._lock:
            if self.keyspace is not None:
                return self
            client = create_redis_client(self.config.redis, max_connections=256)
            try:
                keyspace = await ensure_topology(client, self.config.prefix, self.config.partitions)
                scripts = Scripts(client)
                membership = Membership(client, keyspace, self.instance_id, ROLE)
                await membership.start()  # the first beat, then the heartbeat task
            except BaseException:
                try:
                    await client.aclose()
                except Exception as error:  # noqa: BLE001 - the original error matters
                    LOGGER.debug("acapy-bridge: closing a failed connection: %s", error)
                raise
            self.client = client
            self.scripts = scripts
            self.keyspace = keyspace
            self.membership = membership
            self.wallets = WalletRouter(
                client=client,
                scripts=scripts,
                keyspace=keyspace,
                settings=self.config.mailbox,
                instance_id=self.instance_id,
                push=PushJobs(
                    scripts=scripts, keyspace=keyspace, settings=self.config.outbound, instance_id=self.instance_id
                )
                if self.config.mailbox.push_window_s > 0
                else None,
            )
            self.pickup = self.wallets.pickup
            self.push_devices = PushDevices(client=client, keyspace=keyspace)
            LOGGER.info(
                "acapy-bridge shim %s connected to %s (prefix %s)",
                self.instance_id,
                redact_url(self.config.redis.url),
                self.config.prefix,
            )
            return self

    async def serve_admin(self, profile) -> None:
        """Starts serving the admin partitions with ACA-Py's admin application, if ACA-Py runs one."""
        from acapy_bridge_shim.acapy_compat import admin_application

        app = admin_application(profile)
        if app is None:
            LOGGER.info(
                "acapy-bridge shim %s: ACA-Py has no admin server (--admin); serves no admin calls", self.instance_id
            )
            return
        async with self._lock:
            if self.admin is not None or self._closed:
                return
            parts = self.connected()
            self.admin = AdminExecutor(
                client=parts.client, keyspace=parts.keyspace, app=app, settings=self.config.admin
            )
        await self.admin.start()

    async def stop_admin(self) -> None:
        """Stops serving admin calls first: requesters then see no executor and answer 503 at once."""
        if self.admin is None:
            return
        try:
            await self.admin.stop()
        except Exception as error:  # noqa: BLE001 - the rest of the shutdown must still happen
            LOGGER.warning("acapy-bridge: stopping the admin executor failed: %s", error)

    async def stop_inbound(self) -> None:
        """Stops this process's inbound consumer: messages in hand finish (or are abandoned).

        Before the heartbeat member goes: peers take the pending entries of a consumer that left.
        """
        if self.inbound is None:
            return
        try:
            await self.inbound.stop()
        except Exception as error:  # noqa: BLE001 - leaving the membership must still happen
            LOGGER.warning("acapy-bridge: stopping the inbound consumer failed: %s", error)

    async def close(self) -> None:
        await self.stop_admin()
        await self.stop_inbound()
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            await self.redis_health.stop()
            if self.ops is not None:
                await self.ops.stop()
            if self.membership:
                await self.membership.stop()
            if self.client is not None:
                await self.client.aclose()
