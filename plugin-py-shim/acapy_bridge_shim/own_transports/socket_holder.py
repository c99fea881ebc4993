"""This instance as a holder of wallets' sockets: a member of role `relay`, as a relay is in Design 2.

Routes name the holder id; `WalletRouter` pushes to a holder only while its heartbeat is younger
than the dead window. A holder that stops does not leave the members set: it sets its score to 0,
so the next janitor round (another instance's) hands on what reached its inbox after it stopped
reading, as a stopping relay does.
"""

import logging

from acapy_bridge.keyspace import Keyspace
from acapy_bridge.membership import Membership

LOGGER = logging.getLogger(__name__)

SOCKET_HOLDER_ROLE = "relay"  # the contract's role for "holds wallets' sockets" (WalletRouter's liveness)


def socket_holder_id(instance_id: str) -> str:
    return f"{instance_id}-sockets"


class SocketHolder:
    def __init__(self, client, keyspace: Keyspace, instance_id: str) -> None:
        self._client = client
        self._keyspace = keyspace
        self.holder_id = socket_holder_id(instance_id)
        self._membership = Membership(client, keyspace, self.holder_id, SOCKET_HOLDER_ROLE)

    async def start(self) -> None:
        await self._membership.start()

    async def stop(self) -> None:
        """Stops the heartbeat and marks this holder dead at once (score 0), for the janitor."""
        await self._membership.stop_beating()
        try:
            await self._client.zadd(self._keyspace.key("members", role=SOCKET_HOLDER_ROLE), {self.holder_id: 0})
        except Exception as error:  # noqa: BLE001 - the heartbeat simply ages out then
            LOGGER.warning("acapy-bridge own transports: could not mark %s stopped: %s", self.holder_id, error)
