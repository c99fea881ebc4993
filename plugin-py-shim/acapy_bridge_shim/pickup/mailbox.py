"""The wallet mailbox as Message Pickup sees it: counted, read and acknowledged in place, in Redis.

Message Pickup 2.0 (RFC 0685) leaves a message in the mailbox until the wallet names it in
`messages-received`; delivering it removes nothing. Everything lives in the wallet's `{w:KEY}`
slot (the mailbox, `wallet_pickup`, `wallet_pickup_sent`), so any shim instance answers any
pickup message and live delivery follows the wallet whichever instance it talks to.

* `mark` records that the wallet collects with Pickup 2.0 (and live delivery, for which
  session). While that record exists no drain moves the mailbox: `WalletRouter.register_route`
  and the relays' drains skip it (`route_set` / `mailbox_offer` report it).
* `status` / `waiting`: what waits, oldest first, optionally only what is encrypted for one
  recipient key (a routing key the wallet registered with keylist-update). Messages already
  sent to the asking session (claimed for it, below) and not acknowledged are left
  out: the wallet has them or will (its acknowledgement follows).
* `claim`: before a message goes to a session in live mode (a live push, or a `delivery`),
  `pickup_claim` records it in `wallet_pickup_sent` for that session's epoch, atomically, if
  nobody did yet and it is still in the mailbox. Two instances racing to send the same message
  to the same session (a live push of a new message and a `delivery` answering the wallet's
  `delivery-request` on another instance) both claim; only the winner sends it, so a wallet in
  live mode gets each message once while connected. Without live mode nothing is claimed: what
  a `delivery` hands out and the wallet does not acknowledge comes again in the next one.
* `acknowledge`: `pickup_ack` removes exactly the named mids.
* `arrived`: a new message for a wallet whose live delivery is on for its current session goes
  down that socket at once (if claimed), as a `delivery` the wallet acknowledges; the mailbox keeps it.

This module knows Redis and the contract; building and packing DIDComm messages is the caller's.
"""

import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge.v1 import keyspace_pb2

LOGGER = logging.getLogger(__name__)

PICKUP_VERSION = 2
READ_PAGE = 200

# Packs a `delivery` carrying one mailbox message for the wallet: (message) -> (packed, content type).
LiveDeliveryPacker = Callable[[pb.WalletMessage], Awaitable[tuple[bytes, str]]]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def same_session(a: pb.WalletRoute | None, b: pb.WalletRoute | None) -> bool:
    if a is None or b is None:
        return False
    return (a.relay_id, a.socket_id, a.epoch) == (b.relay_id, b.socket_id, b.epoch)


def encrypted_for(message: pb.WalletMessage) -> set[str]:
    """The recipient verkeys of a packed (JWE) message: the `kid`s in its protected header; {} if not packed."""
    try:
        envelope = json.loads(bytes(message.body))
        protected = envelope["protected"]
        header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
        return {r["header"]["kid"] for r in header.get("recipients", []) if r.get("header", {}).get("kid")}
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()


@dataclass
class MailboxStatus:
    message_count: int
    oldest_created_ms: int | None = None
    newest_created_ms: int | None = None
    total_bytes: int | None = None


