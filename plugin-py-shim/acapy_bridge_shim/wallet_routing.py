"""Wallets behind the mediator: routes to live WebSocket sessions, offline mailboxes.

A mobile wallet has no endpoint. It holds a WebSocket on some relay and sends
messages that ask for return route `all`. This module is the shim's half of
the protocol (docs/mediator.md):

* `register_route`: after ACA-Py has unpacked such a message and knows the
  sender's key, `wallet_route(key) = {relay, socket, epoch}` (Lua
  compare-and-set: the newest session wins; TTL from the keyspace), then the
  wallet's mailbox is drained into that relay's inbox in order.
* `deliver`: a message for an endpoint-less target (a forward, anything ACA-Py
  sends the wallet outside its session). With a route to a live relay and an
  empty mailbox it goes to that relay's inbox as a `SocketPush`; otherwise it
  is appended to the wallet's mailbox (order is kept with what already
  waits). A full mailbox, or a message past its TTL, becomes a dead letter
  (MAILBOX_FULL / EXPIRED) on the outbound dead-letter partition of the
  wallet's key, where the control API lists and requeues it, and is counted
  by reason in `wallet_dead_letter_counts`, which the relays export to
  Prometheus (`acapy_bridge_wallet_dead_letters_total`).

Messages stored in and taken from mailboxes, and routes registered or replaced,
are counted in `wallet_mailbox_and_route_counts` for the relays' metrics
(`acapy_bridge_wallet_mailbox_messages`, ...). Every count is best effort: it
follows the write it counts and a failure is only logged.

This module knows Redis and the contract, not ACA-Py.
"""

import asyncio
import logging
import time

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.keyspace import KEY_SPECS, Keyspace
from acapy_bridge.partitioning import partition_of
from acapy_bridge.scripts import Scripts
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge.v1 import keyspace_pb2
from acapy_bridge.v1.lua_scripts import MailboxOfferReply
from acapy_bridge_shim.config import MailboxSettings
from acapy_bridge_shim.pickup.mailbox import PickupMailbox
from acapy_bridge_shim.push.notifications import PushJobs

LOGGER = logging.getLogger(__name__)

DEAD_LETTER_CAP = KEY_SPECS["outbound_dead_letters"].max_length
RELAY_ROLE = "relay"
LIVE_WINDOW_MS = keyspace_pb2.LIVENESS_DEAD_AFTER_MS  # a relay is alive while its heartbeat is younger than this


def _now_ms() -> int:
    return int(time.time() * 1000)


def wallet_count_field(count: int) -> str:
    """MAILBOX_IN for WALLET_COUNT_MAILBOX_IN: the hash field, as TypeScript prints the enum name."""
    return keyspace_pb2.WalletCount.Name(count).removeprefix("WALLET_COUNT_")


def reason_label(reason: pb.DeadLetterReason) -> str:
    """MAILBOX_FULL for DEAD_LETTER_REASON_MAILBOX_FULL: the enum name as TypeScript prints it."""
    return pb.DeadLetterReason.Name(reason).removeprefix("DEAD_LETTER_REASON_")


class RelayLiveness:
    """Is relay X alive? One ZSCORE on the members zset, remembered for `cache_s`."""

    def __init__(self, client, keyspace: Keyspace, cache_s: float = 2.0):
        self._client = client
        self._key = keyspace.key("members", role=RELAY_ROLE)
        self._cache_s = cache_s
        self._known: dict[str, tuple[float, bool]] = {}

    async def alive(self, relay_id: str) -> bool:
        now = time.monotonic()
        hit = self._known.get(relay_id)
        if hit and now - hit[0] < self._cache_s:
            return hit[1]
        score = await self._client.zscore(self._key, relay_id)
        alive = score is not None and float(score) >= _now_ms() - LIVE_WINDOW_MS
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[relay_id] = (now, alive)
        return alive

    def forget(self, relay_id: str) -> None:
        self._known.pop(relay_id, None)


