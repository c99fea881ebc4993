"""Liveness by heartbeat: each instance refreshes its score in its role's zset."""

import asyncio
import logging
import os
import socket
import time

from acapy_bridge.codec import encode_envelope
from acapy_bridge.keyspace import Keyspace
from acapy_bridge.v1 import envelopes_pb2, keyspace_pb2

LOGGER = logging.getLogger(__name__)

HEARTBEAT_S = keyspace_pb2.LIVENESS_HEARTBEAT_MS / 1000
DEAD_AFTER_MS = keyspace_pb2.LIVENESS_DEAD_AFTER_MS


def new_instance_id(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{int(time.time() * 1000) % 100000}"


class Membership:
    def __init__(self, client, keyspace: Keyspace, instance_id: str, role: str, version: str = ""):
        self._client = client
        self._keyspace = keyspace
        self.instance_id = instance_id
        self.role = role
        self._info = envelopes_pb2.InstanceInfo(
            instance_id=instance_id,
            role=role,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at_ms=int(time.time() * 1000),
            version=version,
        )
        self._task: asyncio.Task | None = None

    async def beat(self) -> None:
        now = int(time.time() * 1000)
        members = self._keyspace.key("members", role=self.role)
        instance = self._keyspace.key("instance", instance=self.instance_id)
        ttl = self._keyspace.spec("instance").default_ttl_ms
        # Both keys carry the {ctl} tag: one slot, one transaction.
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zadd(members, {self.instance_id: now})
            pipe.set(instance, encode_envelope(self._info), px=ttl)
            await pipe.execute()

    async def start(self) -> None:
        await self.beat()
        self._task = asyncio.create_task(self._loop(), name=f"heartbeat-{self.instance_id}")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self.beat()
            except Exception as error:  # noqa: BLE001 - keep beating through Redis outages
                LOGGER.warning("heartbeat failed: %s", error)

    async def stop_beating(self) -> None:
        """Stops the heartbeat task, staying in the members set (its score ages)."""
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def stop(self) -> None:
        await self.stop_beating()
        try:
            await self._client.zrem(self._keyspace.key("members", role=self.role), self.instance_id)
            await self._client.delete(self._keyspace.key("instance", instance=self.instance_id))
        except Exception as error:  # noqa: BLE001
            LOGGER.warning("leaving membership failed: %s", error)

    async def dead_members(self, role: str) -> list[str]:
        """Members of `role` whose heartbeat is older than the dead window."""
        now = int(time.time() * 1000)
        members = await self._client.zrangebyscore(
            self._keyspace.key("members", role=role), "-inf", f"({now - DEAD_AFTER_MS}"
        )
        return [m.decode() if isinstance(m, bytes) else m for m in members]

    async def live_members(self, role: str) -> list[str]:
        now = int(time.time() * 1000)
        members = await self._client.zrangebyscore(
            self._keyspace.key("members", role=role), now - DEAD_AFTER_MS, "+inf"
        )
        return [m.decode() if isinstance(m, bytes) else m for m in members]
