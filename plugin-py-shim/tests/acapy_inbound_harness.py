"""ACA-Py's own inbound pieces around the shim's inbound transport, on a real redis-server.

What runs is ACA-Py's: InboundTransportManager (sessions, dispatch_complete), InboundSession,
InboundMessage, the dispatcher's TaskQueue (which may start a handler later from its drain
task), and a Conductor wired as ACA-Py wires it (dispatch_complete, handle_not_returned, the
outbound message router with an OutboundTransportManager running the shim's outbound transport
and a Dispatcher). Replaced: the wire format (plain JSON, no wallet), the protocol handlers
(what a test makes them do) like the dispatcher's handler call, and the connection manager
(`connections`: connection id -> ConnectionTarget).
"""

import json
import uuid

from acapy_agent.config.injection_context import InjectionContext
from acapy_agent.connections.base_manager import BaseConnectionManager
from acapy_agent.core.conductor import Conductor
from acapy_agent.core.dispatcher import Dispatcher
from acapy_agent.storage.error import StorageNotFoundError
from acapy_agent.transport.inbound.manager import InboundTransportManager
from acapy_agent.transport.inbound.receipt import MessageReceipt
from acapy_agent.transport.outbound.manager import OutboundTransportManager
from acapy_agent.transport.wire_format import BaseWireFormat
from acapy_agent.utils.task_queue import TaskQueue

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.partitioning import partition_of
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim import runtime_for
from acapy_bridge_shim.inbound import RedisInboundTransport
from acapy_bridge_shim.outbound import BridgeOutboundTransport
from tests.waiting import eventually

RELAY = "relay-h"


class FakeProfile:
    """Just what the transport and ACA-Py's inbound session use of a profile."""

    def __init__(self, context: InjectionContext):
        self.context = context
        self.settings = context.settings
        self.notified = []

    def inject(self, cls):
        return self.context.inject(cls)

    def inject_or(self, cls, default=None):
        return self.context.inject_or(cls, default)

    async def session(self):  # InboundSession.parse_inbound awaits it and hands it to the wire format
        return None

    async def notify(self, topic, payload):  # the conductor's outbound router notifies the send status
        self.notified.append((topic, payload))


class Connections(BaseConnectionManager):
    """The connection manager's targets lookup; an unknown id fails as ConnRecord.retrieve_by_id does."""

    def __init__(self):  # no profile, no route manager: only the lookup below is used
        self.targets = {}

    async def get_connection_targets(self, *, connection_id=None, connection=None):
        if connection_id not in self.targets:
            raise StorageNotFoundError(f"Record not found: connection {connection_id}")
        return [self.targets[connection_id]]


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
        self.connections = Connections()
        self.context.injector.bind_instance(BaseConnectionManager, self.connections)
        # The dispatcher's queue: beyond max_active, handlers start later from its drain task.
        self.dispatcher_queue = TaskQueue(max_active=max_active)
        # No admin server: BaseResponder is not bound in the root context (ACA-Py binds it only with one).
        self.wire_acapy()
        # payload["do"] -> async handler(payload); default: succeed.
        self.handlers = {}
        self.handled: list[str] = []

    def wire_acapy(self) -> None:
        """ACA-Py's conductor, transport managers and dispatcher around self.profile, and the shim's transport."""
        self.conductor = Conductor(context_builder=None)
        self.conductor.root_profile = self.profile
        self.manager = InboundTransportManager(self.profile, self.route, self.conductor.handle_not_returned)
        self.conductor.inbound_transport_manager = self.manager
        self.conductor.outbound_transport_manager = OutboundTransportManager(
            self.profile, self.conductor.handle_not_delivered
        )
        self.conductor.outbound_transport_manager.register_class(BridgeOutboundTransport, "acapy-bridge")
        self.conductor.dispatcher = Dispatcher(self.profile)
        self.transport = RedisInboundTransport("0.0.0.0", "0", self.manager.create_session, root_profile=self.profile)

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
        await self.conductor.dispatcher.setup()
        await self.conductor.outbound_transport_manager.start_transport("acapy-bridge")
        await self.transport.start()
        await eventually(lambda: _started(self.transport))

    async def stop(self) -> None:
        await self.transport.stop()
        await self.dispatcher_queue.complete(0.1)
        if self.conductor.dispatcher.task_queue is not None:  # set up by start()
            await self.conductor.dispatcher.task_queue.complete(0.1)
        await self.conductor.outbound_transport_manager.stop()
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

    async def outbound_jobs(self) -> list[pb.OutboundJob]:
        rt = self.runtime
        field = rt.keyspace.spec("outbound_queue").entry_field.encode()
        out = []
        for key in rt.keyspace.all_partitions("outbound_queue"):
            out += [decode_envelope(pb.OutboundJob, f[field]) for _, f in await rt.client.xrange(key)]
        return out

    async def dead_letters(self) -> list[pb.DeadLetter]:
        rt = self.runtime
        field = rt.keyspace.spec("inbound_dead_letters").entry_field.encode()
        out = []
        for key in rt.keyspace.all_partitions("inbound_dead_letters"):
            out += [decode_envelope(pb.DeadLetter, f[field]) for _, f in await rt.client.xrange(key)]
        return out


# A peer's verkey: the recipient key of returned replies put by `put_returned`.
PEER_KEY = "6QSduYdf8Bi6t8PfNm5vNomGWDtXhmMmTRzaciudBXYJ"


async def put_returned(agent: Agent, mid: str, **reply) -> None:
    """Puts a RETURNED_REPLY entry (a direct response whose relay was gone) carrying DirectReply `reply`."""
    fields = dict(mid="orig-" + mid, status=200, content_type="application/didcomm-envelope-enc", body=b'{"jwe":1}')
    fields.update(reply)
    await agent.put(
        mid,
        {},
        kind=pb.INBOUND_KIND_RETURNED_REPLY,
        recipient_key=PEER_KEY,
        content_type=fields["content_type"],
        body=b"",
        relay_id="",
        transport=pb.TRANSPORT_UNSPECIFIED,
        returned_reply=pb.DirectReply(**fields),
    )


async def backlog_is(agent: Agent, n: int) -> bool:
    return await agent.backlog() == n


async def _started(transport) -> bool:
    consumer = transport.consumer
    return consumer is not None and bool(consumer._tasks)
