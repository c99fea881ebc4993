"""ACA-Py handlers of the Pickup messages a wallet sends to the mediator.

The wallet is the authcrypt sender: its connection key, the key its mailbox and route are
kept under (docs/mediator.md). Replies go back with `send_reply`: on the wallet's socket when it
asked for return route `all` (it does on a WebSocket), else like any message to the wallet.
"""

from acapy_agent.messaging.base_handler import BaseHandler, BaseResponder, RequestContext
from acapy_agent.protocols.coordinate_mediation.v1_0.normalization import normalize_from_did_key
from acapy_agent.protocols.problem_report.v1_0.message import ProblemReport

from acapy_bridge_shim.pickup.live import attachment_of, received_time
from acapy_bridge_shim.pickup.mailbox import MailboxStatus, PickupMailbox, same_session
from acapy_bridge_shim.pickup.messages import (
    Batch,
    BatchPickup,
    Delivery,
    DeliveryRequest,
    LiveDeliveryChange,
    MessagesReceived,
    Status,
    StatusRequest,
    V1Status,
    V1StatusRequest,
)
from acapy_bridge_shim.pickup.sessions import session_of
from acapy_bridge_shim.wallet_protocols import connected_runtime, reply_in_thread, sender_wallet_key

LIVE_MODE_UNSUPPORTED = "e.m.live-mode-not-supported"
MAX_DELIVERY_LIMIT = 100  # messages per delivery, whatever the wallet asks for


async def _mailbox(context: RequestContext) -> PickupMailbox:
    return (await connected_runtime(context)).pickup


def _wallet_key(context: RequestContext) -> str:
    return sender_wallet_key(context, "collect for")


def _recipient_filter(recipient_key: str | None) -> str | None:
    return normalize_from_did_key(recipient_key) if recipient_key else None


def _status_message(status: MailboxStatus, *, now_ms: int, recipient_key=None, live_delivery=None) -> Status:
    return Status(
        message_count=status.message_count,
        recipient_key=recipient_key,
        longest_waited_seconds=(now_ms - status.oldest_created_ms) // 1000 if status.oldest_created_ms else None,
        oldest_received_time=received_time(status.oldest_created_ms) if status.oldest_created_ms else None,
        newest_received_time=received_time(status.newest_created_ms) if status.newest_created_ms else None,
        total_bytes=status.total_bytes,
        live_delivery=live_delivery,
    )


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


_reply = reply_in_thread


class StatusRequestHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, StatusRequest)
        wallet, mailbox = _wallet_key(context), await _mailbox(context)
        session = session_of(context.message_receipt)
        state = await mailbox.mark(wallet, session=session)
        session = await mailbox.answering_for(wallet, state, session)
        recipient = _recipient_filter(context.message.recipient_key)
        status = await mailbox.status(wallet, session=session, recipient_key=recipient)
        await _reply(
            context,
            responder,
            _status_message(
                status, now_ms=_now_ms(), recipient_key=context.message.recipient_key, live_delivery=state.live_delivery
            ),
        )


class DeliveryRequestHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, DeliveryRequest)
        wallet, mailbox = _wallet_key(context), await _mailbox(context)
        session = session_of(context.message_receipt)
        state = await mailbox.mark(wallet, session=session)
        session = await mailbox.answering_for(wallet, state, session)
        limit = max(1, min(int(context.message.limit or 1), MAX_DELIVERY_LIMIT))
        recipient = _recipient_filter(context.message.recipient_key)
        # Only a session in live mode races with live pushes; without it, what a `delivery` hands
        # out and the wallet does not acknowledge comes again in the next one (RFC 0685).
        live_here = state.live_delivery and same_session(state.live_session, session)
        waiting = await mailbox.deliverable(
            wallet, limit=limit, session=session, recipient_key=recipient, claim=live_here
        )
        if not waiting:
            # RFC 0685: nothing to deliver is answered with a status whose message_count is 0.
            reply = Status(message_count=0, recipient_key=context.message.recipient_key)
        else:
            reply = Delivery(
                attachments=[attachment_of(m) for m in waiting], recipient_key=context.message.recipient_key
            )
        await _reply(context, responder, reply)


class MessagesReceivedHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, MessagesReceived)
        wallet, mailbox = _wallet_key(context), await _mailbox(context)
        session = session_of(context.message_receipt)
        state = await mailbox.mark(wallet, session=session)
        session = await mailbox.answering_for(wallet, state, session)
        await mailbox.acknowledge(wallet, [str(mid) for mid in context.message.message_id_list])
        status = await mailbox.status(wallet, session=session)
        await _reply(context, responder, _status_message(status, now_ms=_now_ms(), live_delivery=state.live_delivery))


class LiveDeliveryChangeHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, LiveDeliveryChange)
        wallet, mailbox = _wallet_key(context), await _mailbox(context)
        session = session_of(context.message_receipt)
        live = bool(context.message.live_delivery)
        if live and session is None:
            # Live delivery needs a socket to push to: the message did not come on a WebSocket session.
            await mailbox.mark(wallet)
            report = ProblemReport(
                description={"en": "Connection does not support Live Delivery", "code": LIVE_MODE_UNSUPPORTED}
            )
            await _reply(context, responder, report)
            return
        state = await mailbox.mark(wallet, live_delivery=live, session=session)
        status = await mailbox.status(wallet, session=session)
        await _reply(context, responder, _status_message(status, now_ms=_now_ms(), live_delivery=state.live_delivery))


# ---- Message Pickup 1.0 (RFC 0212): no acknowledgement, so a batch removes what it hands out ----


class V1StatusRequestHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, V1StatusRequest)
        wallet, mailbox = _wallet_key(context), await _mailbox(context)
        status = await mailbox.status(wallet)
        now = _now_ms()
        reply = V1Status(
            message_count=status.message_count,
            duration_waited=(now - status.oldest_created_ms) // 1000 if status.oldest_created_ms else None,
            oldest_time=received_time(status.oldest_created_ms) if status.oldest_created_ms else None,
            newest_time=received_time(status.newest_created_ms) if status.newest_created_ms else None,
        )
        await _reply(context, responder, reply)


class BatchPickupHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, BatchPickup)
        wallet, mailbox = _wallet_key(context), await _mailbox(context)
        limit = max(1, min(int(context.message.batch_size or 1), MAX_DELIVERY_LIMIT))
        waiting = await mailbox.waiting(wallet, limit=limit)
        batch = Batch(messages=[{"@id": m.mid, "message": _as_json(m)} for m in waiting])
        await _reply(context, responder, batch)
        # Handed to ACA-Py for the reply: removed now, since 1.0 has no acknowledgement.
        await mailbox.acknowledge(wallet, [m.mid for m in waiting])


def _as_json(message) -> dict | str:
    import json

    try:
        return json.loads(bytes(message.body))
    except ValueError:
        return bytes(message.body).decode("utf-8", errors="replace")
