"""This instance's inbox: wallet messages for the sockets ACA-Py's `ws` transport holds here.

Any instance that has a message for a wallet whose route names this instance writes a
`SocketPush` to this instance's inbox (`relay_inbox`, the stream a relay reads in Design 2). Here
the push goes into the session's response buffer, which ACA-Py's transport writes down the
socket; the entry is acknowledged once the frame is written, or once the session closed with it
still buffered (ACA-Py then hands it back and `WalletOutbound` puts it back in the mailbox). One
socket's pushes are written one at a time, in inbox order; different sockets' side by side.

A push for a session that is gone follows the wallet's route: a newer session here, another
live instance (hop + 1, at most `MAX_HOPS`), else the mailbox. Always "write elsewhere first,
then acknowledge": an instance that dies leaves its entries pending for the janitor.

Confirmation is weaker than a relay's: ACA-Py's transport has no hook to ping after a frame, so a
frame counts as delivered once the socket took it (docs/mediator.md, "Design 1 vs Design 2").
"""

import asyncio
import contextlib
import logging

from acapy_bridge.codec import decode_envelope
from acapy_bridge.keyspace import Keyspace
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import StreamEntry, ack_entries, ensure_group, read_group
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.acapy_compat import buffer_response, response_event, session_is_closed, wallet_outbound
from acapy_bridge_shim.own_transports.wallet_outbound import WALLET_MESSAGE_ATTRIBUTE
from acapy_bridge_shim.own_transports.wallet_sessions import WalletSessions
from acapy_bridge_shim.wallet_routing import WalletRouter

LOGGER = logging.getLogger(__name__)

MAX_HOPS = 3  # as the relays' (packages/relay/src/wallet-pushes.ts)
MAX_IN_HAND = 1_000
READ_COUNT = 100
BLOCK_MS = 2_000
# How often a push waiting for a session's buffer looks again when no buffer event woke it.
BUFFER_RECHECK_S = 0.01
READ_ERROR_PAUSE_S = 0.5


