"""ACA-Py inbound transport: DIDComm messages from the relay tier, through Redis.

Load with `-it acapy_bridge_shim.inbound <host> <port>` (host and port are
ignored) and `--plugin acapy_bridge_shim`. Each message becomes an ACA-Py
session exactly as ACA-Py's own HTTP transport makes one, and its direct
response (return route) goes back to the relay that holds the agent's request
or socket. ACA-Py picks the first `BaseInboundTransport` subclass of this
module in alphabetical order, so it must be the only one here.

An entry is acknowledged only once ACA-Py's handler for it has succeeded and the
events it raised are in Redis. A handler that raised or was cancelled (ACA-Py
reports both as "processing complete", with `exc_info`), a transient error while
receiving, or a wait that timed out raises `RetryLater` to the consumer: the
entry stays pending and is delivered again (counting toward `max_deliveries`,
after which the consumer dead-letters it as poison). A handler that refused the
message (HandlerException) would refuse it again: it is dead-lettered at once.
"""

import asyncio
import logging
import time
import weakref

import redis.exceptions as redis_errors
from acapy_agent.core.error import ProfileError
from acapy_agent.messaging.base_handler import HandlerException
from acapy_agent.messaging.error import MessageParseError
from acapy_agent.messaging.responder import BaseResponder
from acapy_agent.multitenant.base import BaseMultitenantManager
from acapy_agent.storage.error import StorageError, StorageNotFoundError
from acapy_agent.transport.error import WireFormatParseError
from acapy_agent.transport.inbound.base import BaseInboundTransport
from acapy_agent.transport.outbound.message import OutboundMessage
from acapy_agent.transport.outbound.status import OutboundSendStatus
from acapy_agent.transport.wire_format import DIDCOMM_V0_MIME_TYPE, DIDCOMM_V1_MIME_TYPE
from acapy_agent.wallet.models.wallet_record import WalletRecord

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import load_config
from acapy_bridge_shim.inbound_consumer import InboundConsumer, Outcome, RetryLater
from acapy_bridge_shim.pickup.message_types import is_pickup_v2_request
from acapy_bridge_shim.pickup.sessions import remember_session

LOGGER = logging.getLogger(__name__)

JSON_TYPE = "application/json"

# Receiving failed for a reason that may pass (a store or Redis away, a timeout): deliver again later.
TRANSIENT_RECEIVE_ERRORS = (
    TimeoutError,  # asyncio.TimeoutError is the same class
    ProfileError,
    StorageError,
    redis_errors.ConnectionError,  # includes BusyLoadingError
    redis_errors.TimeoutError,
    ConnectionError,
)
START_RETRY_FIRST_S = 0.5
START_RETRY_MAX_S = 5.0
HOOK_ATTRIBUTE = "_acapy_bridge_handler_failures"


def _session_epoch(message: pb.AgentMessage) -> int:
    return message.session_epoch or message.received_at_ms * 1000


class HandlerRejected(Exception):
    """ACA-Py's handler refused the message (HandlerException): the same would happen again."""


def _failure_of(completed) -> tuple[str, bool] | None:
    """('Type: message', refused) of the handler's exception or cancellation; None when it succeeded.

    `refused` is True for a HandlerException: the handler judged the message itself (not
    ready, not allowed, inconsistent), so delivering it again would fail the same way.
    """
    exc_info = getattr(completed, "exc_info", None)
    if not exc_info:
        return None
    exc = exc_info[1] if len(exc_info) > 1 else None
    if exc is None:
        return getattr(exc_info[0], "__name__", "error"), False
    described = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return described, isinstance(exc, HandlerException)


def install_handler_outcome_hook(manager) -> "weakref.WeakKeyDictionary | None":
    """Wraps, once, the InboundTransportManager's dispatch_complete to remember failed handlers.

    ACA-Py's conductor calls `inbound_transport_manager.dispatch_complete(message, completed)`
    when a handler ends, whether it succeeded, raised or was cancelled; `completed.exc_info`
    tells which. The wrapper records a failure per InboundMessage (weakly: a message nobody
    waits for does not linger) and then calls ACA-Py's method. Returns the record, or None
    when the manager has no such method.
    """
    failures = getattr(manager, HOOK_ATTRIBUTE, None)
    if failures is not None:
        return failures
    original = getattr(manager, "dispatch_complete", None)
    if manager is None or not callable(original):
        return None
    failures = weakref.WeakKeyDictionary()

    def dispatch_complete(message, completed):
        try:
            failure = _failure_of(completed)
            if failure is not None:
                failures[message] = failure
        except Exception:  # noqa: BLE001 - never get in ACA-Py's way
            LOGGER.exception("acapy-bridge inbound: cannot record a handler outcome")
        return original(message, completed)

    manager.dispatch_complete = dispatch_complete
    setattr(manager, HOOK_ATTRIBUTE, failures)
    return failures


