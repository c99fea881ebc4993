"""Message types of push-notifications-fcm/1.0 (RFC 0734) and push-notifications-apns/1.0 (RFC 0699)."""

from acapy_agent.protocols.didcomm_prefix import DIDCommPrefix

FCM_SET_DEVICE_INFO = "push-notifications-fcm/1.0/set-device-info"
FCM_GET_DEVICE_INFO = "push-notifications-fcm/1.0/get-device-info"
FCM_DEVICE_INFO = "push-notifications-fcm/1.0/device-info"
APNS_SET_DEVICE_INFO = "push-notifications-apns/1.0/set-device-info"
APNS_GET_DEVICE_INFO = "push-notifications-apns/1.0/get-device-info"
APNS_DEVICE_INFO = "push-notifications-apns/1.0/device-info"

PACKAGE = "acapy_bridge_shim.push.messages"

FCM_MESSAGE_TYPES = DIDCommPrefix.qualify_all(
    {
        FCM_SET_DEVICE_INFO: f"{PACKAGE}.FcmSetDeviceInfo",
        FCM_GET_DEVICE_INFO: f"{PACKAGE}.FcmGetDeviceInfo",
        FCM_DEVICE_INFO: f"{PACKAGE}.FcmDeviceInfo",
    }
)
APNS_MESSAGE_TYPES = DIDCommPrefix.qualify_all(
    {
        APNS_SET_DEVICE_INFO: f"{PACKAGE}.ApnsSetDeviceInfo",
        APNS_GET_DEVICE_INFO: f"{PACKAGE}.ApnsGetDeviceInfo",
        APNS_DEVICE_INFO: f"{PACKAGE}.ApnsDeviceInfo",
    }
)

VERSION = {"major_version": 1, "minimum_minor_version": 0, "current_minor_version": 0, "path": "v1_0"}
