"""Hands on the inboxes of socket holders that died (Design 1), as the relays' janitor does in Design 2.

One instance at a time holds `janitor_lease` (renewed between entries once a third of its TTL has
passed; lost: the round stops, so two janitors do not hand on the same entries). For each member
of role `relay` whose heartbeat is older than the dead window (or 0: stopped): every entry of its
inbox (XAUTOCLAIM from 0-0, then XREADGROUP `>`) follows the wallet's route (a live instance,
this one included) or goes to the wallet's mailbox, and is acknowledged after. Then the inbox is
deleted only if empty (`inbox_retire`: a late `inbox_push` is handed on next round), and the
member removed. Wallets whose sockets died reconnect anywhere; their new route wins by its epoch.
"""

import asyncio
import logging
import secrets
import time

from acapy_bridge.codec import decode_envelope
from acapy_bridge.keyspace import Keyspace
from acapy_bridge.membership import Membership
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import StreamEntry, ack_entries, auto_claim, read_group
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.own_transports.session_pushes import MAX_HOPS, SessionPushes
from acapy_bridge_shim.own_transports.socket_holder import SOCKET_HOLDER_ROLE
from acapy_bridge_shim.wallet_routing import WalletRouter

LOGGER = logging.getLogger(__name__)

BATCH = 100


class LeaseLost(Exception):
    """Another instance holds the janitor lease now."""


class InboxJanitor:
    def __init__(
        self,
        *,
        client,
        scripts: Scripts,
        keyspace: Keyspace,
        membership: Membership,
        wallets: WalletRouter,
        pushes: SessionPushes,
        holder_id: str,
        interval_s: float,
    ) -> None:
        self._client = client
        self._scripts = scripts
        self._keyspace = keyspace
        self._membership = membership
        self._wallets = wallets
        self._pushes = pushes
        self._holder = holder_id
        self._interval_s = interval_s
        self._lease_key = keyspace.key("janitor_lease")
        self._lease_ttl_ms = keyspace.spec("janitor_lease").default_ttl_ms or 10_000
        self._owner = f"{holder_id}:{secrets.token_hex(6)}"
        self._renewed_at = 0.0
        self._task: asyncio.Task | None = None
        self.stats = {"recovered_inboxes": 0, "handed_on": 0, "lease_lost": 0}

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"janitor-{self._holder}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self._scripts.lease_release(lease=self._lease_key, owner=self._owner)
        except Exception as error:  # noqa: BLE001 - it expires by itself
            LOGGER.debug("acapy-bridge janitor: releasing the lease failed: %s", error)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the next round tries again
                LOGGER.warning("acapy-bridge janitor: round failed: %s", error)

    async def run_once(self) -> list[str]:
        """One round: take or keep the lease, then recover every dead holder. Returns those recovered."""
        if not await self._hold_lease():
            return []
        dead = [h for h in await self._membership.dead_members(SOCKET_HOLDER_ROLE) if h != self._holder]
        recovered = []
        try:
            for holder in dead:
                if await self.recover(holder):
                    recovered.append(holder)
        except LeaseLost:
            self.stats["lease_lost"] += 1
            LOGGER.warning("acapy-bridge janitor: lease lost during the round; stopped after %d", len(recovered))
        return recovered

    async def _hold_lease(self) -> bool:
        sent = time.monotonic()
        reply = await self._scripts.lease_acquire(lease=self._lease_key, owner=self._owner, ttl_ms=self._lease_ttl_ms)
        if reply[0] != "OK":
            return False
        self._renewed_at = sent
        return True

    async def _keep_lease(self) -> None:
        if (time.monotonic() - self._renewed_at) * 1000 < self._lease_ttl_ms / 3:
            return
        sent = time.monotonic()
        if await self._scripts.lease_renew(lease=self._lease_key, owner=self._owner, ttl_ms=self._lease_ttl_ms) != 1:
            raise LeaseLost()
        self._renewed_at = sent

    async def recover(self, holder: str) -> bool:
        """Empties a dead holder's inbox into routes and mailboxes; True when the inbox is gone."""
        spec = self._keyspace.spec("relay_inbox")
        inbox = self._keyspace.key("relay_inbox", relay=holder)
        consumer = f"{self._holder}-janitor"
        handled = 0
        if await self._client.exists(inbox):
            try:
                cursor = "0-0"
                while True:
                    cursor, entries, deleted = await auto_claim(
                        self._client,
                        stream=inbox,
                        group=spec.consumer_group,
                        consumer=consumer,
                        min_idle_ms=0,
                        entry_field=spec.entry_field,
                        cursor=cursor,
                        count=BATCH,
                    )
                    await ack_entries(self._scripts, inbox, spec.consumer_group, deleted)
                    handled += await self._hand_on(inbox, spec.consumer_group, entries)
                    if cursor == "0-0":
                        break
                while True:
                    entries = await read_group(
                        self._client,
                        stream=inbox,
                        group=spec.consumer_group,
                        consumer=consumer,
                        entry_field=spec.entry_field,
                        count=BATCH,
                    )
                    if not entries:
                        break
                    handled += await self._hand_on(inbox, spec.consumer_group, entries)
            except Exception as error:
                if "NOGROUP" not in str(error):
                    raise
            if not await self._scripts.inbox_retire(inbox=inbox):
                return False
        await self._client.zrem(self._keyspace.key("members", role=SOCKET_HOLDER_ROLE), holder)
        await self._client.delete(self._keyspace.key("instance", instance=holder))
        self.stats["recovered_inboxes"] += 1
        LOGGER.info("acapy-bridge janitor: recovered the inbox of %s (%d entries handed on)", holder, handled)
        return True

    async def _hand_on(self, inbox: str, group: str, entries: list[StreamEntry]) -> int:
        done: list[str] = []
        handled = 0
        for entry in entries:
            if done and (time.monotonic() - self._renewed_at) * 1000 >= self._lease_ttl_ms / 3:
                await ack_entries(self._scripts, inbox, group, done)
                handled += len(done)
                done = []
            await self._keep_lease()
            command = None
            if entry.payload:
                try:
                    command = decode_envelope(pb.RelayCommand, entry.payload)
                except Exception:  # noqa: BLE001 - a malformed entry is dropped, as the relays do
                    LOGGER.warning("acapy-bridge janitor: malformed entry %s in %s dropped", entry.id, inbox)
            if command is not None and command.HasField("push") and command.push.HasField("message"):
                await self._hand_on_push(command.push)
            elif command is not None:
                LOGGER.info(
                    "acapy-bridge janitor: %s entry %s of %s dropped (its socket died with it)",
                    command.WhichOneof("command"),
                    entry.id,
                    inbox,
                )
            done.append(entry.id)
        await ack_entries(self._scripts, inbox, group, done)
        self.stats["handed_on"] += handled + len(done)
        return handled + len(done)

    async def _hand_on_push(self, push: pb.SocketPush) -> None:
        retry = pb.SocketPush()
        retry.CopyFrom(push)
        retry.hop = min(push.hop, MAX_HOPS - 1)
        route = await self._wallets.route_of(push.message.recipient_key)
        # The wallet may have reconnected to this very instance: its own inbox takes the push then.
        if route is not None and route.relay_id == self._holder and await self._wallets.push(route, push.message):
            return
        await self._pushes.reroute(retry, route)