class PickupMailbox:
    def __init__(self, router, *, client, scripts, keyspace):
        self._router = router  # the wallet's mailbox key, dead letters, pushes to relays, counts
        self._client = client
        self._scripts = scripts
        self._keyspace = keyspace
        self._ttl_ms = self._keyspace.spec("wallet_pickup").default_ttl_ms

    # ---- keys ----

    def pickup_key(self, wallet_key: str) -> str:
        return self._keyspace.key("wallet_pickup", recipient=wallet_key)

    def sent_key(self, wallet_key: str) -> str:
        return self._keyspace.key("wallet_pickup_sent", recipient=wallet_key)

    # ---- the wallet's pickup state ----

    async def state(self, wallet_key: str) -> pb.WalletPickup | None:
        raw = await self._client.get(self.pickup_key(wallet_key))
        return decode_envelope(pb.WalletPickup, raw) if raw else None

    async def mark(
        self, wallet_key: str, *, live_delivery: bool | None = None, session: pb.WalletRoute | None = None
    ) -> pb.WalletPickup:
        """Records (and keeps alive) that the wallet collects with Pickup 2.0; sets live delivery when given.

        Live delivery is kept only for the session that turned it on: a message from another
        WebSocket session turns it off (RFC 0685: a new connection starts with live mode off).
        The record is rewritten only when it changes (otherwise only its TTL is renewed), so the
        wallet's other pickup messages, answered meanwhile by other instances, do not overwrite
        a `live-delivery-change` with what they read before it.
        """
        key = self.pickup_key(wallet_key)
        current = await self.state(wallet_key)
        state = pb.WalletPickup()
        state.CopyFrom(current or pb.WalletPickup(version=PICKUP_VERSION))
        if live_delivery is not None:
            state.live_delivery = live_delivery
            state.live_session.CopyFrom(session if live_delivery and session else pb.WalletRoute())
        elif state.live_delivery and session is not None and not same_session(state.live_session, session):
            state.live_delivery = False
            state.ClearField("live_session")
        if current is not None and state == current:
            await self._client.pexpire(key, self._ttl_ms)
            return state
        state.updated_at_ms = _now_ms()
        if current is None and live_delivery is None:
            # First mark: another instance may be writing a live-delivery-change right now; it wins.
            if not await self._client.set(key, encode_envelope(state), px=self._ttl_ms, nx=True):
                return await self.state(wallet_key) or state
            return state
        await self._client.set(key, encode_envelope(state), px=self._ttl_ms)
        return state

    async def answering_for(
        self, wallet_key: str, state: pb.WalletPickup, arrived_on: pb.WalletRoute | None
    ) -> pb.WalletRoute | None:
        """The session whose unacknowledged messages a pickup answer leaves out (and claims for).

        The WebSocket session the request came on; for a request that came another way, the
        wallet's live session while it is still the wallet's route. Credo in live mode keeps only
        its live socket open and sends `status-request`, `delivery-request` and
        `messages-received` over HTTP when the mediator's first endpoint is HTTP: a message pushed
        live to that socket is on its way to the same wallet, and an HTTP `delivery` must not
        carry it again. Once the socket is gone (its route cleared or replaced) nothing is left out.
        """
        if arrived_on is not None:
            return arrived_on
        if not state.live_delivery:
            return None
        raw = await self._client.get(self._router.route_key(wallet_key))
        route = decode_envelope(pb.WalletRoute, raw) if raw else None
        return state.live_session if same_session(state.live_session, route) else None

    # ---- reading ----

    async def _sent_to(self, wallet_key: str, session: pb.WalletRoute | None) -> set[str]:
        """Mids sent to `session` (claimed for it) and not acknowledged yet."""
        if session is None:
            return set()
        return self._claimed_by(await self._client.hgetall(self.sent_key(wallet_key)), session)

    @staticmethod
    def _claimed_by(sent: dict, session: pb.WalletRoute | None) -> set[str]:
        if session is None:
            return set()
        epoch = str(session.epoch)
        return {_text(mid) for mid, value in sent.items() if _text(value) == epoch}

    async def status(
        self, wallet_key: str, *, session: pb.WalletRoute | None = None, recipient_key: str | None = None
    ) -> MailboxStatus:
        mailbox = self._router.mailbox_key(wallet_key)
        if recipient_key:
            waiting = await self.waiting(wallet_key, session=session, recipient_key=recipient_key)
            if not waiting:
                return MailboxStatus(0, total_bytes=0)
            return MailboxStatus(
                len(waiting),
                waiting[0].created_at_ms,
                waiting[-1].created_at_ms,
                sum(len(m.body) for m in waiting),
            )
        # One transaction (both keys are in the wallet's slot): the depth and the claims are read at
        # one moment, so a message claimed meanwhile is neither counted twice nor subtracted unseen.
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.llen(mailbox)
            pipe.lindex(mailbox, 0)
            pipe.lindex(mailbox, -1)
            pipe.hgetall(self.sent_key(wallet_key))
            depth, head, tail, sent = await pipe.execute()
        in_flight = len(self._claimed_by(sent, session)) if depth else 0
        count = max(0, int(depth) - in_flight)
        if not count:
            return MailboxStatus(0)
        oldest = decode_envelope(pb.WalletMessage, head).created_at_ms if head else None
        newest = decode_envelope(pb.WalletMessage, tail).created_at_ms if tail else None
        return MailboxStatus(count, oldest, newest)

    async def waiting(
        self,
        wallet_key: str,
        *,
        limit: int | None = None,
        session: pb.WalletRoute | None = None,
        recipient_key: str | None = None,
    ) -> list[pb.WalletMessage]:
        """Up to `limit` waiting messages, oldest first; expired ones become dead letters (EXPIRED) on the way."""
        mailbox = self._router.mailbox_key(wallet_key)
        skip = await self._sent_to(wallet_key, session)
        found: list[pb.WalletMessage] = []
        expired: list[pb.WalletMessage] = []
        start, now = 0, _now_ms()
        while limit is None or len(found) < limit:
            page = await self._client.lrange(mailbox, start, start + READ_PAGE - 1)
            if not page:
                break
            start += len(page)
            for raw in page:
                message = decode_envelope(pb.WalletMessage, raw)
                if message.expires_at_ms and message.expires_at_ms < now:
                    expired.append(message)
                elif message.mid not in skip and (not recipient_key or recipient_key in encrypted_for(message)):
                    found.append(message)
                    if limit is not None and len(found) >= limit:
                        break
        if expired:
            await self._bury_expired(wallet_key, expired)
        return found

    async def deliverable(
        self,
        wallet_key: str,
        *,
        limit: int,
        session: pb.WalletRoute | None = None,
        recipient_key: str | None = None,
        claim: bool = False,
    ) -> list[pb.WalletMessage]:
        """What a `delivery` to `session` carries: `waiting`; with `claim` (the session is in live
        mode, so live pushes race with it), only what this call claimed for the session.
        """
        found = await self.waiting(wallet_key, limit=limit, session=session, recipient_key=recipient_key)
        if not claim or session is None or not found:
            return found
        claimed = await self.claim(wallet_key, session, [m.mid for m in found], newest=False)
        return [m for m in found if m.mid in claimed]

    async def claim(self, wallet_key: str, session: pb.WalletRoute, mids: list[str], *, newest: bool) -> set[str]:
        """The mids this call claimed for `session` (`pickup_claim`); `newest`: they were just appended."""
        flags = await self._scripts.pickup_claim(
            mailbox=self._router.mailbox_key(wallet_key),
            sent=self.sent_key(wallet_key),
            epoch=str(session.epoch),
            ttl_ms=self._ttl_ms,
            from_tail="1" if newest else "0",
            mids=mids,
        )
        return {mid for mid, flag in zip(mids, flags, strict=True) if flag == "1"}

    async def _bury_expired(self, wallet_key: str, expired: list[pb.WalletMessage]) -> None:
        for message in expired:
            await self._router.dead_letter(message, pb.DEAD_LETTER_REASON_EXPIRED, "expired in the mailbox")
        await self.acknowledge(wallet_key, [m.mid for m in expired])

    # ---- acknowledging ----

    async def acknowledge(self, wallet_key: str, mids: list[str]) -> tuple[int, int]:
        """Removes exactly these mids from the mailbox (unknown ones are ignored): (removed, remaining)."""
        if not mids:
            return 0, int(await self._client.llen(self._router.mailbox_key(wallet_key)))
        removed, remaining = await self._scripts.pickup_ack(
            mailbox=self._router.mailbox_key(wallet_key), sent=self.sent_key(wallet_key), mids=mids
        )
        if removed:
            await self._router.count(keyspace_pb2.WALLET_COUNT_MAILBOX_OUT, removed)
        return removed, remaining

    # ---- live delivery ----

    async def arrived(
        self, message: pb.WalletMessage, route_bytes: bytes, pickup_bytes: bytes, pack: LiveDeliveryPacker | None
    ) -> bool:
        """A message was appended to a Pickup 2.0 wallet's mailbox: push it live if its session asked for that.

        True if pushed. The mailbox keeps the message either way; the push is a copy the relay
        drops (not returns) if it cannot write it (`held_in_mailbox`).
        """
        if pack is None or not route_bytes or not pickup_bytes:
            return False
        state = decode_envelope(pb.WalletPickup, pickup_bytes)
        route = decode_envelope(pb.WalletRoute, route_bytes)
        if not state.live_delivery or not same_session(state.live_session, route):
            return False
        if not await self._router.liveness.alive(route.relay_id):
            return False
        wallet_key = message.recipient_key
        # Claimed before the push (the wallet's acknowledgement may come back before this returns),
        # and not pushed if a `delivery` on another instance already took it for this session.
        if not await self.claim(wallet_key, route, [message.mid], newest=True):
            self._router.stats["pickup_live_already_sent"] += 1
            return False
        packed, content_type = await pack(message)
        copy = pb.WalletMessage(
            mid=message.mid,
            recipient_key=wallet_key,
            content_type=content_type,
            body=packed,
            created_at_ms=message.created_at_ms,
            expires_at_ms=message.expires_at_ms,
            held_in_mailbox=True,
        )
        if await self._router.push(route, copy):
            self._router.stats["pickup_pushed_live"] += 1
            return True
        await self._client.hdel(self.sent_key(wallet_key), message.mid)
        return False
