"""An idle shim costs Redis next to nothing: one blocking read over all inbound partitions, not one per partition.

Counted from the server's own INFO commandstats (what the shim sends, with commands inside
scripts) while a shim with 16 inbound partitions waits for messages; real redis-server and
ACA-Py's own inbound machinery (tests/acapy_inbound_harness.py).
"""

import re

import redis.asyncio as redis

from tests.acapy_inbound_harness import Agent
from tests.waiting import eventually, hold_still

# Under the idle claim sweep's period (claim_idle_ms/4: 15 s), so that the window holds at most one sweep.
IDLE_S = 14.0
# Per second, idle: the blocking read (one per block_ms, 2 s: 0.5), the heartbeat (MULTI, ZADD, SET,
# EXEC every 2 s: 2), the live consumers read every 5 s (0.2) and at most one sweep over the 16
# partitions (an XPENDING each: 16/14 = 1.1); measured 3.4-3.9. Before: 10.5 (a blocking read per
# partition, and a sweep every 5 s).
MAX_IDLE_CALLS_PER_S = 4.5


def _calls(info: dict) -> int:
    return sum(v["calls"] for k, v in info.items() if not re.match(r"^cmdstat_(info|config)", k))


async def _reader_blocked(stats) -> bool:
    return (await stats.info("clients"))["blocked_clients"] >= 1


async def _swept(stats) -> bool:
    return (await stats.info("commandstats")).get("cmdstat_xpending", {}).get("calls", 0) >= 16


async def test_an_idle_shim_makes_few_redis_calls_a_second(redis_server):
    agent = Agent(redis_server.url, plugin={"partitions": {"inbound": 16}})
    await agent.start()
    stats = redis.from_url(redis_server.url)
    try:
        # Past the start (groups, own pending entries: the reader blocks) and the first sweep, which is
        # a full one (no live consumers known before it).
        await eventually(lambda: _reader_blocked(stats), what="the shim's read blocking")
        await eventually(lambda: _swept(stats), limit_s=10, what="the first claim sweep")
        await stats.config_resetstat()
        await hold_still(IDLE_S, "an idle shim")
        info = await stats.info("commandstats")
        per_s = _calls(info) / IDLE_S
        print(f"idle shim: {per_s:.2f} Redis calls/s", {k: v["calls"] for k, v in info.items()})
        assert per_s <= MAX_IDLE_CALLS_PER_S, info
    finally:
        await stats.aclose()
        await agent.stop()
