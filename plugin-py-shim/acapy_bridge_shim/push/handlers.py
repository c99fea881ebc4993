"""ACA-Py handlers of `set-device-info` and `get-device-info` (FCM and APNs) a wallet sends its mediator.

The wallet is the authcrypt sender: its connection key, which is also the key its mailbox is kept
under, so the device is stored under it. `set-device-info` has no answer (RFCs 0734 and 0699);
`get-device-info` is answered with `device-info` (null token when the wallet has none, or has one
for the other service).
"""

import logging

from acapy_agent.messaging.base_handler import BaseHandler, BaseResponder, RequestContext

from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.push.devices import PushDevices
from acapy_bridge_shim.push.messages import (
    ApnsDeviceInfo,
    ApnsGetDeviceInfo,
    ApnsSetDeviceInfo,
    FcmDeviceInfo,
    FcmGetDeviceInfo,
    FcmSetDeviceInfo,
)
from acapy_bridge_shim.wallet_protocols import connected_runtime, reply_in_thread, sender_wallet_key

LOGGER = logging.getLogger(__name__)


async def _devices(context: RequestContext) -> PushDevices:
    runtime = await connected_runtime(context)
    assert runtime.push_devices is not None  # set by connect()
    return runtime.push_devices


def _wallet_key(context: RequestContext) -> str:
    return sender_wallet_key(context, "register a device for")


def _connection_id(context: RequestContext) -> str:
    record = context.connection_record
    return record.connection_id if record else ""


async def _set(context: RequestContext, platform: pb.PushPlatform) -> None:
    wallet = _wallet_key(context)
    message = context.message
    devices = await _devices(context)
    registered = await devices.set(
        wallet,
        platform,
        message.device_token,
        device_platform=getattr(message, "device_platform", None) or "",
        connection_id=_connection_id(context),
    )
    LOGGER.info(
        "acapy-bridge push: %s device %s for wallet %s",
        pb.PushPlatform.Name(platform).removeprefix("PUSH_PLATFORM_"),
        "registered" if registered else "removed",
        wallet,
    )


async def _device_for(context: RequestContext, platform: pb.PushPlatform) -> pb.WalletPushDevice | None:
    device = await (await _devices(context)).get(_wallet_key(context))
    return device if device is not None and device.platform == platform else None


class FcmSetDeviceInfoHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, FcmSetDeviceInfo)
        await _set(context, pb.PUSH_PLATFORM_FCM)


class FcmGetDeviceInfoHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, FcmGetDeviceInfo)
        device = await _device_for(context, pb.PUSH_PLATFORM_FCM)
        reply = FcmDeviceInfo(
            device_token=device.token if device else None,
            device_platform=(device.device_platform or None) if device else None,
        )
        await reply_in_thread(context, responder, reply)


class ApnsSetDeviceInfoHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, ApnsSetDeviceInfo)
        await _set(context, pb.PUSH_PLATFORM_APNS)


class ApnsGetDeviceInfoHandler(BaseHandler):
    async def handle(self, context: RequestContext, responder: BaseResponder):
        assert isinstance(context.message, ApnsGetDeviceInfo)
        device = await _device_for(context, pb.PUSH_PLATFORM_APNS)
        await reply_in_thread(context, responder, ApnsDeviceInfo(device_token=device.token if device else None))