class SessionPushes:
    def __init__(
        self, *, client, scripts: Scripts, keyspace: Keyspace, wallets: WalletRouter, sessions: WalletSessions
    ) -> None:
        self._client = client
        self._scripts = scripts
        self._wallets = wallets
        self._sessions = sessions
        self._holder = sessions.holder_id
        spec = keyspace.spec("relay_inbox")
        self.inbox = keyspace.key("relay_inbox", relay=self._holder)
        self._group = spec.consumer_group
        self._field = spec.entry_field
        self._room = asyncio.Semaphore(MAX_IN_HAND)
        # Per socket: its lock and how many entries hold or wait for it (the lane goes when none does).
        self._lanes: dict[str, list] = {}
        self._in_hand: set[str] = set()
        self._work: set[asyncio.Task] = set()
        self._reader: asyncio.Task | None = None
        self.stats = {"written": 0, "returned_by_session": 0, "newer_session": 0, "forwarded": 0, "mailbox": 0}

    async def start(self) -> None:
        """Creates the inbox (with its consumer group) and starts reading it."""
        await ensure_group(self._client, self.inbox, self._group)
        self._reader = asyncio.get_running_loop().create_task(self._read(), name=f"inbox-{self._holder}")

    async def stop(self) -> None:
        """Stops reading; pushes in hand finish (each ends when written or its session closed)."""
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._work:
            await asyncio.wait(list(self._work), timeout=5)

    async def _read(self) -> None:
        while True:
            try:
                entries = await read_group(
                    self._client,
                    stream=self.inbox,
                    group=self._group,
                    consumer=self._holder,
                    entry_field=self._field,
                    count=READ_COUNT,
                    block_ms=BLOCK_MS,
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis away for a moment: read again
                LOGGER.warning("acapy-bridge own transports: reading inbox %s failed: %s", self.inbox, error)
                await asyncio.sleep(READ_ERROR_PAUSE_S)
                continue
            for entry in entries:
                await self._room.acquire()
                self._in_hand.add(entry.id)
                task = asyncio.get_running_loop().create_task(self._handle_entry(entry))
                self._work.add(task)
                task.add_done_callback(self._work.discard)

    async def _handle_entry(self, entry: StreamEntry) -> None:
        try:
            command = decode_envelope(pb.RelayCommand, entry.payload) if entry.payload else None
            push = command.push if command is not None and command.HasField("push") else None
            if push is None or not push.HasField("message"):
                await self._ack(entry.id)  # nothing for a socket (a relay's command in a mixed deployment)
                return
            async with self._lane(push.socket_id):
                await self._handle_push(push)
            await self._ack(entry.id)
        except Exception:  # noqa: BLE001 - the entry stays pending: the janitor hands it on if this instance dies
            LOGGER.exception("acapy-bridge own transports: inbox entry %s failed; it stays pending", entry.id)
        finally:
            self._in_hand.discard(entry.id)
            self._room.release()

    @contextlib.asynccontextmanager
    async def _lane(self, socket_id: str):
        """One socket's entries one at a time, in the order they were read (asyncio locks are FIFO)."""
        lane = self._lanes.setdefault(socket_id, [asyncio.Lock(), 0])
        lane[1] += 1
        try:
            async with lane[0]:
                yield
        finally:
            lane[1] -= 1
            if lane[1] == 0:
                del self._lanes[socket_id]

    async def _handle_push(self, push: pb.SocketPush) -> None:
        message = push.message
        session = self._sessions.session(push.socket_id)
        if session is not None and await self._write(session, message):
            return
        route = await self._wallets.route_of(message.recipient_key)
        if route is not None and route.relay_id == self._holder and route.socket_id != push.socket_id:
            newer = self._sessions.session(route.socket_id)
            if newer is not None and await self._write(newer, message):
                self.stats["newer_session"] += 1
                return
        await self.reroute(push, route)

    async def reroute(self, push: pb.SocketPush, route: pb.WalletRoute | None) -> None:
        """The push's session is not here: another live instance's session, else the mailbox."""
        message = push.message
        key = message.recipient_key
        if (
            route is not None
            and route.relay_id != self._holder
            and push.hop < MAX_HOPS
            and await self._wallets.liveness.alive(route.relay_id)
            and await self._wallets.push(route, message, hop=push.hop + 1)
        ):
            self.stats["forwarded"] += 1
            return
        if route is not None and route.relay_id == self._holder and route.socket_id == push.socket_id:
            await self._wallets.clear_route(key, self._holder, push.socket_id)
        if message.held_in_mailbox:
            return  # a live Message Pickup copy: the mailbox still holds the message
        await self._wallets.put_back(message)
        self.stats["mailbox"] += 1

    async def _write(self, session, message: pb.WalletMessage) -> bool:
        """Puts the message in the session's buffer and waits until it is written (or handed back).

        False when the session closed before it took the message.
        """
        outbound = wallet_outbound(message.body, message.recipient_key)
        setattr(outbound, WALLET_MESSAGE_ATTRIBUTE, message)
        while not buffer_response(session, outbound):
            if session_is_closed(session):
                return False
            await self._buffer_changed(session)
        while session.response_buffer is outbound and not session_is_closed(session):
            await self._buffer_changed(session)
        if session.response_buffer is outbound:
            # Closed with it buffered: ACA-Py hands it back (WalletOutbound puts it in the mailbox).
            self.stats["returned_by_session"] += 1
        else:
            self.stats["written"] += 1
        return True

    @staticmethod
    async def _buffer_changed(session) -> None:
        """Returns when the buffer may have changed: its event fired, or after a short while.

        The event stays set while the transport writes (only its next wait clears it): then this
        looks again after BUFFER_RECHECK_S instead of spinning.
        """
        event = response_event(session)
        if event.is_set():
            await asyncio.sleep(BUFFER_RECHECK_S)
            return
        try:
            await asyncio.wait_for(event.wait(), BUFFER_RECHECK_S)
        except TimeoutError:
            return

    async def _ack(self, entry_id: str) -> None:
        await ack_entries(self._scripts, self.inbox, self._group, [entry_id])
