"""Wallets' push devices in Redis: `wallet_push_device` under the wallet key, one per wallet.

Any mediator instance answers `set-device-info` and `get-device-info`; `mailbox_offer` reads the
device in the wallet's slot when it decides on a notification, and the deliverer removes it
(`push_device_clear`) when the push service reports the token unregistered.
"""

import time

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.keyspace import Keyspace
from acapy_bridge.v1 import envelopes_pb2 as pb


class PushDevices:
    def __init__(self, *, client, keyspace: Keyspace):
        self._client = client
        self._keyspace = keyspace

    def key(self, wallet_key: str) -> str:
        return self._keyspace.key("wallet_push_device", recipient=wallet_key)

    async def set(
        self,
        wallet_key: str,
        platform: pb.PushPlatform,
        token: str | None,
        *,
        device_platform: str = "",
        connection_id: str = "",
    ) -> bool:
        """Registers the wallet's device; no token removes it (notifications off). True if one is set."""
        if not token:
            await self._client.delete(self.key(wallet_key))
            return False
        device = pb.WalletPushDevice(
            platform=platform,
            token=token,
            device_platform=device_platform or "",
            connection_id=connection_id or "",
            set_at_ms=int(time.time() * 1000),
        )
        await self._client.set(self.key(wallet_key), encode_envelope(device))
        return True

    async def get(self, wallet_key: str) -> pb.WalletPushDevice | None:
        raw = await self._client.get(self.key(wallet_key))
        return decode_envelope(pb.WalletPushDevice, raw) if raw else None
