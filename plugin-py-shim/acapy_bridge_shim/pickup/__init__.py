"""Message Pickup 2.0 (RFC 0685) and 1.0 (RFC 0212) for a mediator behind the bridge.

The protocol works on the wallet mailboxes the shim already keeps in Redis (`wallet_routing`,
docs/mediator.md "For wallet developers"): `mailbox.PickupMailbox` reads and acknowledges them,
`handlers` answers the wallet, `live` packs the live `delivery`. `register_pickup_protocols`
adds the message types to ACA-Py's ProtocolRegistry, which is also what discover-features
discloses.
"""


def register_pickup_protocols(context) -> None:
    from acapy_agent.core.protocol_registry import ProtocolRegistry

    from acapy_bridge_shim.pickup.message_types import V1_MESSAGE_TYPES, V1_VERSION, V2_MESSAGE_TYPES, V2_VERSION

    registry = context.inject(ProtocolRegistry)
    registry.register_message_types(V2_MESSAGE_TYPES, version_definition=V2_VERSION)
    registry.register_message_types(V1_MESSAGE_TYPES, version_definition=V1_VERSION)
