"""Push notifications for offline wallets (Aries RFC 0734 FCM, RFC 0699 APNs) on a mediator.

A wallet registers its device with `set-device-info` (`handlers`); the device is kept in Redis
under the wallet key (`devices`), where `mailbox_offer` finds it when a message lands in the
mailbox of a wallet without a session and decides, coalesced per wallet, on one notification,
which `notifications` puts on the outbound partitions as a push job for the deliverers
(docs/mediator.md, "Push notifications"). `register_push_protocols` adds the message types to
ACA-Py's ProtocolRegistry (and so to what discover-features discloses).
"""


def register_push_protocols(context) -> None:
    from acapy_agent.core.protocol_registry import ProtocolRegistry

    from acapy_bridge_shim.push.message_types import APNS_MESSAGE_TYPES, FCM_MESSAGE_TYPES, VERSION

    registry = context.inject(ProtocolRegistry)
    registry.register_message_types(FCM_MESSAGE_TYPES, version_definition=VERSION)
    registry.register_message_types(APNS_MESSAGE_TYPES, version_definition=VERSION)
