"""One AgentMessage through an ACA-Py session, the way ACA-Py's own HTTP transport hands it over.

ACA-Py's http transport (acapy_agent/transport/inbound/http.py) opens a session,
receives the body, answers at once or, when the message asks for a direct response
(return route), with the response its session buffered. The same here, except that
the answer is a DirectReply for the relay that holds the agent's request or socket,
and that the message counts as handled only once ACA-Py's handler succeeded (the
consumer then writes the events it raised, the jobs it sent and the acknowledgement
in one call: inbound_writes.py).
"""

import logging
from typing import Any

import redis.exceptions as redis_errors
from acapy_agent.core.error import ProfileError
from acapy_agent.messaging.error import MessageParseError
from acapy_agent.storage.error import StorageError
from acapy_agent.transport.error import WireFormatParseError
from acapy_agent.transport.wire_format import DIDCOMM_V0_MIME_TYPE, DIDCOMM_V1_MIME_TYPE

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.acapy_compat import inbound_manager_of
from acapy_bridge_shim.config import InboundSettings
from acapy_bridge_shim.inbound_handler_outcomes import (
    HandlerFailures,
    HandlerRejected,
    install_handler_outcome_hook,
    wait_processed,
)
from acapy_bridge_shim.inbound_outcome import Outcome, ReplyNow, RetryLater
from acapy_bridge_shim.pickup.message_types import is_pickup_v2_request
from acapy_bridge_shim.pickup.sessions import remember_session
from acapy_bridge_shim.wallet_routing import WalletRouter

# The transport's module logs for it: operators filter on that name.
LOGGER = logging.getLogger("acapy_bridge_shim.inbound")


def _session_epoch(message: pb.AgentMessage) -> int:
    return message.session_epoch or message.received_at_ms * 1000


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


def base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def sub_wallet_id(profile: Any, root_profile: Any) -> str:
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


class SessionDelivery:
    """Hands AgentMessages to ACA-Py, one session each (the consumer's `deliver`)."""

    def __init__(
        self,
        *,
        open_session: Any,
        manager_hint: object,
        root_profile: Any,
        settings: InboundSettings,
        max_message_size: int | None,
        wallets: WalletRouter | None,
    ) -> None:
        # open_session: the transport's create_session; manager_hint: what ACA-Py handed the transport
        # to create sessions with (its InboundTransportManager's bound method).
        self._open_session = open_session
        self._manager_hint = manager_hint
        self._root_profile = root_profile
        self._settings = settings
        self._max_message_size = max_message_size
        self._wallets = wallets
        self._handler_failures: HandlerFailures | None = None
        self._hook_checked = False

    async def deliver(self, message: pb.AgentMessage, reply_now: ReplyNow) -> Outcome:
        """Hands one message to ACA-Py the way its HTTP transport does (acapy_agent/transport/inbound/http.py)."""
        http_waiting = message.transport == pb.TRANSPORT_HTTP and bool(message.request_id)
        is_ws = message.transport == pb.TRANSPORT_WEBSOCKET
        mid, request_id, socket_id = message.mid, message.request_id, message.socket_id

        def direct_reply(**fields: Any) -> pb.DirectReply:
            return pb.DirectReply(mid=mid, request_id=request_id, socket_id=socket_id, **fields)

        def failure(status: int, reason: pb.DeadLetterReason, error: str) -> Outcome:
            return Outcome(
                reply=direct_reply(status=status, error=error[:500]) if http_waiting else None,
                close_socket=(1003, error) if is_ws and status == 400 else None,
                dead_letter=(reason, error),
            )

        raw = bytes(message.body)
        body: str | bytes = raw
        if self._max_message_size and len(raw) > self._max_message_size:
            return failure(413, pb.DEAD_LETTER_REASON_MALFORMED, f"message exceeds {self._max_message_size} bytes")
        if base_type(message.content_type) == JSON_TYPE:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                return failure(400, pb.DEAD_LETTER_REASON_MALFORMED, "application/json body is not UTF-8")

        session = await self._open_session(
            accept_undelivered=True,
            can_respond=True,
            client_info={"host": message.relay_id, "remote": message.remote_address},
        )
        failures = self._handler_outcomes(session)
        timeout = self._settings.processing_timeout_s
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
                    await reply_now(direct_reply(status=200))
                try:
                    await wait_processed(inbound, timeout, message.mid, failures)
                except HandlerRejected as refused:
                    return Outcome(dead_letter=(pb.DEAD_LETTER_REASON_POISON, str(refused)))
                return Outcome()

            try:
                await wait_processed(inbound, timeout, message.mid, failures)
            except HandlerRejected as refused:
                # As ACA-Py's HTTP transport: the request is answered, with no response in it.
                return Outcome(
                    reply=direct_reply(status=200) if http_waiting else None,
                    dead_letter=(pb.DEAD_LETTER_REASON_POISON, str(refused)),
                )
            buffered = session.response_buffer
            response = await session.wait_response() if buffered else None
            session.can_respond = False
            session.clear_response()
            if not response:
                return Outcome(reply=direct_reply(status=200) if http_waiting else None)
            if isinstance(response, bytes):
                new_type = session.profile.settings.get("emit_new_didcomm_mime_type")
                content_type = DIDCOMM_V1_MIME_TYPE if new_type else DIDCOMM_V0_MIME_TYPE
                payload = response
            else:
                content_type = JSON_TYPE
                payload = response.encode("utf-8")
            return Outcome(
                reply=direct_reply(
                    status=200,
                    content_type=content_type,
                    body=payload,
                    reply_to_verkey=buffered.reply_to_verkey or "",
                    connection_id=buffered.connection_id or "",
                    wallet_id=sub_wallet_id(session.profile, self._root_profile),
                )
            )

    async def _register_wallet_session(self, message: pb.AgentMessage, inbound: Any) -> None:
        """A wallet's socket asked for return route `all`: route its key to this socket, drain its mailbox.

        The key is the authcrypt sender's verkey, which is the wallet's connection key: ACA-Py's
        targets for that connection (`recipient_keys[0]`) name the same key, so a forward finds it.
        A Pickup 2.0 request marks the wallet as one that is never drained implicitly.
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

    def _handler_outcomes(self, session: Any) -> HandlerFailures | None:
        """The record of failed handlers, hooked into ACA-Py's InboundTransportManager on first use.

        Without the hook (an ACA-Py that changed), a handler's failure cannot be told from
        success: logged once, entries are acknowledged.
        """
        if self._hook_checked:
            return self._handler_failures
        self._hook_checked = True
        manager = inbound_manager_of(self._manager_hint, session)
        if manager is not None:
            try:
                self._handler_failures = install_handler_outcome_hook(manager)
            except Exception:  # noqa: BLE001 - e.g. a manager that refuses new attributes
                LOGGER.exception("acapy-bridge inbound: cannot hook into %s", type(manager).__name__)
            if self._handler_failures is not None:
                return self._handler_failures
        LOGGER.warning(
            "acapy-bridge inbound: cannot see ACA-Py handler outcomes (no InboundTransportManager."
            "dispatch_complete); a message whose handler fails is acknowledged anyway"
        )
        return None
