"""The wallets' WebSocket sessions that ACA-Py's own `ws` transport holds on this instance.

A wallet's frame that asks for return route `all` (authcrypted: the sender key is the wallet's
connection key) makes this session the wallet's route in Redis: `wallet_route(key) = {this
instance's socket-holder id, session id, epoch}`, newest epoch winning (`route_set`), and the
wallet's mailbox is drained to this instance's inbox. When the session closes, the routes naming
it are cleared (compare-and-delete). The epoch is taken at a session's first frame: `ms * 1000 +
counter`, so a wallet's newer session on any instance has the larger one.
"""

import asyncio
import logging
import time

from acapy_bridge_shim.pickup.message_types import is_pickup_v2_request
from acapy_bridge_shim.pickup.sessions import remember_session
from acapy_bridge_shim.wallet_routing import WalletRouter

LOGGER = logging.getLogger(__name__)

WEBSOCKET = "ws"


class EpochClock:
    """Session epochs, monotonic in this process: `ms * 1000 + counter`."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(int(time.time() * 1000) * 1000, self._last + 1)
        return self._last


class WalletSessions:
    def __init__(self, *, sessions: dict, wallets: WalletRouter, holder_id: str) -> None:
        # ACA-Py's open sessions by id (InboundTransportManager.sessions, read only here).
        self._sessions = sessions
        self._wallets = wallets
        self.holder_id = holder_id
        self._clock = EpochClock()
        self._epochs: dict[str, int] = {}
        # Session id -> the wallet keys routed to it (cleared when it closes).
        self._keys: dict[str, set[str]] = {}
        self._tasks: set[asyncio.Task] = set()
        self.stats = {"routes_set": 0, "routes_cleared": 0, "route_errors": 0}

    def session(self, session_id: str):
        """The open session with this id, or None."""
        session = self._sessions.get(session_id)
        return None if session is None or session.closed else session

    def on_message(self, _profile, message) -> None:
        """ACA-Py received `message` on a session (before dispatching it): route the wallet to that session."""
        receipt = message.receipt
        if message.transport_type != WEBSOCKET or not message.session_id:
            return
        if receipt.direct_response_mode != "all" or not receipt.sender_verkey:
            return
        session_id = message.session_id
        epoch = self._epochs.get(session_id)
        if epoch is None:
            epoch = self._epochs[session_id] = self._clock.next()
        # Before ACA-Py's dispatch runs: the pickup handlers find the session by the receipt.
        remember_session(receipt, self.holder_id, session_id, epoch)
        key = receipt.sender_verkey
        self._keys.setdefault(session_id, set()).add(key)
        payload = message.payload if isinstance(message.payload, dict) else {}
        pickup = is_pickup_v2_request(payload.get("@type"))
        self._spawn(self._register(key, session_id, epoch, pickup))

    def on_closed(self, session) -> None:
        session_id = session.session_id
        self._epochs.pop(session_id, None)
        for key in self._keys.pop(session_id, ()):
            self._spawn(self._clear(key, session_id))

    async def _register(self, key: str, session_id: str, epoch: int, pickup: bool) -> None:
        try:
            if await self._wallets.register_route(key, self.holder_id, session_id, epoch, pickup_request=pickup):
                self.stats["routes_set"] += 1
        except Exception:  # noqa: BLE001 - the wallet's next frame sets the route again
            self.stats["route_errors"] += 1
            LOGGER.exception("acapy-bridge own transports: could not route %s to session %s", key, session_id)

    async def _clear(self, key: str, session_id: str) -> None:
        try:
            if await self._wallets.clear_route(key, self.holder_id, session_id):
                self.stats["routes_cleared"] += 1
        except Exception as error:  # noqa: BLE001 - a push to the gone session clears it later
            LOGGER.warning("acapy-bridge own transports: route of %s not cleared: %s", key, error)

    def _spawn(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Waits for route writes in progress (shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
