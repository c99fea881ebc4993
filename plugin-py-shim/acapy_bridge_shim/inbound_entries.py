"""One inbound entry, from its bytes to its end: handed to ACA-Py, replied to, then acknowledged or dead-lettered.

At-least-once: the entry stays pending until its reply (if any) is in the origin
relay's inbox and the hand-off to ACA-Py is done; only then is it acknowledged
(`LingeringAcks`: XACK + XDEL, a little later and together with others). An entry
delivered more than `max_deliveries` times is dead-lettered as POISON.
"""

import asyncio
import logging

from acapy_bridge.codec import EnvelopeDecodeError, decode_envelope, encode_envelope
from acapy_bridge.keyspace import KEY_SPECS, Keyspace
from acapy_bridge.lingering_acks import LingeringAcks
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import StreamEntry, bury_entry
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge_shim.config import InboundSettings
from acapy_bridge_shim.inbound_in_flight import RecentlyFinished, entry_key
from acapy_bridge_shim.inbound_outcome import Deliver, Requeue, RetryLater
from acapy_bridge_shim.relay_inbox_writer import RelayInboxWriter, now_ms

# The consumer's module logs for it: operators (and the crash test's ledger) filter on that name.
LOGGER = logging.getLogger("acapy_bridge_shim.inbound_consumer")

DEAD_LETTER_CAP = KEY_SPECS["inbound_dead_letters"].max_length


class InboundEntries:
    """Handles entries of the inbound partitions (the `process` of InFlight)."""

    def __init__(
        self,
        *,
        scripts: Scripts,
        keyspace: Keyspace,
        consumer: str,
        settings: InboundSettings,
        acks: LingeringAcks,
        finished: RecentlyFinished,
        replies: RelayInboxWriter,
        deliver: Deliver,
        requeue: Requeue,
        stats: dict[str, int],
    ) -> None:
        self._scripts = scripts
        self._keyspace = keyspace
        self._consumer = consumer
        self._settings = settings
        self._acks = acks
        # Entries acknowledged or dead-lettered: not started again from an older snapshot.
        self._finished = finished
        self._replies = replies
        self._deliver = deliver
        self._requeue = requeue
        self._stats = stats
        self._group = keyspace.spec("inbound_queue").consumer_group
        self._streams = keyspace.all_partitions("inbound_queue")
        self._dlq_field = keyspace.spec("inbound_dead_letters").entry_field

    async def process(self, stream: str, entry: StreamEntry, deliveries: int) -> None:
        try:
            await self._process_entry(stream, entry, deliveries)
        except asyncio.CancelledError:
            raise
        except RetryLater as later:  # expected (a failed handler, a timeout): one line, no traceback
            LOGGER.warning("acapy-bridge inbound: entry %s of %s: %s; it stays pending", entry.id, stream, later)
        except Exception:  # noqa: BLE001 - the entry stays pending; it is claimed later, then dead-lettered
            LOGGER.exception("acapy-bridge inbound: entry %s of %s failed; it stays pending", entry.id, stream)

    async def _process_entry(self, stream: str, entry: StreamEntry, deliveries: int) -> None:
        if entry.payload is None:  # deleted while pending
            self._acknowledge(stream, entry.id)
            return
        try:
            message = decode_envelope(pb.AgentMessage, entry.payload)
        except EnvelopeDecodeError as error:
            await self._bury(
                stream, entry.id, None, pb.DEAD_LETTER_REASON_MALFORMED, str(error), deliveries, entry.payload
            )
            return
        if deliveries > self._settings.max_deliveries:
            await self._bury(
                stream,
                entry.id,
                message,
                pb.DEAD_LETTER_REASON_POISON,
                f"delivered {deliveries} times (max_deliveries {self._settings.max_deliveries})",
                deliveries,
            )
            return
        if message.expires_at_ms and message.expires_at_ms < now_ms():
            await self._bury(stream, entry.id, message, pb.DEAD_LETTER_REASON_EXPIRED, "expired", deliveries)
            return
        if message.kind == pb.INBOUND_KIND_RETURNED_REPLY:
            returned = await self._requeue(message)
            self._stats["returned_replies"] += 1
            if returned is not None and returned.dead_letter:
                reason, detail = returned.dead_letter
                await self._bury(stream, entry.id, message, reason, detail, deliveries)
            else:
                self._acknowledge(stream, entry.id)
            return
        if message.kind != pb.INBOUND_KIND_AGENT_MESSAGE:
            self._acknowledge(stream, entry.id)
            return

        async def reply_now(reply: pb.DirectReply) -> None:
            await self._replies.write_reply(message, reply)

        outcome = await self._deliver(message, reply_now)
        # Logged before the acknowledgement: a crash after this line redelivers (a duplicate), never loses.
        LOGGER.debug("acapy-bridge inbound: processed mid=%s entry=%s", message.mid, entry.id)
        if outcome.reply is not None:
            await self._replies.write_reply(message, outcome.reply)
        if outcome.close_socket and message.socket_id and message.relay_id:
            code, why = outcome.close_socket
            await self._replies.write_command(
                message.relay_id,
                pb.RelayCommand(close=pb.CloseSocket(socket_id=message.socket_id, code=code, reason=why[:120])),
            )
        if outcome.dead_letter:
            reason, detail = outcome.dead_letter
            await self._bury(stream, entry.id, message, reason, detail, deliveries)
        else:
            self._acknowledge(stream, entry.id)
        self._stats["processed"] += 1

    def _acknowledge(self, stream: str, entry_id: str) -> None:
        """The entry is done: acknowledged soon (LingeringAcks retries a failed call), and remembered."""
        self._acks.add(stream, entry_id)
        self._finished.add(entry_key(stream, entry_id))

    async def _bury(
        self,
        stream: str,
        entry_id: str,
        message: pb.AgentMessage | None,
        reason: pb.DeadLetterReason,
        detail: str,
        deliveries: int,
        raw: bytes | None = None,
    ) -> None:
        letter = pb.DeadLetter(
            mid=message.mid if message is not None else f"entry:{entry_id}",
            reason=reason,
            detail=detail[:1000],
            attempts=deliveries,
            dead_at_ms=now_ms(),
            source_key=stream,
            instance_id=self._consumer,
        )
        if message is not None:
            letter.agent_message.CopyFrom(message)
        else:
            letter.undecodable = raw or b""
        dlq = self._dead_letter_stream(stream)
        await bury_entry(
            self._scripts,
            stream=stream,
            dead_letter_stream=dlq,
            group=self._group,
            entry_id=entry_id,
            entry_field=self._dlq_field,
            dead_letter=encode_envelope(letter),
            dead_letter_cap=DEAD_LETTER_CAP,
        )
        # Acknowledged with it (XACK + XDEL): a claim that took it before must not handle it again.
        self._finished.add(entry_key(stream, entry_id))
        self._stats["dead_lettered"] += 1
        LOGGER.warning(
            "acapy-bridge inbound: dead-lettered mid=%s reason=%s: %s",
            letter.mid,
            pb.DeadLetterReason.Name(reason),
            detail,
        )

    def _dead_letter_stream(self, stream: str) -> str:
        return self._keyspace.key("inbound_dead_letters", partition=self._streams.index(stream))
