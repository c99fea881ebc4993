"""The messages of Message Pickup 2.0 (RFC 0685) and 1.0 (RFC 0212), on ACA-Py's AgentMessage."""

from functools import partial

from acapy_agent.messaging.agent_message import AgentMessage
from acapy_agent.messaging.decorators.attach_decorator import AttachDecorator, AttachDecoratorSchema
from marshmallow import fields

from acapy_bridge_shim.pickup import message_types as types
from acapy_bridge_shim.wallet_protocols import LenientSchema as _PickupSchema
from acapy_bridge_shim.wallet_protocols import message_meta

_meta = partial(message_meta, "acapy_bridge_shim.pickup.handlers")


# ---- 2.0 ----


class StatusRequest(AgentMessage):
    Meta = _meta("StatusRequest", types.STATUS_REQUEST, "StatusRequestHandler")

    def __init__(self, *, recipient_key: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.recipient_key = recipient_key


class StatusRequestSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = StatusRequest

    recipient_key = fields.Str(required=False, allow_none=True)


class Status(AgentMessage):
    # Sent by the mediator (no handler here, as for `delivery`).
    Meta = _meta("Status", types.STATUS)

    def __init__(
        self,
        *,
        message_count: int = 0,
        recipient_key: str | None = None,
        longest_waited_seconds: int | None = None,
        newest_received_time: str | None = None,
        oldest_received_time: str | None = None,
        total_bytes: int | None = None,
        live_delivery: bool | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.message_count = message_count
        self.recipient_key = recipient_key
        self.longest_waited_seconds = longest_waited_seconds
        self.newest_received_time = newest_received_time
        self.oldest_received_time = oldest_received_time
        self.total_bytes = total_bytes
        self.live_delivery = live_delivery


class StatusSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = Status

    message_count = fields.Int(required=True)
    recipient_key = fields.Str(required=False, allow_none=True)
    longest_waited_seconds = fields.Int(required=False, allow_none=True)
    newest_received_time = fields.Str(required=False, allow_none=True)
    oldest_received_time = fields.Str(required=False, allow_none=True)
    total_bytes = fields.Int(required=False, allow_none=True)
    live_delivery = fields.Bool(required=False, allow_none=True)


class DeliveryRequest(AgentMessage):
    Meta = _meta("DeliveryRequest", types.DELIVERY_REQUEST, "DeliveryRequestHandler")

    def __init__(self, *, limit: int = 10, recipient_key: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.limit = limit
        self.recipient_key = recipient_key


class DeliveryRequestSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = DeliveryRequest

    limit = fields.Int(required=True)
    recipient_key = fields.Str(required=False, allow_none=True)


class Delivery(AgentMessage):
    # The mediator sends it; a mediator that receives one has nothing to do with it (no handler).
    Meta = _meta("Delivery", types.DELIVERY)

    def __init__(self, *, attachments: list[AttachDecorator] | None = None, recipient_key: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.attachments = list(attachments or [])
        self.recipient_key = recipient_key


class DeliverySchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = Delivery

    recipient_key = fields.Str(required=False, allow_none=True)
    attachments = fields.Nested(AttachDecoratorSchema, many=True, required=True, data_key="~attach")


class MessagesReceived(AgentMessage):
    Meta = _meta("MessagesReceived", types.MESSAGES_RECEIVED, "MessagesReceivedHandler")

    def __init__(self, *, message_id_list: list[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.message_id_list = list(message_id_list or [])


class MessagesReceivedSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = MessagesReceived

    message_id_list = fields.List(fields.Str(), required=True)


class LiveDeliveryChange(AgentMessage):
    Meta = _meta("LiveDeliveryChange", types.LIVE_DELIVERY_CHANGE, "LiveDeliveryChangeHandler")

    def __init__(self, *, live_delivery: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.live_delivery = live_delivery


class LiveDeliveryChangeSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = LiveDeliveryChange

    live_delivery = fields.Bool(required=True)


# ---- 1.0 ----


class V1StatusRequest(AgentMessage):
    Meta = _meta("V1StatusRequest", types.V1_STATUS_REQUEST, "V1StatusRequestHandler")


class V1StatusRequestSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = V1StatusRequest


class V1Status(AgentMessage):
    Meta = _meta("V1Status", types.V1_STATUS)

    def __init__(
        self,
        *,
        message_count: int = 0,
        duration_waited: int | None = None,
        newest_time: str | None = None,
        oldest_time: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.message_count = message_count
        self.duration_waited = duration_waited
        self.newest_time = newest_time
        self.oldest_time = oldest_time


class V1StatusSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = V1Status

    message_count = fields.Int(required=True)
    duration_waited = fields.Int(required=False, allow_none=True)
    newest_time = fields.Str(required=False, allow_none=True)
    oldest_time = fields.Str(required=False, allow_none=True)


class BatchPickup(AgentMessage):
    Meta = _meta("BatchPickup", types.V1_BATCH_PICKUP, "BatchPickupHandler")

    def __init__(self, *, batch_size: int = 10, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size


class BatchPickupSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = BatchPickup

    batch_size = fields.Int(required=True)


class Batch(AgentMessage):
    Meta = _meta("Batch", types.V1_BATCH)

    def __init__(self, *, messages: list[dict] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.messages = list(messages or [])


class BatchSchema(_PickupSchema):
    class Meta(_PickupSchema.Meta):
        model_class = Batch

    # RFC 0212: [{"id": ..., "message": <the packed message, as JSON>}]
    messages = fields.List(fields.Dict(), required=True, data_key="messages~attach")