class WalletRouter:
    def __init__(
        self,
        *,
        client,
        scripts: Scripts,
        keyspace: Keyspace,
        settings: MailboxSettings,
        instance_id: str,
        push: PushJobs | None = None,
    ):
        self._client = client
        # Where the notifications `mailbox_offer` decides on go; None (or a 0 window): decide on none.
        self._push = push
        self._push_window_ms = settings.push_window_s * 1000 if push is not None else 0
        self._scripts = scripts
        self._keyspace = keyspace
        self._settings = settings
        self._instance_id = instance_id
        self._route_ttl_ms = keyspace.spec("wallet_route").default_ttl_ms
        self._inbox_field = keyspace.spec("relay_inbox").entry_field
        self._dlq_field = keyspace.spec("outbound_dead_letters").entry_field
        self._dead_letter_counts_key = keyspace.key("wallet_dead_letter_counts")
        self._wallet_counts_key = keyspace.key("wallet_mailbox_and_route_counts")
        self.liveness = RelayLiveness(client, keyspace, settings.relay_liveness_cache_s)
        # Wallets whose mailbox a drain is moving, and the newest session it moves it to.
        self._draining: dict[str, pb.WalletRoute] = {}
        self.stats = {
            "routes_registered": 0,
            "routes_replaced": 0,
            "routes_stale": 0,
            "pushed_live": 0,
            "mailbox_pushed": 0,
            "mailbox_drained": 0,
            "dead_full": 0,
            "dead_expired": 0,
            "pickup_pushed_live": 0,
            "pickup_live_already_sent": 0,
            "pickup_drains_skipped": 0,
            "push_notifications": 0,
        }
        # Message Pickup 2.0's view of the same mailboxes (acknowledged in place, live deliveries).
        self.pickup = PickupMailbox(self, client=client, scripts=scripts, keyspace=keyspace)

    # ---- keys ----

    def route_key(self, wallet_key: str) -> str:
        return self._keyspace.key("wallet_route", recipient=wallet_key)

    def mailbox_key(self, wallet_key: str) -> str:
        return self._keyspace.key("wallet_mailbox", recipient=wallet_key)

    def inbox_key(self, relay_id: str) -> str:
        return self._keyspace.key("relay_inbox", relay=relay_id)

    def dead_letter_key(self, wallet_key: str) -> str:
        count = self._keyspace.partition_count("outbound_dead_letters")
        return self._keyspace.key("outbound_dead_letters", partition=partition_of(wallet_key, count))

    # ---- routes ----

    async def register_route(
        self, wallet_key: str, relay_id: str, socket_id: str, epoch: int, *, pickup_request: bool = False
    ) -> bool:
        """Records the wallet's session (newest epoch wins) and drains its mailbox to it. True if set.

        No drain for a wallet that collects with Message Pickup 2.0 (`wallet_pickup` exists, or this
        frame is its first pickup request, `pickup_request`): its messages leave the mailbox when it
        acknowledges them, and a drain would hand it a second copy.
        """
        route = pb.WalletRoute(relay_id=relay_id, socket_id=socket_id, epoch=epoch, registered_at_ms=_now_ms())
        reply = await self._scripts.route_set(
            route=self.route_key(wallet_key),
            pickup=self._keyspace.key("wallet_pickup", recipient=wallet_key),
            wallet_route=encode_envelope(route),
            epoch=epoch,
            ttl_ms=self._route_ttl_ms,
        )
        if reply[0] != "SET":
            self.stats["routes_stale"] += 1
            return False
        _, replaced_epoch, pickup = reply
        # route_set names the epoch it overwrote. The same session sets its route again with every
        # frame that asks for return route `all`: that is no change, so it is not counted.
        if not replaced_epoch:
            self.stats["routes_registered"] += 1
            await self._count(keyspace_pb2.WALLET_COUNT_ROUTE_REGISTERED, 1)
        elif replaced_epoch != str(epoch):  # compared as text: nothing here may raise
            self.stats["routes_replaced"] += 1
            await self._count(keyspace_pb2.WALLET_COUNT_ROUTE_REPLACED, 1)
        if pickup_request or pickup == "PICKUP":
            self.stats["pickup_drains_skipped"] += 1
            return True
        await self.drain(wallet_key, route)
        return True

    async def route_of(self, wallet_key: str) -> pb.WalletRoute | None:
        raw = await self._client.get(self.route_key(wallet_key))
        return decode_envelope(pb.WalletRoute, raw) if raw else None

    async def clear_route(self, wallet_key: str, relay_id: str, socket_id: str) -> bool:
        deleted = bool(
            await self._scripts.route_clear(route=self.route_key(wallet_key), relay_id=relay_id, socket_id=socket_id)
        )
        if deleted:
            await self._count(keyspace_pb2.WALLET_COUNT_ROUTE_CLEARED, 1)
        return deleted

    # ---- delivery ----

    def wallet_message(self, wallet_key: str, body: bytes, content_type: str, mid: str) -> pb.WalletMessage:
        created = _now_ms()
        return pb.WalletMessage(
            mid=mid,
            recipient_key=wallet_key,
            content_type=content_type,
            body=body,
            created_at_ms=created,
            expires_at_ms=created + self._settings.ttl_s * 1000,
        )

    async def deliver(self, message: pb.WalletMessage, live_delivery=None) -> str:
        """Live push, mailbox or dead letter; returns "live" | "mailbox" | "dead_letter".

        For a wallet that collects with Message Pickup 2.0 the message always stays in the mailbox;
        `live_delivery` (pickup.mailbox.LiveDeliveryPacker) packs the copy pushed to a session
        that turned live delivery on. Raises only if Redis failed before the message was written anywhere.
        """
        key = message.recipient_key
        encoded = encode_envelope(message)
        offered = await self._offer(key, encoded, live=True)
        if offered[0] in ("MBOX", "PICKUP") and offered[-1]:
            await self._notify(key, offered[-1], offered[1])
        if offered[0] == "PICKUP":
            self.stats["mailbox_pushed"] += 1
            await self._count(keyspace_pb2.WALLET_COUNT_MAILBOX_IN, 1)
            try:
                await self.pickup.arrived(message, offered[2], offered[3], live_delivery)
            except Exception:  # noqa: BLE001 - the message is in the mailbox: the wallet's next delivery-request has it
                LOGGER.exception("acapy-bridge wallets: live delivery of mid=%s to %s failed", message.mid, key)
            return "mailbox"
        if offered[0] == "LIVE":
            route = decode_envelope(pb.WalletRoute, offered[1])
            if await self.liveness.alive(route.relay_id) and await self.push(route, message):
                self.stats["pushed_live"] += 1
                return "live"
            # The session's relay is gone: for a push notification the wallet is offline.
            offered = await self._offer(key, encoded, live=False, route_dead=True)
            if offered[0] in ("MBOX", "PICKUP") and offered[-1]:
                await self._notify(key, offered[-1], offered[1])
        if offered[0] == "FULL":
            await self.dead_letter(message, pb.DEAD_LETTER_REASON_MAILBOX_FULL, f"mailbox holds {offered[1]} messages")
            return "dead_letter"
        self.stats["mailbox_pushed"] += 1
        await self._count(keyspace_pb2.WALLET_COUNT_MAILBOX_IN, 1)
        route_bytes = offered[2] if offered[0] == "MBOX" or offered[0] == "PICKUP" else b""
        if route_bytes:
            # Messages wait while the wallet has a session (an earlier drain stopped half way):
            # move them on, in order, behind what waits.
            route = decode_envelope(pb.WalletRoute, route_bytes)
            if await self.liveness.alive(route.relay_id):
                self._spawn_drain(key, route)
        return "mailbox"

    async def _offer(self, key: str, encoded: bytes, *, live: bool, route_dead: bool = False) -> MailboxOfferReply:
        return await self._scripts.mailbox_offer(
            route=self.route_key(key),
            mailbox=self.mailbox_key(key),
            push_device=self._keyspace.key("wallet_push_device", recipient=key),
            push_window=self._keyspace.key("wallet_push_window", recipient=key),
            pickup=self._keyspace.key("wallet_pickup", recipient=key),
            message=encoded,
            cap=self._settings.max_messages,
            live="1" if live else ("dead" if route_dead else "0"),
            push_window_ms=self._push_window_ms,
        )

    async def _notify(self, key: str, device: bytes, depth: int) -> None:
        """The offer decided on a push notification (the wallet has no session): queue it; never raises."""
        if self._push is not None:
            self.stats["push_notifications"] += 1
            await self._push.notify(key, device, depth)

    async def push(self, route: pb.WalletRoute, message: pb.WalletMessage, hop: int = 0) -> bool:
        """SocketPush to the route's relay inbox; False if that inbox is gone (relay dead and cleaned up)."""
        command = pb.RelayCommand(
            push=pb.SocketPush(socket_id=route.socket_id, route_epoch=route.epoch, hop=hop, message=message)
        )
        status, _ = await self._scripts.inbox_push(
            inbox=self.inbox_key(route.relay_id), entry_field=self._inbox_field, command=encode_envelope(command)
        )
        if status == "GONE":
            self.liveness.forget(route.relay_id)
            return False
        return True

    async def put_back(self, message: pb.WalletMessage) -> None:
        """Appends a message that was already admitted (a push its session never wrote) to the mailbox.

        Never refused (no cap: dead-lettering it would punish the wallet for its own disconnect), and
        moved on at once if the wallet has a session on a live socket holder meanwhile.
        """
        key = message.recipient_key
        # No push window: like a relay's hand-back, a put-back message notifies no one (docs/mediator.md).
        offered = await self._scripts.mailbox_offer(
            route=self.route_key(key),
            mailbox=self.mailbox_key(key),
            push_device=self._keyspace.key("wallet_push_device", recipient=key),
            push_window=self._keyspace.key("wallet_push_window", recipient=key),
            message=encode_envelope(message),
            cap=0,
            live="0",
        )
        if offered[0] != "MBOX":
            return
        self.stats["mailbox_pushed"] += 1
        await self._count(keyspace_pb2.WALLET_COUNT_MAILBOX_IN, 1)
        if offered[2]:
            route = decode_envelope(pb.WalletRoute, offered[2])
            if await self.liveness.alive(route.relay_id):
                self._spawn_drain(key, route)

    async def dead_letter(self, message: pb.WalletMessage, reason: pb.DeadLetterReason, detail: str) -> None:
        letter = pb.DeadLetter(
            mid=message.mid,
            reason=reason,
            detail=detail[:1000],
            attempts=0,
            dead_at_ms=_now_ms(),
            source_key=self.mailbox_key(message.recipient_key),
            instance_id=self._instance_id,
        )
        letter.wallet_message.CopyFrom(message)
        await self._client.xadd(
            self.dead_letter_key(message.recipient_key),
            {self._dlq_field: encode_envelope(letter)},
            maxlen=DEAD_LETTER_CAP,
            approximate=True,
        )
        await self._count_dead_letter(reason)
        self.stats["dead_full" if reason == pb.DEAD_LETTER_REASON_MAILBOX_FULL else "dead_expired"] += 1
        LOGGER.warning(
            "acapy-bridge wallets: dead-lettered mid=%s for %s: %s (%s)",
            message.mid,
            message.recipient_key,
            pb.DeadLetterReason.Name(reason),
            detail,
        )

    async def _count_dead_letter(self, reason: pb.DeadLetterReason) -> None:
        await self._bump(self._dead_letter_counts_key, reason_label(reason), 1)

    async def count(self, count: int, by: int) -> None:
        """Bumps one of the deployment's wallet counts (a WalletCount) after the write it counts."""
        await self._count(count, by)

    async def _count(self, count: int, by: int) -> None:
        await self._bump(self._wallet_counts_key, wallet_count_field(count), by)

    async def _bump(self, key: str, field: str, by: int) -> None:
        """Adds to one of the deployment's counts (the relays export them) after the write it counts.

        The counts hashes are in the {ctl} slot, a wallet's keys in {w:...}, so the bump cannot be in
        the same script. A failure is logged, never raised: the message is already where it belongs,
        and the metric is then off by `by`.
        """
        try:
            await self._client.hincrby(key, field, by)
        except Exception as error:  # noqa: BLE001 - a metric, not the message
            LOGGER.warning("acapy-bridge wallets: count %s not updated by %d: %s", field, by, error)

    # ---- mailbox drain ----

    def _spawn_drain(self, key: str, route: pb.WalletRoute) -> None:
        if key in self._draining:
            self._redirect_drain(key, route)
            return
        task = asyncio.create_task(self.drain(key, route))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    def _redirect_drain(self, wallet_key: str, route: pb.WalletRoute) -> None:
        """A drain is running: remember `route` if that session is newer, for when its relay fails."""
        if route.epoch > self._draining[wallet_key].epoch:
            self._draining[wallet_key] = route

    async def _still_routed(self, wallet_key: str, route: pb.WalletRoute) -> bool:
        """Has the wallet a session this drain may still send to (its own, or a newer one its relay forwards to)?

        Without this check a drain whose session closed would loop: its relay, finding no
        socket and no route, puts each push back into the mailbox, which the drain reads again.
        """
        current = await self.route_of(wallet_key)
        return current is not None and current.epoch >= route.epoch

    async def drain(self, wallet_key: str, route: pb.WalletRoute) -> int:
        """Moves the mailbox, oldest first, to the route's relay: LRANGE batch -> XADD -> trim.

        One drain per wallet at a time. Asked again while one runs (the wallet reconnected), the
        running one keeps its relay, which forwards to the wallet's newer session in order; only
        when that relay is gone does it send the rest, from the batch's head, to the newer session
        instead of stopping short of it. A crash between XADD and the trim sends duplicates on the
        next drain, never loses. Expired messages become dead letters (EXPIRED) instead.
        """
        if wallet_key in self._draining:
            self._redirect_drain(wallet_key, route)
            return 0
        self._draining[wallet_key] = route
        moved = 0
        buried: set[str] = set()  # mids dead-lettered by this drain: a batch sent again skips them
        try:
            mailbox = self.mailbox_key(wallet_key)
            while True:
                batch = await self._client.lrange(mailbox, 0, self._settings.drain_batch - 1)
                if not batch:
                    return moved
                now = _now_ms()
                for raw in batch:
                    message = decode_envelope(pb.WalletMessage, raw)
                    if message.expires_at_ms and message.expires_at_ms < now:
                        if message.mid not in buried:
                            buried.add(message.mid)
                            await self.dead_letter(message, pb.DEAD_LETTER_REASON_EXPIRED, "expired in the mailbox")
                    elif not await self.push(route, message):
                        newest = self._draining[wallet_key]
                        if newest.epoch <= route.epoch:
                            return moved  # the relay is gone: the messages stay for the next session
                        route = newest  # a newer session came meanwhile: the batch goes there, from its head
                        break
                else:
                    remaining = await self._scripts.mailbox_take(mailbox=mailbox, head=batch[0], count=len(batch))
                    moved += len(batch)
                    self.stats["mailbox_drained"] += len(batch)
                    if remaining < 0:
                        # Another drain took them first (and counts them): what we sent were duplicates.
                        # Start again from the head.
                        continue
                    # Taken: pushed to the session, or dead-lettered EXPIRED above (out of the mailbox either way).
                    await self._count(keyspace_pb2.WALLET_COUNT_MAILBOX_OUT, len(batch))
                    if not await self._still_routed(wallet_key, route):
                        return moved  # the session closed: the rest waits for the next one
        finally:
            del self._draining[wallet_key]
