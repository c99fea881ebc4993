"""ACA-Py outbound transport for a mediator: the shim's outbound, plus wallets without an endpoint.

Load with `-ot acapy_bridge_shim.wallet_outbound` instead of `-ot acapy_bridge_shim.outbound`.
Messages to an http(s)/ws(s) endpoint go to the deliverers exactly as with
`acapy_bridge_shim.outbound`. A message whose target has no such endpoint (a
mobile wallet: none, or `didcomm:transport/queue`) goes to the wallet's live
session on whichever relay holds it, or to its mailbox in Redis
(`wallet_routing`), instead of ACA-Py's in-memory undelivered queue.

(Kept apart from `outbound.py` while issue 4 finishes that module; the two fold
together afterwards. Only one transport class may be declared in this module:
ACA-Py loads the first subclass of BaseOutboundTransport it finds here.)
"""

import logging
from urllib.parse import urlsplit

from acapy_agent.transport.outbound.base import OutboundTransportError, QueuedOutboundMessage

from acapy_bridge_shim import outbound as _bridge_outbound

LOGGER = logging.getLogger(__name__)


def is_endpointless(endpoint) -> bool:
    return not endpoint or urlsplit(str(endpoint)).scheme.lower() not in _bridge_outbound.DELIVERABLE_SCHEMES


class WalletAwareOutboundTransport(_bridge_outbound.BridgeOutboundTransport):
    """The bridge's outbound transport; endpoint-less targets go to wallet routes and mailboxes."""

    async def handle_message(self, profile, outbound_message, endpoint, metadata=None, api_key=None) -> None:
        if not is_endpointless(endpoint) or not isinstance(outbound_message, QueuedOutboundMessage):
            await super().handle_message(profile, outbound_message, endpoint, metadata, api_key)
            return
        payload = outbound_message.payload
        keys = list(getattr(outbound_message.target, "recipient_keys", None) or [])
        if payload is None or not keys:
            await super().handle_message(profile, outbound_message, endpoint, metadata, api_key)
            return
        from acapy_bridge_shim import runtime_for
        from acapy_bridge_shim.outbound_jobs import new_mid, now_ms

        body = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
        settings = (profile or self.root_profile).settings
        content_type = _bridge_outbound.content_type_of(payload, settings)
        try:
            runtime = await runtime_for(self.root_profile.context).connect()
            wallets = runtime.wallets
            message = wallets.wallet_message(keys[0], bytes(body), content_type, new_mid(now_ms()))
            result = await wallets.deliver(message)
        except Exception as error:  # noqa: BLE001 - any Redis failure means "not queued"
            raise OutboundTransportError(f"acapy-bridge: wallet message not queued: {error}") from error
        LOGGER.debug("acapy-bridge: wallet message %s for %s: %s", message.mid, keys[0], result)
