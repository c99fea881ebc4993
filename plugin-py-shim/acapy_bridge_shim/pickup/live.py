"""Mailbox messages as Pickup attachments, and the live `delivery` packed by ACA-Py for the wallet."""

import datetime

from acapy_agent.messaging.decorators.attach_decorator import AttachDecorator, AttachDecoratorData
from acapy_agent.transport.wire_format import BaseWireFormat
from acapy_agent.wallet.util import bytes_to_b64

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.pickup.messages import Delivery


def received_time(created_at_ms: int) -> str:
    """ISO 8601 with a `T` and milliseconds ("2026-12-07T06:55:00.123Z"): JavaScript's Date parses it (Credo)."""
    moment = datetime.datetime.fromtimestamp(created_at_ms / 1000, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def attachment_of(message: pb.WalletMessage) -> AttachDecorator:
    """A mailbox message as a delivery attachment: `@id` = its mid, data = base64 of the packed message."""
    return AttachDecorator(
        ident=message.mid,
        mime_type="application/json",
        lastmod_time=received_time(message.created_at_ms),
        data=AttachDecoratorData(base64_=bytes_to_b64(bytes(message.body))),
    )


def live_delivery_packer(profile, target, content_type_of):
    """(message) -> (packed delivery, content type), for the connection `target` (its recipient and sender keys)."""

    async def pack(message: pb.WalletMessage) -> tuple[bytes, str]:
        delivery = Delivery(attachments=[attachment_of(message)])
        async with profile.session() as session:
            wire_format = session.inject(BaseWireFormat)
            packed = await wire_format.encode_message(
                session,
                delivery.to_json(),
                list(target.recipient_keys or []),
                list(target.routing_keys or []),
                target.sender_key,
            )
        body = packed if isinstance(packed, bytes | bytearray) else str(packed).encode()
        return bytes(body), content_type_of(packed, profile.settings)

    return pack
