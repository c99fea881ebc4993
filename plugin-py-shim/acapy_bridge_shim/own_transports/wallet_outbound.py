"""Messages for wallets without an endpoint go through Redis, not ACA-Py's in-memory queue.

Two ways in, both ending in `WalletRouter.deliver` (a live push to the inbox of the instance that
holds the wallet's socket, else the wallet's mailbox; full or expired: a dead letter):

* `route`: wraps the conductor's outbound router. A message whose targets have no http(s)/ws(s)
  endpoint (a forward for a mobile wallet, the mediator's own message to it) is packed for its
  target and handed to Redis before the handler's `send` returns, so a handler finishes only
  once its messages are in Redis (with `DurableHttpTransport`, only then is the sender's POST
  answered). A reply to the very session the request came on stays on that session.
* `RedisUndeliveredQueue`: what ACA-Py still calls undeliverable (a message whose target it found
  only later, a buffered response of a session that closed) lands in `add_message`, a synchronous
  call: it is handed to Redis in a task, in order per wallet.

A message taken from an instance's inbox and put in a session's buffer carries its WalletMessage
(`WALLET_MESSAGE_ATTRIBUTE`): when its session closes before writing it, the same message (same
`mid`) goes back to the wallet's mailbox, and a live Message Pickup copy (still in the mailbox) is
dropped.
"""

import asyncio
import logging
from urllib.parse import urlparse

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.acapy_compat import encode_for_target, send_status
from acapy_bridge_shim.outbound_jobs import new_mid
from acapy_bridge_shim.wallet_routing import WalletRouter

LOGGER = logging.getLogger(__name__)

ENDPOINT_SCHEMES = ("http", "https", "ws", "wss")
WALLET_MESSAGE_ATTRIBUTE = "acapy_bridge_wallet_message"
ENVELOPE_CONTENT_TYPE = "application/didcomm-envelope-enc"


def _targets(outbound) -> list:
    return [outbound.target] if outbound.target else list(outbound.target_list or [])


def _has_endpoint(target) -> bool:
    return urlparse(target.endpoint or "").scheme.lower() in ENDPOINT_SCHEMES


def wallet_key_of(outbound) -> str | None:
    """The wallet a message without an endpoint is for: the connection key its sessions route."""
    if outbound.reply_to_verkey:
        return outbound.reply_to_verkey
    for target in _targets(outbound):
        if target.recipient_keys:
            return target.recipient_keys[0]
    return None


class WalletOutbound:
    def __init__(self, *, conductor, wallets: WalletRouter, sessions: dict) -> None:
        self._conductor = conductor
        self._wallets = wallets
        self._sessions = sessions  # ACA-Py's open sessions, to recognise a reply to its own session
        # The last hand-over to Redis per wallet: the next one waits for it (keeps the order).
        self._lanes: dict[str, asyncio.Task] = {}
        self.stats = {"to_redis": 0, "queued_late": 0, "returned": 0, "held_dropped": 0, "failed": 0}

    async def route(self, original, profile, outbound, inbound=None):
        """The conductor's outbound router, with wallets' messages handed to Redis."""
        targets = _targets(outbound)
        if not targets or any(_has_endpoint(t) for t in targets) or self._answers_its_session(outbound):
            return await original(profile, outbound, inbound)
        key = wallet_key_of(outbound)
        if key is None:
            return await original(profile, outbound, inbound)
        status = send_status()
        body = await encode_for_target(self._conductor, profile, outbound, targets[0])
        await self._in_order(
            key, self._deliver(self._wallets.wallet_message(key, body, ENVELOPE_CONTENT_TYPE, new_mid()))
        )
        self.stats["to_redis"] += 1
        await profile.notify(status.WAITING_FOR_PICKUP.topic, outbound)
        return status.WAITING_FOR_PICKUP

    def _answers_its_session(self, outbound) -> bool:
        session = self._sessions.get(outbound.reply_session_id) if outbound.reply_session_id else None
        return session is not None and not session.closed and session.select_outbound(outbound)

    # ---- ACA-Py's undelivered queue, in Redis ----

    def add_message(self, outbound) -> None:
        """ACA-Py could not deliver `outbound`: it goes to the wallet's session or mailbox (in a task)."""
        carried: pb.WalletMessage | None = getattr(outbound, WALLET_MESSAGE_ATTRIBUTE, None)
        if carried is not None:
            if carried.held_in_mailbox:
                self.stats["held_dropped"] += 1  # a live Message Pickup copy: the mailbox still has it
                return
            self.stats["returned"] += 1
            self._spawn(carried.recipient_key, self._wallets.put_back(carried))
            return
        key = wallet_key_of(outbound)
        if key is None:
            LOGGER.warning("acapy-bridge own transports: an undeliverable message names no recipient; dropped")
            return
        self.stats["queued_late"] += 1
        self._spawn(key, self._encode_and_deliver(key, outbound))

    # DeliveryQueue's other methods: nothing waits in memory, the mailbox drains on route registration.
    def has_message_for_key(self, _key: str) -> bool:
        return False

    def message_count_for_key(self, _key: str) -> int:
        return 0

    def get_one_message_for_key(self, _key: str):
        return None

    def inspect_all_messages_for_key(self, _key: str):
        return iter(())

    def remove_message_for_key(self, _key: str, _message) -> None:
        return None

    async def _encode_and_deliver(self, key: str, outbound) -> None:
        if outbound.enc_payload:
            payload = outbound.enc_payload
            body = payload.encode("utf-8") if isinstance(payload, str) else payload
        else:
            targets = _targets(outbound)
            if not targets:
                LOGGER.warning("acapy-bridge own transports: unpacked message for %s without a target; dropped", key)
                return
            body = await encode_for_target(self._conductor, self._conductor.root_profile, outbound, targets[0])
        await self._deliver(self._wallets.wallet_message(key, body, ENVELOPE_CONTENT_TYPE, new_mid()))

    async def _deliver(self, message: pb.WalletMessage) -> None:
        await self._wallets.deliver(message)

    # ---- order per wallet ----

    async def _in_order(self, key: str, work) -> None:
        previous = self._lanes.get(key)
        task = asyncio.get_running_loop().create_task(self._after(previous, work))
        self._lanes[key] = task
        try:
            await asyncio.shield(task)
        finally:
            if self._lanes.get(key) is task and task.done():
                del self._lanes[key]

    def _spawn(self, key: str, work) -> None:
        previous = self._lanes.get(key)
        task = asyncio.get_running_loop().create_task(self._after(previous, work))
        self._lanes[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: str, task: asyncio.Task) -> None:
        if self._lanes.get(key) is task:
            del self._lanes[key]
        if not task.cancelled() and task.exception() is not None:
            self.stats["failed"] += 1
            LOGGER.error("acapy-bridge own transports: a message for %s did not reach Redis: %s", key, task.exception())

    @staticmethod
    async def _after(previous: asyncio.Task | None, work) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await work

    async def settle(self) -> None:
        while self._lanes:
            await asyncio.gather(*list(self._lanes.values()), return_exceptions=True)
