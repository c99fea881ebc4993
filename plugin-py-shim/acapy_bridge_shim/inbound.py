"""ACA-Py inbound transport: DIDComm messages from the relay tier, through Redis.

Load with `-it acapy_bridge_shim.inbound <host> <port>` (host and port are
ignored) and `--plugin acapy_bridge_shim`. Each message becomes an ACA-Py
session exactly as ACA-Py's own HTTP transport makes one, and its direct
response (return route) goes back to the relay that holds the agent's request
or socket. ACA-Py picks the first `BaseInboundTransport` subclass of this
module in alphabetical order, so it must be the only one here.
"""

import asyncio
import logging

from acapy_agent.messaging.error import MessageParseError
from acapy_agent.messaging.responder import BaseResponder
from acapy_agent.transport.error import WireFormatParseError
from acapy_agent.transport.inbound.base import BaseInboundTransport
from acapy_agent.transport.outbound.message import OutboundMessage
from acapy_agent.transport.wire_format import DIDCOMM_V0_MIME_TYPE, DIDCOMM_V1_MIME_TYPE

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import load_config
from acapy_bridge_shim.inbound_consumer import InboundConsumer, Outcome

LOGGER = logging.getLogger(__name__)

JSON_TYPE = "application/json"


def _base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


class RedisInboundTransport(BaseInboundTransport):
    """Takes DIDComm messages from the inbound partitions (consumer group `acapy`)."""

    def __init__(self, host: str, port: str, create_session, **kwargs) -> None:
        super().__init__("redis", create_session, **kwargs)
        self.host = host
        self.port = port
        # A bad configuration must stop ACA-Py here: a failing plugin or start() is only logged.
        self.config = load_config(self.root_profile.settings)
        self._consumer: InboundConsumer | None = None
        self._starter: asyncio.Task | None = None
        self._wallets = None

    async def start(self) -> None:
        # Connect in the background: ACA-Py does not wait for (or check) start().
        self._starter = asyncio.create_task(self._start(), name="acapy-bridge-inbound-start")

    async def _start(self) -> None:
        from acapy_bridge_shim import runtime_for

        delay = 0.5
        while True:
            try:
                runtime = await runtime_for(self.root_profile.context).connect()
                break
            except Exception as error:  # noqa: BLE001 - Redis may come up after ACA-Py
                LOGGER.warning("acapy-bridge inbound: cannot connect to Redis yet (%s); retrying", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        membership = runtime.membership
        self._wallets = runtime.wallets

        async def live_consumers() -> list[str]:
            return await membership.live_members(membership.role)

        self._consumer = InboundConsumer(
            client=runtime.client,
            scripts=runtime.scripts,
            keyspace=runtime.keyspace,
            consumer=runtime.instance_id,
            settings=self.config.inbound,
            deliver=self._deliver,
            requeue=self._requeue,
            live_consumers=live_consumers,
        )
        await self._consumer.start()
        LOGGER.info(
            "acapy-bridge inbound: consumer %s reads %d inbound partitions (concurrency %d)",
            runtime.instance_id,
            runtime.keyspace.partition_count("inbound_queue"),
            self.config.inbound.concurrency,
        )

    async def stop(self) -> None:
        if self._starter and not self._starter.done():
            self._starter.cancel()
        if self._consumer:
            await self._consumer.stop()

    @property
    def consumer(self) -> InboundConsumer | None:
        return self._consumer

    async def _deliver(self, message: pb.AgentMessage, reply_now) -> Outcome:
        """Hands one message to ACA-Py the way its HTTP transport does (acapy_agent/transport/inbound/http.py)."""
        http_waiting = message.transport == pb.TRANSPORT_HTTP and bool(message.request_id)
        is_ws = message.transport == pb.TRANSPORT_WEBSOCKET
        base = {"mid": message.mid, "request_id": message.request_id, "socket_id": message.socket_id}

        def failure(status: int, reason: int, error: str) -> Outcome:
            return Outcome(
                reply=pb.DirectReply(status=status, error=error[:500], **base) if http_waiting else None,
                close_socket=(1003, error) if is_ws and status == 400 else None,
                dead_letter=(reason, error),
            )

        body: str | bytes = bytes(message.body)
        if self.max_message_size and len(body) > self.max_message_size:
            return failure(413, pb.DEAD_LETTER_REASON_MALFORMED, f"message exceeds {self.max_message_size} bytes")
        if _base_type(message.content_type) == JSON_TYPE:
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                return failure(400, pb.DEAD_LETTER_REASON_MALFORMED, "application/json body is not UTF-8")

        session = await self.create_session(
            accept_undelivered=True,
            can_respond=True,
            client_info={"host": message.relay_id, "remote": message.remote_address},
        )
        timeout = self.config.inbound.processing_timeout_s
        async with session:
            try:
                inbound = await session.receive(body)
            except (MessageParseError, WireFormatParseError) as error:
                return failure(400, pb.DEAD_LETTER_REASON_MALFORMED, str(error) or type(error).__name__)
            except Exception as error:  # noqa: BLE001 - ACA-Py's http transport answers 500
                LOGGER.exception("acapy-bridge inbound: unexpected error receiving mid=%s", message.mid)
                return failure(500, pb.DEAD_LETTER_REASON_POISON, f"{type(error).__name__}: {error}")

            if is_ws and message.socket_id:
                await self._register_wallet_session(message, inbound.receipt)

            if not inbound.receipt.direct_response_requested:
                # ACA-Py's HTTP transport answers right after parsing; so does the relay's request.
                if http_waiting:
                    await reply_now(pb.DirectReply(status=200, **base))
                await self._wait_processed(inbound, timeout, message.mid)
                await self._wait_events_written(timeout, message.mid)
                return Outcome()

            await self._wait_processed(inbound, timeout, message.mid)
            await self._wait_events_written(timeout, message.mid)
            buffered = session.response_buffer
            response = await session.wait_response() if buffered else None
            session.can_respond = False
            session.clear_response()
            if not response:
                return Outcome(reply=pb.DirectReply(status=200, **base) if http_waiting else None)
            if isinstance(response, bytes):
                new_type = session.profile.settings.get("emit_new_didcomm_mime_type")
                content_type = DIDCOMM_V1_MIME_TYPE if new_type else DIDCOMM_V0_MIME_TYPE
                payload = response
            else:
                content_type = JSON_TYPE
                payload = response.encode("utf-8")
            return Outcome(
                reply=pb.DirectReply(
                    status=200,
                    content_type=content_type,
                    body=payload,
                    reply_to_verkey=buffered.reply_to_verkey or "",
                    connection_id=buffered.connection_id or "",
                    **base,
                )
            )

    async def _register_wallet_session(self, message: pb.AgentMessage, receipt) -> None:
        """A wallet's socket asked for return route `all`: route its key to this socket, drain its mailbox.

        The key is the authcrypt sender's verkey, which is the wallet's connection key: ACA-Py's
        targets for that connection (`recipient_keys[0]`) name the same key, so a forward finds it.
        """
        if self._wallets is None or receipt.direct_response_mode != "all" or not receipt.sender_verkey:
            return
        epoch = message.session_epoch or message.received_at_ms * 1000
        try:
            await self._wallets.register_route(receipt.sender_verkey, message.relay_id, message.socket_id, epoch)
        except Exception:  # noqa: BLE001 - the message itself is still handled; the route is retried next frame
            LOGGER.exception("acapy-bridge inbound: could not register the route of %s", receipt.sender_verkey)

    @staticmethod
    async def _wait_processed(inbound, limit_s: float, mid: str) -> None:
        try:
            await asyncio.wait_for(inbound.wait_processing_complete(), limit_s)
        except TimeoutError:
            LOGGER.warning("acapy-bridge inbound: mid=%s still processing after %.0f s; acknowledging", mid, limit_s)

    async def _wait_events_written(self, limit_s: float, mid: str) -> None:
        """The events (webhooks) this message raised reach Redis before it is acknowledged."""
        from acapy_bridge_shim.events import EventPublisher

        publisher = self.root_profile.inject_or(EventPublisher)
        if publisher is not None and not await publisher.written_so_far(limit_s):
            LOGGER.warning(
                "acapy-bridge inbound: events of mid=%s not in Redis after %.0f s; acknowledging", mid, limit_s
            )

    async def _requeue(self, message: pb.AgentMessage) -> None:
        """A direct response the relay could not deliver: route it like ACA-Py routes an unreturned one."""
        reply = message.returned_reply
        payload: str | bytes = bytes(reply.body)
        if _base_type(reply.content_type) == JSON_TYPE:
            payload = payload.decode("utf-8", errors="replace")
        outbound = OutboundMessage(
            payload=None,
            enc_payload=payload,
            reply_to_verkey=reply.reply_to_verkey or None,
            connection_id=reply.connection_id or None,
        )
        responder = self.root_profile.inject(BaseResponder)
        status = await responder.send_outbound(outbound)
        LOGGER.info(
            "acapy-bridge inbound: returned reply for mid=%s re-routed (%s)", reply.mid, getattr(status, "name", status)
        )
