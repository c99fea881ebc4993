"""Two shim instances of one mediator on a shared prefix, running ACA-Py's handlers as the dispatcher would.

For the DIDComm protocols the shim adds to a mediator (Message Pickup, push device info): their
handlers are run directly, with a real Redis and a relay registered as alive.
"""

import time
import uuid
from contextlib import asynccontextmanager

from acapy_agent.messaging.request_context import RequestContext
from acapy_agent.messaging.responder import MockResponder
from acapy_agent.transport.inbound.receipt import MessageReceipt

from acapy_bridge.streams import ensure_group
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import parse_config
from acapy_bridge_shim.pickup.sessions import remember_session
from acapy_bridge_shim.runtime import BridgeRuntime


class MediatorInstance:
    """One shim instance: its own BridgeRuntime (Redis connection, router) on the shared prefix."""

    def __init__(self, redis_url: str, prefix: str, profile, mailbox: dict | None = None):
        config = parse_config(
            {"redis_url": redis_url, "prefix": prefix, "partitions": {"inbound": 2}, "mailbox": mailbox or {}},
            mediator=True,
        )
        self.runtime = BridgeRuntime(config)
        self.profile = profile

    async def start(self):
        await self.runtime.connect()
        return self

    async def handle(self, handler, message, *, sender: str, session: pb.WalletRoute | None = None):
        """Runs ACA-Py's handler for `message` from `sender`, as the dispatcher would; returns the replies."""
        context = RequestContext(self.profile)
        context.injector.bind_instance(BridgeRuntime, self.runtime)
        context.message = message
        context.message_receipt = MessageReceipt(sender_verkey=sender, direct_response_mode="all")
        if session is not None:
            remember_session(context.message_receipt, session.relay_id, session.socket_id, session.epoch)
        responder = MockResponder()
        await handler().handle(context, responder)
        return [m for m, _ in responder.messages]


@asynccontextmanager
async def two_instances(redis_url: str, profile, *, relay: str, prefix_label: str, instance=MediatorInstance):
    """Two started instances (of `instance`, a MediatorInstance or a subclass) and `relay` alive, with its inbox."""
    prefix = f"py-{prefix_label}-{uuid.uuid4().hex[:6]}"
    a = await instance(redis_url, prefix, profile).start()
    b = await instance(redis_url, prefix, profile).start()
    await a.runtime.client.zadd(a.runtime.keyspace.key("members", role="relay"), {relay: int(time.time() * 1000)})
    await ensure_group(a.runtime.client, a.runtime.keyspace.key("relay_inbox", relay=relay), "relay")
    try:
        yield a, b
    finally:
        await a.runtime.close()
        await b.runtime.close()
