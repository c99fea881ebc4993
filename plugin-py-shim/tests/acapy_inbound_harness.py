"""ACA-Py's own inbound pieces around the shim's inbound transport, on a real redis-server.

What runs is ACA-Py's: InboundTransportManager (sessions, dispatch_complete), InboundSession,
InboundMessage, the dispatcher's TaskQueue (which may start a handler later from its drain
task) and Conductor.dispatch_complete. Replaced: the wire format (plain JSON, no wallet) and
the protocol handlers (what a test makes them do), like the dispatcher's handler call.
"""

import json
import uuid
from types import SimpleNamespace

from acapy_agent.config.injection_context import InjectionContext
from acapy_agent.core.conductor import Conductor
from acapy_agent.transport.inbound.manager import InboundTransportManager
from acapy_agent.transport.inbound.receipt import MessageReceipt
from acapy_agent.transport.wire_format import BaseWireFormat
from acapy_agent.utils.task_queue import TaskQueue

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim import runtime_for
from acapy_bridge_shim.inbound import RedisInboundTransport
from tests.waiting import eventually

RELAY = "relay-h"


class FakeProfile:
    """Just what the transport and ACA-Py's inbound session use of a profile."""

    def __init__(self, context: InjectionContext):
        self.context = context
        self.settings = context.settings

    def inject(self, cls):
        return self.context.inject(cls)

    def inject_or(self, cls, default=None):
        return self.context.inject_or(cls, default)

    async def session(self):  # InboundSession.parse_inbound awaits it and hands it to the wire format
        return None


class JsonWireFormat(BaseWireFormat):
    """Plain JSON; `receive_errors` makes parsing raise (once per item) to stand in for a store outage."""

    def __init__(self):
        super().__init__()
        self.receive_errors: list[BaseException] = []

    async def parse_message(self, session, message_body):
        if self.receive_errors:
            raise self.receive_errors.pop(0)
        payload = json.loads(message_body)
        mode = (payload.get("~transport") or {}).get("return_route")
        return payload, MessageReceipt(direct_response_mode=mode, thread_id=payload.get("@id"))

    async def encode_message(self, *args, **kwargs):
        raise NotImplementedError

    def get_recipient_keys(self, message_body):
        return []


class Agent:
    """The shim's inbound transport inside ACA-Py's inbound machinery."""

    def __init__(self, redis_url: str, *, max_active: int = 50, plugin: dict | None = None):
        self.prefix = f"py-h-{uuid.uuid4().hex[:6]}"
        config = {"redis_url": redis_url, "prefix": self.prefix, "partitions": {"inbound": 2}}
        config.update(plugin or {})
        self.context = InjectionContext(settings={"plugin_config": {"acapy_bridge_shim": config}})
        self.wire_format = JsonWireFormat()
        self.context.injector.bind_instance(BaseWireFormat, self.wire_format)
        self.profile = FakeProfile(self.context)
        # The dispatcher's queue: beyond max_active, handlers start later from its drain task.
        self.dispatcher_queue = TaskQueue(max_active=max_active)
        self.manager = InboundTransportManager(self.profile, self.route)
        self.conductor = SimpleNamespace(inbound_transport_manager=self.manager)
        self.transport = RedisInboundTransport("0.0.0.0", "0", self.manager.create_session, root_profile=self.profile)
        # payload["do"] -> async handler(payload); default: succeed.
        self.handlers = {}
        self.handled: list[str] = []

    # Conductor.inbound_message_router -> Dispatcher.queue_message, completion to Conductor.dispatch_complete.
    def route(self, profile, message, can_respond=False):
        self.dispatcher_queue.put(
            self.handle(message),
            lambda completed: Conductor.dispatch_complete(self.conductor, message, completed),
        )

    async def handle(self, message):
        payload = message.payload
        self.handled.append(payload.get("@id"))
        handler = self.handlers.get(payload.get("do"))
        if handler is not None:
            await handler(payload)

    @property
    def runtime(self):
        return runtime_for(self.context)

    async def start(self) -> None:
        await self.transport.start()
        await eventually(lambda: _started(self.transport))

    async def stop(self) -> None:
        await self.transport.stop()
        await self.dispatcher_queue.complete(0.1)
        await self.runtime.close()

    # ---- Redis side ----

    async def put(self, mid: str, payload: dict, **fields) -> None:
        defaults = dict(
            mid=mid,
            kind=pb.INBOUND_KIND_AGENT_MESSAGE,
            recipient_key="Verkey" + mid,
            content_type="application/json",
            body=json.dumps({"@id": mid, **payload}).encode(),
            transport=pb.TRANSPORT_HTTP,
            relay_id=RELAY,
            request_id="",
        )
        defaults.update(fields)
        message = pb.AgentMessage(**defaults)
        keyspace = self.runtime.keyspace
        stream = keyspace.key("inbound_queue", partition=partition_of(message.recipient_key, 2))
        await self.runtime.client.xadd(stream, {keyspace.spec("inbound_queue").entry_field: encode_envelope(message)})

    async def backlog(self) -> int:
        rt = self.runtime
        return sum([await rt.client.xlen(k) for k in rt.keyspace.all_partitions("inbound_queue")])

    async def pending(self) -> int:
        rt = self.runtime
        total = 0
        for key in rt.keyspace.all_partitions("inbound_queue"):
            total += (await rt.client.xpending(key, "acapy"))["pending"]
        return total

    async def dead_letters(self) -> list[pb.DeadLetter]:
        rt = self.runtime
        field = rt.keyspace.spec("inbound_dead_letters").entry_field.encode()
        out = []
        for key in rt.keyspace.all_partitions("inbound_dead_letters"):
            out += [decode_envelope(pb.DeadLetter, f[field]) for _, f in await rt.client.xrange(key)]
        return out


async def _started(transport) -> bool:
    consumer = transport.consumer
    return consumer is not None and bool(consumer._tasks)
