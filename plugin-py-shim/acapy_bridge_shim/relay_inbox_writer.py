"""Replies and commands for a relay, written to its inbox; a reply whose relay is gone goes back to ACA-Py.

A direct response exists only in this process until it is in the relay's inbox:
writes are retried through a brief Redis outage, and a relay that died (its inbox
retired) has its reply handed back to ACA-Py through the inbound partitions, as the
relay janitor does.
"""

import asyncio
import logging
import re
import time

from acapy_bridge.codec import encode_envelope
from acapy_bridge.keyspace import Keyspace
from acapy_bridge.partitioning import partition_of
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import enqueue_envelope
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge.write_batch import Signal
from acapy_bridge_shim.outbound_jobs import new_mid

# The consumer's module logs for it: operators (and the crash test's ledger) filter on that name.
LOGGER = logging.getLogger("acapy_bridge_shim.inbound_consumer")

# Waits between the attempts to write a reply (or command) to a relay's inbox: about 6 s in all,
# well inside the relay's wait for a direct response.
REPLY_RETRY_DELAYS_S = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
# A base58 Ed25519 verkey, as the relay tells one (packages/relay/src/envelope-recipient.ts).
_BASE58_VERKEY = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,64}$")


def now_ms() -> int:
    return int(time.time() * 1000)


class RelayInboxWriter:
    """Writes RelayCommands to relays' inboxes; counts in the consumer's `stats`."""

    def __init__(
        self,
        *,
        scripts: Scripts,
        keyspace: Keyspace,
        stats: dict[str, int],
        retry_delays_s: tuple[float, ...] = REPLY_RETRY_DELAYS_S,
    ) -> None:
        self._scripts = scripts
        self._keyspace = keyspace
        self._stats = stats
        self.retry_delays_s = retry_delays_s
        self._inbox_field = keyspace.spec("relay_inbox").entry_field
        self._inbound_field = keyspace.spec("inbound_queue").entry_field

    def signal_write(self, relay_id: str, reply: pb.DirectReply) -> Signal:
        """A bodiless reply as a write for a batch, published to its relay: lost with it (nothing to deliver)."""
        return Signal(
            channel=self._keyspace.key("relay_signals", relay=relay_id),
            command=encode_envelope(pb.RelayCommand(reply=reply)),
        )

    def count_signal(self, *, delivered: bool) -> None:
        self._stats["replied" if delivered else "dropped_commands"] += 1

    async def write_reply(self, message: pb.AgentMessage, reply: pb.DirectReply) -> None:
        if not message.relay_id:
            return
        await self.write_command(message.relay_id, pb.RelayCommand(reply=reply))

    async def write_command(self, relay_id: str, command: pb.RelayCommand) -> None:
        """Writes to the relay's inbox, retried through a brief Redis outage (the reply exists only here).

        Raises after the last attempt: the entry then stays pending and is handled again later.
        """
        what = command.WhichOneof("command")
        for attempt, delay in enumerate((*self.retry_delays_s, None), start=1):
            try:
                await self._push_command(relay_id, command)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis away for a moment: try again
                if delay is None:
                    LOGGER.error(
                        "acapy-bridge inbound: writing %s to relay %s failed %d times (%s); giving up",
                        what,
                        relay_id,
                        attempt,
                        error,
                    )
                    raise
                LOGGER.warning(
                    "acapy-bridge inbound: writing %s to relay %s failed (attempt %d: %s); retrying in %.1f s",
                    what,
                    relay_id,
                    attempt,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _push_command(self, relay_id: str, command: pb.RelayCommand) -> None:
        # inbox_push, not enqueue: XADD would re-create the inbox of a relay the janitor retired.
        status, _ = await self._scripts.inbox_push(
            inbox=self._keyspace.key("relay_inbox", relay=relay_id),
            entry_field=self._inbox_field,
            command=encode_envelope(command),
        )
        if status == "OK":
            if command.WhichOneof("command") == "reply":
                self._stats["replied"] += 1
            return
        if status != "GONE":
            raise RuntimeError(f"inbox_push returned {status!r}")
        # The relay is dead and its inbox retired: the request or socket went with it.
        if command.WhichOneof("command") == "reply" and command.reply.body:
            await self._return_reply(relay_id, command.reply)
            return
        self._stats["dropped_commands"] += 1
        LOGGER.info(
            "acapy-bridge inbound: relay %s is gone; %s for mid=%s dropped (nothing to deliver)",
            relay_id,
            command.WhichOneof("command"),
            command.reply.mid if command.HasField("reply") else command.close.socket_id,
        )

    async def _return_reply(self, relay_id: str, reply: pb.DirectReply) -> None:
        """Hands a direct response whose relay is gone back to ACA-Py, as the relay janitor does."""
        verkey = reply.reply_to_verkey
        returned = pb.AgentMessage(
            mid=new_mid(),
            kind=pb.INBOUND_KIND_RETURNED_REPLY,
            recipient_key=verkey if _BASE58_VERKEY.match(verkey) else f"reply:{reply.mid}",
            content_type=reply.content_type,
            received_at_ms=now_ms(),
            transport=pb.TRANSPORT_UNSPECIFIED,
            returned_reply=reply,
        )
        count = self._keyspace.partition_count("inbound_queue")
        await enqueue_envelope(
            self._scripts,
            stream=self._keyspace.key("inbound_queue", partition=partition_of(returned.recipient_key, count)),
            entry_field=self._inbound_field,
            payload=encode_envelope(returned),
            high_water_mark=0,  # never refuse: the reply exists only here now
        )
        self._stats["replies_handed_back"] += 1
        LOGGER.info(
            "acapy-bridge inbound: relay %s is gone; direct response to mid=%s handed back to ACA-Py as %s",
            relay_id,
            reply.mid,
            returned.mid,
        )
