"""Direct responses the relay could not deliver, sent again the way ACA-Py sends an unreturned one.

A relay that lost the request or socket a direct response was for (or died with it)
hands the response back through the inbound partitions; the consumer's `requeue`
sends it through ACA-Py's conductor: back through an open inbound session, else its
outbound transports, else its undelivered queue.
"""

import logging
from typing import Any

from acapy_agent.messaging.responder import BaseResponder
from acapy_agent.multitenant.base import BaseMultitenantManager
from acapy_agent.storage.error import StorageNotFoundError
from acapy_agent.transport.outbound.message import OutboundMessage
from acapy_agent.transport.outbound.status import OutboundSendStatus
from acapy_agent.wallet.models.wallet_record import WalletRecord

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.acapy_compat import SendOutbound, conductor_router_of, responder_router
from acapy_bridge_shim.inbound_delivery import JSON_TYPE, TRANSIENT_RECEIVE_ERRORS, base_type
from acapy_bridge_shim.inbound_outcome import Outcome, RetryLater

# The transport's module logs for it: operators filter on that name.
LOGGER = logging.getLogger("acapy_bridge_shim.inbound")


class ReturnedReplies:
    """Sends returned direct responses through ACA-Py (the consumer's `requeue`)."""

    def __init__(self, *, manager_hint: object, root_profile: Any) -> None:
        # manager_hint: what ACA-Py handed the transport to create sessions with (its
        # InboundTransportManager's bound method), which leads to the conductor.
        self._manager_hint = manager_hint
        self._root_profile = root_profile

    def _outbound_router(self) -> SendOutbound | None:
        """ACA-Py's own way to send a message: `send(profile, outbound) -> OutboundSendStatus`.

        The conductor's `outbound_message_router`, which every responder of ACA-Py ends in
        (DispatcherResponder, AdminResponder). Without it (an ACA-Py that changed), the
        BaseResponder of the root context, bound only when ACA-Py runs an admin server; else None.
        """
        router = conductor_router_of(self._manager_hint)
        if router is not None:
            return router
        responder = self._root_profile.inject_or(BaseResponder)
        return responder_router(responder) if responder is not None else None

    async def _wallet_profile(self, wallet_id: str, what: str) -> tuple[Any, Outcome | None]:
        """The profile of sub-wallet `wallet_id`, as ACA-Py gets it (WalletRecord, then the multitenant manager).

        `what` names the reply and the wallet. Returns (profile, None), or (None, Outcome with a dead
        letter) when that wallet cannot send it any more: no multitenancy now, no such wallet (deleted
        since), or an unmanaged wallet, whose key ACA-Py does not hold. Transient errors (a store away)
        propagate: the caller retries.
        """

        def gone(why: str) -> Outcome:
            return Outcome(dead_letter=(pb.DEAD_LETTER_REASON_INVALID_ENDPOINT, f"{what}: that sub-wallet {why}"))

        manager = self._root_profile.inject_or(BaseMultitenantManager)
        if manager is None:
            return None, gone("is unknown: ACA-Py runs without multitenancy")
        try:
            async with self._root_profile.session() as session:
                wallet = await WalletRecord.retrieve_by_id(session, wallet_id)
        except StorageNotFoundError:
            return None, gone("does not exist (any more)")
        if wallet.requires_external_key:
            return None, gone("is unmanaged: ACA-Py does not hold its key")
        return await manager.get_wallet_profile(self._root_profile.context, wallet), None

    async def requeue(self, message: pb.AgentMessage) -> Outcome | None:
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
        raw = bytes(reply.body)
        payload: str | bytes = raw
        if base_type(reply.content_type) == JSON_TYPE:
            payload = raw.decode("utf-8", errors="replace")
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
        profile = self._root_profile
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
