"""The heartbeat starts even when the first beat at connect() fails: the next connect() starts over."""

import uuid

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from acapy_bridge import membership as membership_module
from acapy_bridge_shim.config import parse_config
from acapy_bridge_shim.runtime import BridgeRuntime
from tests.waiting import eventually


async def test_a_failed_first_beat_leaves_the_runtime_unconnected_and_the_next_connect_starts_the_heartbeat(
    redis_server, monkeypatch
):
    real_beat = membership_module.Membership.beat
    beats = []

    async def beat(self):
        beats.append(self.instance_id)
        if len(beats) == 1:
            raise RedisConnectionError("Connection reset by peer")
        await real_beat(self)

    monkeypatch.setattr(membership_module.Membership, "beat", beat)
    monkeypatch.setattr(membership_module, "HEARTBEAT_S", 0.05)
    rt = BridgeRuntime(parse_config({"redis_url": redis_server.url, "prefix": f"py-hb-{uuid.uuid4().hex[:6]}"}))
    with pytest.raises(RedisConnectionError):
        await rt.connect()
    try:
        await rt.connect()
        key = rt.keyspace.key("members", role="shim")
        first = await rt.client.zscore(key, rt.instance_id)
        assert first is not None

        async def beaten_four_times():
            return len(beats) >= 4

        await eventually(beaten_four_times, what="four heartbeats")
        assert len(beats) >= 4  # the heartbeat task beats on
        assert await rt.client.zscore(key, rt.instance_id) > first
    finally:
        await rt.close()