def _base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def sub_wallet_id(profile, root_profile) -> str:
    """The ACA-Py sub-wallet (multitenancy) a session's profile belongs to; "" for the base wallet.

    With multitenancy ACA-Py switches an inbound session's profile to the sub-wallet the message is
    for (InboundSession.handle_relay_context, MultitenantManager.get_wallet_profile); that profile's
    settings carry the wallet record's `wallet.id`. The base wallet is no wallet record: its profile
    (the root profile) carries none, or its own, which is not a sub-wallet's.
    """
    settings = profile.settings
    if not settings.get("multitenant.enabled"):
        return ""
    wallet_id = settings.get("wallet.id") or ""
    if not wallet_id or profile is root_profile or wallet_id == (root_profile.settings.get("wallet.id") or ""):
        return ""
    return str(wallet_id)


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
        self._handler_failures = None
        self._hook_checked = False

    async def start(self) -> None:
        # Connect in the background: ACA-Py does not wait for (or check) start().
        self._starter = asyncio.create_task(self._start(), name="acapy-bridge-inbound-start")

    async def _start(self) -> None:
        """Connects and starts the consumer; every failure is logged and retried (backoff) until it runs."""
        delay = START_RETRY_FIRST_S
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._start_once()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis may come up (or finish loading) after ACA-Py
                if getattr(self._consumer, "_stopping", False):
                    LOGGER.info("acapy-bridge inbound: stopped before it could start (%s)", error)
                    return
                LOGGER.warning(
                    "acapy-bridge inbound: not reading yet (attempt %d: %s: %s); retrying in %.1f s",
                    attempt,
                    type(error).__name__,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, START_RETRY_MAX_S)

    async def _start_once(self) -> None:
        from acapy_bridge_shim import runtime_for

        runtime = await runtime_for(self.root_profile.context).connect()
        membership = runtime.membership
        self._wallets = runtime.wallets

        async def live_consumers() -> list[str]:
            return await membership.live_members(membership.role)

        if self._consumer is None:
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
        runtime.inbound = self._consumer
        # Creates the consumer groups, then starts reading; a failure there started nothing.
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
            try:
                await self._starter
            except asyncio.CancelledError:
                pass
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
        failures = self._handler_outcomes(session)
        timeout = self.config.inbound.processing_timeout_s
        async with session:
            try:
                inbound = await session.receive(body)
            except (MessageParseError, WireFormatParseError) as error:
                return failure(400, pb.DEAD_LETTER_REASON_MALFORMED, str(error) or type(error).__name__)
            except TRANSIENT_RECEIVE_ERRORS as error:
                raise RetryLater(
                    f"mid={message.mid}: receiving failed ({type(error).__name__}: {error}); delivered again later"
                ) from error
            except Exception as error:  # noqa: BLE001 - ACA-Py's http transport answers 500
                LOGGER.exception("acapy-bridge inbound: unexpected error receiving mid=%s", message.mid)
                return failure(500, pb.DEAD_LETTER_REASON_POISON, f"{type(error).__name__}: {error}")

            if is_ws and message.socket_id:
                # Before any await: ACA-Py's dispatch of this message (a task) has not run yet.
                remember_session(inbound.receipt, message.relay_id, message.socket_id, _session_epoch(message))
                await self._register_wallet_session(message, inbound)

            if not inbound.receipt.direct_response_requested:
                # ACA-Py's HTTP transport answers right after parsing; so does the relay's request.
                if http_waiting:
                    await reply_now(pb.DirectReply(status=200, **base))
                try:
                    await self._wait_processed(inbound, timeout, message.mid, failures)
                except HandlerRejected as refused:
                    return Outcome(dead_letter=(pb.DEAD_LETTER_REASON_POISON, str(refused)))
                await self._wait_events_written(timeout, message.mid)
                return Outcome()

            try:
                await self._wait_processed(inbound, timeout, message.mid, failures)
            except HandlerRejected as refused:
                # As ACA-Py's HTTP transport: the request is answered, with no response in it.
                return Outcome(
                    reply=pb.DirectReply(status=200, **base) if http_waiting else None,
                    dead_letter=(pb.DEAD_LETTER_REASON_POISON, str(refused)),
                )
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
                    wallet_id=sub_wallet_id(session.profile, self.root_profile),
                    **base,
                )
            )

    async def _register_wallet_session(self, message: pb.AgentMessage, inbound) -> None:
        """A wallet's socket asked for return route `all`: route its key to this socket, drain its mailbox.

        The key is the authcrypt sender's verkey, which is the wallet's connection key: ACA-Py's
        targets for that connection (`recipient_keys[0]`) name the same key, so a forward finds it.
        """
        receipt = inbound.receipt
        if self._wallets is None or receipt.direct_response_mode != "all" or not receipt.sender_verkey:
            return
        epoch = _session_epoch(message)
        payload = inbound.payload if isinstance(inbound.payload, dict) else {}
        try:
            await self._wallets.register_route(
                receipt.sender_verkey,
                message.relay_id,
                message.socket_id,
                epoch,
                pickup_request=is_pickup_v2_request(payload.get("@type")),
            )
        except Exception:  # noqa: BLE001 - the message itself is still handled; the route is retried next frame
            LOGGER.exception("acapy-bridge inbound: could not register the route of %s", receipt.sender_verkey)

    def _handler_outcomes(self, session) -> "weakref.WeakKeyDictionary | None":
        """The record of failed handlers, hooked into ACA-Py's InboundTransportManager on first use.

        The manager hands transports its bound `create_session` and sessions its bound
        `closed_session`; either names it. Without the hook (an ACA-Py that changed), a
        handler's failure cannot be told from success: logged once, entries are acknowledged.
        """
        if self._hook_checked:
            return self._handler_failures
        self._hook_checked = True
        for bound in (self._create_session, getattr(session, "close_handler", None)):
            manager = getattr(bound, "__self__", None)
            if manager is not None and callable(getattr(manager, "dispatch_complete", None)):
                try:
                    self._handler_failures = install_handler_outcome_hook(manager)
                except Exception:  # noqa: BLE001 - e.g. a manager that refuses new attributes
                    LOGGER.exception("acapy-bridge inbound: cannot hook into %s", type(manager).__name__)
                    continue
                if self._handler_failures is not None:
                    return self._handler_failures
        LOGGER.warning(
            "acapy-bridge inbound: cannot see ACA-Py handler outcomes (no InboundTransportManager."
            "dispatch_complete); a message whose handler fails is acknowledged anyway"
        )
        return None

    @staticmethod
    async def _wait_processed(inbound, limit_s: float, mid: str, failures=None) -> None:
        """Returns once ACA-Py's handler succeeded.

        Raises HandlerRejected when the handler refused the message (dead-lettered at once: a
        retry would be refused again), RetryLater when it failed otherwise, was cancelled or
        outlasted limit_s.
        """
        try:
            await asyncio.wait_for(inbound.wait_processing_complete(), limit_s)
        except TimeoutError:
            raise RetryLater(f"mid={mid} still processing after {limit_s:.0f} s; not acknowledged") from None
        failure = failures.pop(inbound, None) if failures is not None else None
        if failure is not None:
            described, refused = failure
            if refused:
                raise HandlerRejected(f"mid={mid}: ACA-Py's handler refused it ({described})")
            raise RetryLater(f"mid={mid}: ACA-Py's handler failed ({described}); not acknowledged")

    async def _wait_events_written(self, limit_s: float, mid: str) -> None:
        """The events (webhooks) this message raised reach Redis before it is acknowledged."""
        from acapy_bridge_shim.events import EventPublisher

        publisher = self.root_profile.inject_or(EventPublisher)
        started = time.monotonic()
        if publisher is not None and not await publisher.written_so_far(limit_s):
            raise RetryLater(
                f"mid={mid}: its events not in Redis after {time.monotonic() - started:.0f} s; not acknowledged"
            )

    def _outbound_router(self):
        """ACA-Py's own way to send a message: `send(profile, outbound) -> OutboundSendStatus`.

        That is the conductor's `outbound_message_router`, which every responder of ACA-Py ends in
        (DispatcherResponder, AdminResponder): back through an open inbound session, else its outbound
        transports, else its undelivered queue. The InboundTransportManager that hands this transport
        `create_session` holds the conductor's bound `handle_not_returned` and `inbound_message_router`.
        Without them (an ACA-Py that changed), the BaseResponder of the root context, bound only when
        ACA-Py runs an admin server; else None.
        """
        manager = getattr(self._create_session, "__self__", None)
        for bound in (getattr(manager, "return_inbound", None), getattr(manager, "receive_inbound", None)):
            router = getattr(getattr(bound, "__self__", None), "outbound_message_router", None)
            if callable(router):
                return router
        responder = self.root_profile.inject_or(BaseResponder)
        if responder is not None:
            # AdminResponder.send_fn is the conductor's router: it sends with the profile given (a sub-wallet's).
            send_fn = getattr(responder, "send_fn", None)
            if callable(send_fn):
                return send_fn

            async def send(_profile, outbound):
                return await responder.send_outbound(outbound)

            return send
        return None

    async def _wallet_profile(self, wallet_id: str, what: str):
        """The profile of sub-wallet `wallet_id`, as ACA-Py gets it (WalletRecord, then the multitenant manager).

        `what` names the reply and the wallet. Returns (profile, None), or (None, Outcome with a dead
        letter) when that wallet cannot send it any more: no multitenancy now, no such wallet (deleted
        since), or an unmanaged wallet, whose key ACA-Py does not hold. Transient errors (a store away)
        propagate: the caller retries.
        """

        def gone(why: str) -> Outcome:
            return Outcome(dead_letter=(pb.DEAD_LETTER_REASON_INVALID_ENDPOINT, f"{what}: that sub-wallet {why}"))

        manager = self.root_profile.inject_or(BaseMultitenantManager)
        if manager is None:
            return None, gone("is unknown: ACA-Py runs without multitenancy")
        try:
            async with self.root_profile.session() as session:
                wallet = await WalletRecord.retrieve_by_id(session, wallet_id)
        except StorageNotFoundError:
            return None, gone("does not exist (any more)")
        if wallet.requires_external_key:
            return None, gone("is unmanaged: ACA-Py does not hold its key")
        return await manager.get_wallet_profile(self.root_profile.context, wallet), None

    async def _requeue(self, message: pb.AgentMessage) -> Outcome | None:
        """A direct response the relay could not deliver: sent the way ACA-Py sends an unreturned one.

        Returns None once ACA-Py took it (sent to a session, queued for its outbound transports, or,
        logged as a warning, kept in its in-memory undelivered queue); an Outcome with a dead letter
        when it cannot be sent (UNDELIVERABLE, an unknown connection or sub-wallet). Transient errors
        raise RetryLater: the entry stays pending.

        Multitenancy: a reply carrying a wallet id (the sub-wallet whose session produced it) is sent
        with that sub-wallet's profile, where its connection is known; one without, with the root
        profile. A sub-wallet that no longer exists makes it a dead letter (INVALID_ENDPOINT).
        """
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
        to = f"connection {reply.connection_id}" if reply.connection_id else f"key {reply.reply_to_verkey or '?'}"
        what = f"returned direct response to mid={reply.mid} (for {to})"
        send = self._outbound_router()
        if send is None:
            raise RetryLater(f"{what}: no way to send it (no ACA-Py conductor or responder found); not acknowledged")
        profile = self.root_profile
        try:
            if reply.wallet_id:
                what += f" in sub-wallet {reply.wallet_id}"
                profile, dead = await self._wallet_profile(reply.wallet_id, what)
                if dead is not None:
                    return dead
            status = await send(profile, outbound)
        except StorageNotFoundError as error:
            where = "that sub-wallet" if reply.wallet_id else "the base wallet (the reply names no sub-wallet)"
            detail = f"{what}: ACA-Py cannot send it, the connection is unknown in {where} ({error})"
            return Outcome(dead_letter=(pb.DEAD_LETTER_REASON_INVALID_ENDPOINT, detail))
        except TRANSIENT_RECEIVE_ERRORS as error:
            raise RetryLater(f"{what}: sending failed ({type(error).__name__}: {error}); not acknowledged") from error
        name = getattr(status, "name", str(status))
        if status == OutboundSendStatus.UNDELIVERABLE:
            return Outcome(
                dead_letter=(
                    pb.DEAD_LETTER_REASON_INVALID_ENDPOINT,
                    f"{what}: ACA-Py cannot send it (UNDELIVERABLE: no session, endpoint or transport for it, "
                    "no undelivered queue)",
                )
            )
        if status == OutboundSendStatus.WAITING_FOR_PICKUP:
            LOGGER.warning(
                "acapy-bridge inbound: %s kept in ACA-Py's in-memory undelivered queue (WAITING_FOR_PICKUP) "
                "until the recipient picks it up; lost if ACA-Py stops first",
                what,
            )
            return None
        LOGGER.info("acapy-bridge inbound: %s sent again (%s)", what, name)
        return None
