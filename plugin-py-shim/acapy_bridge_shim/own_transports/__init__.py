"""Mediator Design 1: ACA-Py's own transports hold the wallets' sockets, coordinated through Redis.

No relay and no controller: mediator instances run ACA-Py's `-it http -it ws` (or
`durable_http`) and `-ot http -ot ws` behind a load balancer, share one Askar database and one
Redis, and each plays the part a relay plays in Design 2 (docs/mediator.md):

* `WalletSessions`: a wallet's WebSocket session that asks for return route `all` becomes its
  route (`wallet_route`, newest epoch wins); closing the session clears it.
* `WalletOutbound`: a message for a wallet without an endpoint (a forward, the mediator's own)
  goes through Redis (`WalletRouter.deliver`): to the inbox of the instance that holds the
  wallet's socket, else the wallet's mailbox. It replaces ACA-Py's in-memory undelivered queue.
* `SessionPushes`: this instance reads its inbox and writes each push down the local session.
* `InboxJanitor`: hands on the inboxes of instances that died.

Turned on with `-o acapy_bridge_shim.own_transports.enabled=true` (with `--open-mediation` or
`mailbox.enabled`), installed at ACA-Py's startup event, before the transports accept sockets.
"""

import logging

from acapy_bridge_shim.acapy_compat import (
    conductor_of,
    inbound_transport_manager,
    replace_undelivered_queue,
    return_to_reply_session_only,
    watch_closed_sessions,
    watch_inbound_frames,
    wrap_outbound_router,
)
from acapy_bridge_shim.own_transports.janitor import InboxJanitor
from acapy_bridge_shim.own_transports.session_pushes import SessionPushes
from acapy_bridge_shim.own_transports.socket_holder import SocketHolder
from acapy_bridge_shim.own_transports.wallet_outbound import WalletOutbound
from acapy_bridge_shim.own_transports.wallet_sessions import WalletSessions
from acapy_bridge_shim.runtime import BridgeRuntime

LOGGER = logging.getLogger(__name__)

__all__ = ["OwnTransports"]


class OwnTransports:
    def __init__(self, runtime: BridgeRuntime) -> None:
        self._runtime = runtime
        self._holder: SocketHolder | None = None
        self.sessions: WalletSessions | None = None
        self.outbound: WalletOutbound | None = None
        self.pushes: SessionPushes | None = None
        self.janitor: InboxJanitor | None = None

    async def start(self, profile) -> None:
        """Hooks into ACA-Py's transports and starts this instance's inbox and janitor."""
        runtime = self._runtime
        await runtime.connect()
        parts = runtime.connected()
        manager = inbound_transport_manager(profile)
        conductor = conductor_of(manager)
        self._holder = SocketHolder(parts.client, parts.keyspace, runtime.instance_id)
        self.sessions = WalletSessions(
            sessions=manager.sessions, wallets=parts.wallets, holder_id=self._holder.holder_id
        )
        self.outbound = WalletOutbound(conductor=conductor, wallets=parts.wallets, sessions=manager.sessions)
        self.pushes = SessionPushes(
            client=parts.client,
            scripts=parts.scripts,
            keyspace=parts.keyspace,
            wallets=parts.wallets,
            sessions=self.sessions,
        )
        watch_inbound_frames(manager, self.sessions.on_message)
        watch_closed_sessions(manager, self.sessions.on_closed)
        return_to_reply_session_only(manager)
        replace_undelivered_queue(manager, self.outbound)
        wrap_outbound_router(conductor, self.outbound.route)
        # The inbox exists before the first route names this holder (inbox_push refuses a missing one).
        await self.pushes.start()
        await self._holder.start()
        self.janitor = InboxJanitor(
            client=parts.client,
            scripts=parts.scripts,
            keyspace=parts.keyspace,
            membership=parts.membership,
            wallets=parts.wallets,
            pushes=self.pushes,
            holder_id=self._holder.holder_id,
            interval_s=runtime.config.own_transports.janitor_interval_s,
        )
        self.janitor.start()
        LOGGER.info("acapy-bridge own transports: %s holds this instance's wallet sockets", self._holder.holder_id)

    async def stop(self) -> None:
        """Stops reading the inbox, marks this holder dead for the janitor, and settles what is in hand."""
        if self.janitor is not None:
            await self.janitor.stop()
        if self.pushes is not None:
            await self.pushes.stop()
        if self._holder is not None:
            await self._holder.stop()
        for part in (self.sessions, self.outbound):
            if part is not None:
                await part.settle()
