"""Push jobs: a notification `mailbox_offer` decided on goes to the outbound partitions.

The job is an OutboundJob of kind PUSH (body: a PushNotification naming the wallet and its device,
no message content), on the partition of "push:" + the wallet key, so the deliverers send it with
their usual retries, dead letters and metrics. Writing it is one more round trip, only when a
notification is due (at most once per wallet per window); it never fails the message, which is in
the mailbox already: a job that cannot be written is logged and counted, and the wallet's next
message after the window notifies again.
"""

import logging

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.keyspace import Keyspace
from acapy_bridge.scripts import Scripts
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import OutboundSettings
from acapy_bridge_shim.outbound_jobs import enqueue_job, new_mid, now_ms

LOGGER = logging.getLogger(__name__)

PUSH_PREFIX = "push:"


def push_job(
    wallet_key: str, device_bytes: bytes, device: pb.WalletPushDevice, depth: int, *, expiry_s: int, producer_id: str
) -> pb.OutboundJob:
    created = now_ms()
    platform = pb.PushPlatform.Name(device.platform).removeprefix("PUSH_PLATFORM_").lower()
    notification = pb.PushNotification(wallet_key=wallet_key, device=device_bytes, mailbox_depth=depth)
    return pb.OutboundJob(
        mid=new_mid(created),
        kind=pb.JOB_KIND_PUSH,
        recipient_key=PUSH_PREFIX + wallet_key,
        endpoint=PUSH_PREFIX + platform,
        content_type="application/x-protobuf",
        body=encode_envelope(notification),
        created_at_ms=created,
        expires_at_ms=created + expiry_s * 1000,
        connection_id=device.connection_id,
        recipient_keys=[wallet_key],
        producer_id=producer_id,
    )


class PushJobs:
    def __init__(self, *, scripts: Scripts, keyspace: Keyspace, settings: OutboundSettings, instance_id: str):
        self._scripts = scripts
        self._keyspace = keyspace
        self._settings = settings
        self._instance_id = instance_id
        self.stats = {"queued": 0, "not_queued": 0}

    async def notify(self, wallet_key: str, device_bytes: bytes, depth: int) -> bool:
        """Puts one notification for the wallet on its outbound partition; False (logged) if it could not."""
        try:
            device = decode_envelope(pb.WalletPushDevice, device_bytes)
            job = push_job(
                wallet_key,
                device_bytes,
                device,
                depth,
                expiry_s=self._settings.expiry_s,
                producer_id=self._instance_id,
            )
            await enqueue_job(self._scripts, self._keyspace, self._settings, job)
        except Exception as error:  # noqa: BLE001 - the message is in the mailbox; only the wake-up is lost
            self.stats["not_queued"] += 1
            LOGGER.warning("acapy-bridge push: notification for wallet %s not queued: %s", wallet_key, error)
            return False
        self.stats["queued"] += 1
        LOGGER.debug("acapy-bridge push: notification %s queued for wallet %s", job.mid, wallet_key)
        return True
