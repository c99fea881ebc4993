"""Direct replies reach the relay inbox through a brief Redis error, or go back to ACA-Py when the relay is gone."""

from redis.exceptions import ConnectionError as RedisConnectionError

from acapy_bridge.scripts import Scripts
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge.v1.lua_scripts import ScriptValue
from acapy_bridge_shim.inbound_outcome import Outcome
from tests.test_inbound_consumer import (  # noqa: F401 - env is a fixture
    RELAY,
    agent_message,
    backlog,
    backlog_is,
    consumer_for,
    env,
    inbox,
    put,
)
from tests.waiting import eventually, hold_still

GONE_RELAY = "relay-gone"
VERKEY = "GJ1SzoWzavQYfNL9XkaJdrQejfztN4XqdsiV4ct3LXKL"


class FlakyScripts(Scripts):
    """The real scripts, except that the first `failures` writes to `key` raise like a dropped connection."""

    def __init__(self, client, key: str, failures: int):
        super().__init__(client)
        self._key = key
        self.failures = failures
        self.attempts = 0
        self.calls: list[str] = []

    async def _invoke(self, name: str, keys: list[str], args: list[ScriptValue]) -> object:
        self.calls.append(name)
        if keys and keys[0] == self._key:
            self.attempts += 1
            if self.attempts <= self.failures:
                raise RedisConnectionError("Connection reset by peer")
        return await super()._invoke(name, keys, args)


def pong(message: pb.AgentMessage, **fields) -> pb.DirectReply:
    return pb.DirectReply(mid=message.mid, request_id=message.request_id, status=200, body=b"pong", **fields)


async def test_a_reply_write_that_fails_briefly_is_retried_before_the_entry_is_acknowledged(env):  # noqa: F811
    client, keyspace, _ = env
    delivered = []

    async def deliver(message, reply_now):
        delivered.append(message.mid)
        return Outcome(reply=pong(message))

    flaky = FlakyScripts(client, keyspace.key("relay_inbox", relay=RELAY), failures=2)
    consumer = consumer_for((client, keyspace, flaky), deliver)
    consumer._reply_retry_delays_s = (0.01, 0.02, 0.05)
    await put(client, keyspace, agent_message("m1"))
    await consumer.start()
    try:
        replies = await eventually(lambda: inbox(client, keyspace))
        assert [(r.mid, r.body) for r in replies] == [("m1", b"pong")]
        await eventually(lambda: backlog_is(client, keyspace, 0))
        assert flaky.attempts == 3
        assert delivered == ["m1"]  # processed once: no redelivery to ACA-Py for a lost reply
    finally:
        await consumer.stop()


async def test_a_reply_now_write_is_retried_too(env):  # noqa: F811
    client, keyspace, _ = env

    async def deliver(message, reply_now):
        await reply_now(pong(message))
        return Outcome()

    flaky = FlakyScripts(client, keyspace.key("relay_inbox", relay=RELAY), failures=1)
    consumer = consumer_for((client, keyspace, flaky), deliver)
    consumer._reply_retry_delays_s = (0.01,)
    await put(client, keyspace, agent_message("m2"))
    await consumer.start()
    try:
        replies = await eventually(lambda: inbox(client, keyspace))
        assert [(r.mid, r.body) for r in replies] == [("m2", b"pong")]
        await eventually(lambda: backlog_is(client, keyspace, 0))
    finally:
        await consumer.stop()


async def test_a_reply_write_gives_up_after_its_attempts_and_leaves_the_entry_pending(env):  # noqa: F811
    client, keyspace, _ = env
    delivered = []

    async def deliver(message, reply_now):
        delivered.append(message.mid)
        return Outcome(reply=pong(message))

    flaky = FlakyScripts(client, keyspace.key("relay_inbox", relay=RELAY), failures=1000)
    consumer = consumer_for((client, keyspace, flaky), deliver)
    consumer._reply_retry_delays_s = (0.01, 0.01)
    await put(client, keyspace, agent_message("m3"))
    await consumer.start()
    try:
        await eventually(lambda: _at_least(flaky, 3))
        await hold_still(0.2, "time for a fourth reply write, which must not come")
        assert flaky.attempts == 3  # bounded: the first try and two retries
        assert delivered == ["m3"]
        assert await backlog(client, keyspace) == 1  # pending, for a later delivery
        assert await inbox(client, keyspace) == []
    finally:
        await consumer.stop()


async def _at_least(flaky: FlakyScripts, n: int) -> bool:
    return flaky.attempts >= n


async def test_a_reply_with_a_body_for_a_gone_relay_is_handed_back_to_acapy_not_written_to_a_new_inbox(env):  # noqa: F811
    client, keyspace, _ = env
    requeued: list[pb.AgentMessage] = []

    async def deliver(message, reply_now):
        return Outcome(reply=pong(message, reply_to_verkey=VERKEY, connection_id="c1", content_type="application/json"))

    async def requeue(message):
        requeued.append(message)

    recording = FlakyScripts(client, "no-such-key", failures=0)
    consumer = consumer_for((client, keyspace, recording), deliver, requeue=requeue)
    inbox_key = keyspace.key("relay_inbox", relay=GONE_RELAY)
    await client.delete(inbox_key)  # the janitor retired the dead relay's inbox
    await put(client, keyspace, agent_message("g1", relay_id=GONE_RELAY))
    await consumer.start()
    try:
        await eventually(lambda: _len(requeued, 1))
        await eventually(lambda: backlog_is(client, keyspace, 0))
        assert await client.exists(inbox_key) == 0
        returned = requeued[0]
        assert returned.kind == pb.INBOUND_KIND_RETURNED_REPLY
        assert returned.recipient_key == VERKEY
        assert (returned.returned_reply.mid, returned.returned_reply.body) == ("g1", b"pong")
        assert returned.returned_reply.connection_id == "c1"
        # Handed back before the original entry was acknowledged.
        assert recording.calls.index("enqueue") < recording.calls.index("ack")
        assert consumer.stats["replies_handed_back"] == 1
        assert consumer.stats["replied"] == 0
    finally:
        await consumer.stop()


async def test_a_bodiless_reply_and_a_close_socket_for_a_gone_relay_are_dropped(env):  # noqa: F811
    client, keyspace, _ = env
    requeued = []

    async def deliver(message, reply_now):
        reply = pb.DirectReply(mid=message.mid, socket_id=message.socket_id, status=400, error="bad json")
        return Outcome(reply=reply, close_socket=(1003, "bad json"))

    async def requeue(message):
        requeued.append(message)

    consumer = consumer_for(env, deliver, requeue=requeue)
    inbox_key = keyspace.key("relay_inbox", relay=GONE_RELAY)
    await put(
        client,
        keyspace,
        agent_message(
            "g2", relay_id=GONE_RELAY, transport=pb.TRANSPORT_WEBSOCKET, request_id="", socket_id="s1", session_epoch=1
        ),
    )
    await consumer.start()
    try:
        await eventually(lambda: backlog_is(client, keyspace, 0))
        await hold_still(0.1, "time for a late write to the gone relay's inbox, which must not come")
        assert await client.exists(inbox_key) == 0
        assert requeued == []
        assert consumer.stats["dropped_commands"] == 2
    finally:
        await consumer.stop()


async def _len(items, n) -> bool:
    return len(items) >= n
