"""Message types of Message Pickup 2.0 (RFC 0685) and 1.0 (RFC 0212), as this plugin registers them."""

from acapy_agent.protocols.didcomm_prefix import DIDCommPrefix

V2_SPEC_URI = "https://github.com/hyperledger/aries-rfcs/tree/main/features/0685-pickup-v2"
V1_SPEC_URI = "https://github.com/hyperledger/aries-rfcs/tree/main/features/0212-pickup"

STATUS_REQUEST = "messagepickup/2.0/status-request"
STATUS = "messagepickup/2.0/status"
DELIVERY_REQUEST = "messagepickup/2.0/delivery-request"
DELIVERY = "messagepickup/2.0/delivery"
MESSAGES_RECEIVED = "messagepickup/2.0/messages-received"
LIVE_DELIVERY_CHANGE = "messagepickup/2.0/live-delivery-change"

V1_STATUS_REQUEST = "messagepickup/1.0/status-request"
V1_STATUS = "messagepickup/1.0/status"
V1_BATCH_PICKUP = "messagepickup/1.0/batch-pickup"
V1_BATCH = "messagepickup/1.0/batch"

PACKAGE = "acapy_bridge_shim.pickup.messages"

V2_MESSAGE_TYPES = DIDCommPrefix.qualify_all(
    {
        STATUS_REQUEST: f"{PACKAGE}.StatusRequest",
        STATUS: f"{PACKAGE}.Status",
        DELIVERY_REQUEST: f"{PACKAGE}.DeliveryRequest",
        DELIVERY: f"{PACKAGE}.Delivery",
        MESSAGES_RECEIVED: f"{PACKAGE}.MessagesReceived",
        LIVE_DELIVERY_CHANGE: f"{PACKAGE}.LiveDeliveryChange",
    }
)
V1_MESSAGE_TYPES = DIDCommPrefix.qualify_all(
    {
        V1_STATUS_REQUEST: f"{PACKAGE}.V1StatusRequest",
        V1_STATUS: f"{PACKAGE}.V1Status",
        V1_BATCH_PICKUP: f"{PACKAGE}.BatchPickup",
        V1_BATCH: f"{PACKAGE}.Batch",
    }
)

V2_VERSION = {"major_version": 2, "minimum_minor_version": 0, "current_minor_version": 0, "path": "v2_0"}
V1_VERSION = {"major_version": 1, "minimum_minor_version": 0, "current_minor_version": 0, "path": "v1_0"}

# The Pickup 2.0 messages a wallet sends: the first of them marks it as collecting with Pickup 2.0.
V2_REQUEST_NAMES = frozenset(
    name.rsplit("/", 1)[1] for name in (STATUS_REQUEST, DELIVERY_REQUEST, MESSAGES_RECEIVED, LIVE_DELIVERY_CHANGE)
)


def is_pickup_v2_request(message_type: str | None) -> bool:
    """True for a Pickup 2.0 message a wallet sends, under either DIDComm prefix."""
    if not message_type or "/messagepickup/2.0/" not in message_type:
        return False
    return message_type.rsplit("/", 1)[1] in V2_REQUEST_NAMES
