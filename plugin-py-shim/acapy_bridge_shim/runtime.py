"""The one Redis connection (and its contract helpers) an ACA-Py process shares.

The plugin's setup binds a BridgeRuntime into ACA-Py's injector; the inbound
transport, the outbound transport and the event publisher all use it.
"""

import asyncio
import logging

from acapy_bridge.keyspace import Keyspace
from acapy_bridge.membership import Membership, new_instance_id
from acapy_bridge.redis_connection import create_redis_client, redact_url
from acapy_bridge.scripts import Scripts
from acapy_bridge.topology import ensure_topology
from acapy_bridge_shim.config import ShimConfig
from acapy_bridge_shim.wallet_routing import WalletRouter

LOGGER = logging.getLogger(__name__)

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
        self._lock = asyncio.Lock()
        self._closed = False

    async def connect(self) -> "BridgeRuntime":
        """Connects once (idempotent): checks the topology and starts the heartbeat."""
        async with self._lock:
            if self.keyspace is not None:
                return self
            client = create_redis_client(self.config.redis, max_connections=256)
            keyspace = await ensure_topology(client, self.config.prefix, self.config.partitions)
            self.client = client
            self.scripts = Scripts(client)
            self.keyspace = keyspace
            self.membership = Membership(client, keyspace, self.instance_id, ROLE)
            self.wallets = WalletRouter(
                client=client,
                scripts=self.scripts,
                keyspace=keyspace,
                settings=self.config.mailbox,
                instance_id=self.instance_id,
            )
            await self.membership.start()
            LOGGER.info(
                "acapy-bridge shim %s connected to %s (prefix %s)",
                self.instance_id,
                redact_url(self.config.redis.url),
                self.config.prefix,
            )
            return self

    async def close(self) -> None:
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.membership:
                await self.membership.stop()
            if self.client is not None:
                await self.client.aclose()
