"""The messages of push-notifications-fcm/1.0 and push-notifications-apns/1.0, on ACA-Py's AgentMessage.

`device_token` (and FCM's `device_platform`) may be null: a `set-device-info` with no token turns
the wallet's notifications off, a `device-info` with none says none is registered.
"""

from functools import partial

from acapy_agent.messaging.agent_message import AgentMessage
from marshmallow import fields

from acapy_bridge_shim.push import message_types as types
from acapy_bridge_shim.wallet_protocols import LenientSchema as _PushSchema
from acapy_bridge_shim.wallet_protocols import message_meta

_meta = partial(message_meta, "acapy_bridge_shim.push.handlers")


class _DeviceMessage(AgentMessage):
    def __init__(self, *, device_token: str | None = None, device_platform: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.device_token = device_token
        self.device_platform = device_platform


class _FcmDeviceSchema(_PushSchema):
    device_token = fields.Str(required=False, allow_none=True)
    device_platform = fields.Str(required=False, allow_none=True)


class _ApnsDeviceSchema(_PushSchema):
    device_token = fields.Str(required=False, allow_none=True)


# ---- FCM (RFC 0734) ----


class FcmSetDeviceInfo(_DeviceMessage):
    Meta = _meta("FcmSetDeviceInfo", types.FCM_SET_DEVICE_INFO, "FcmSetDeviceInfoHandler")


class FcmSetDeviceInfoSchema(_FcmDeviceSchema):
    class Meta(_PushSchema.Meta):
        model_class = FcmSetDeviceInfo


class FcmGetDeviceInfo(AgentMessage):
    Meta = _meta("FcmGetDeviceInfo", types.FCM_GET_DEVICE_INFO, "FcmGetDeviceInfoHandler")


class FcmGetDeviceInfoSchema(_PushSchema):
    class Meta(_PushSchema.Meta):
        model_class = FcmGetDeviceInfo


class FcmDeviceInfo(_DeviceMessage):
    # Sent by the mediator (no handler here).
    Meta = _meta("FcmDeviceInfo", types.FCM_DEVICE_INFO)


class FcmDeviceInfoSchema(_FcmDeviceSchema):
    class Meta(_PushSchema.Meta):
        model_class = FcmDeviceInfo


# ---- APNs (RFC 0699) ----


class ApnsSetDeviceInfo(_DeviceMessage):
    Meta = _meta("ApnsSetDeviceInfo", types.APNS_SET_DEVICE_INFO, "ApnsSetDeviceInfoHandler")


class ApnsSetDeviceInfoSchema(_ApnsDeviceSchema):
    class Meta(_PushSchema.Meta):
        model_class = ApnsSetDeviceInfo


class ApnsGetDeviceInfo(AgentMessage):
    Meta = _meta("ApnsGetDeviceInfo", types.APNS_GET_DEVICE_INFO, "ApnsGetDeviceInfoHandler")


class ApnsGetDeviceInfoSchema(_PushSchema):
    class Meta(_PushSchema.Meta):
        model_class = ApnsGetDeviceInfo


class ApnsDeviceInfo(_DeviceMessage):
    # Sent by the mediator (no handler here).
    Meta = _meta("ApnsDeviceInfo", types.APNS_DEVICE_INFO)


class ApnsDeviceInfoSchema(_ApnsDeviceSchema):
    class Meta(_PushSchema.Meta):
        model_class = ApnsDeviceInfo
