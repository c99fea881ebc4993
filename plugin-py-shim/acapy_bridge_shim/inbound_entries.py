"""One inbound entry, from its bytes to its end: handed to ACA-Py, replied to, then acknowledged or dead-lettered.

At-least-once: the entry stays pending until its reply (if any) is in the origin
relay's inbox and the hand-off to ACA-Py is done; only then is it acknowledged.
A handled message's acknowledgement goes in one call with its other writes (the
outbound jobs its handler sent, its events, a bodiless answer for the relay:
`inbound_writes`), placed after them; other entries' go with `LingeringAcks`
(XACK + XDEL, a little later and together with others). An entry delivered more
than `max_deliveries` times is dead-lettered as POISON.
"""

import asyncio
import logging

from acapy_bridge.codec import EnvelopeDecodeError, decode_envelope, encode_envelope
from acapy_bridge.keyspace import KEY_SPECS, Keyspace
from acapy_bridge.lingering_acks import LingeringAcks
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import StreamEntry, bury_entry
from acapy_bridge.v1 import envelopes_pb2 as pb
from acapy_bridge.write_batch import Ack, Write
from acapy_bridge_shim import inbound_writes
from acapy_bridge_shim.config import InboundSettings
from acapy_bridge_shim.inbound_in_flight import RecentlyFinished, entry_key
from acapy_bridge_shim.inbound_outcome import Deliver, Outcome, Requeue, RetryLater
from acapy_bridge_shim.inbound_writes import Commit, CommitFailed, MessageWrites
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
        commit: Commit,
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
        self._commit = commit
        self._stats = stats
        # Bodiless answers sent by themselves (their message took long): kept until written.
        self._answers_alone: set[asyncio.Task] = set()
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

        writes = MessageWrites()

        async def reply_now(reply: pb.DirectReply) -> None:
            if reply.body or not message.relay_id:
                await self._replies.write_reply(message, reply)
                return
            # "No response": it waits (briefly) to go with the acknowledgement, as ACA-Py's answer after parsing.
            signal = self._replies.signal_write(message.relay_id, reply)
            writes.hold_reply(signal, lambda: self._answer_alone(message, None, signal))

        try:
            with inbound_writes.collecting(writes):
                outcome = await self._deliver(message, reply_now)
            # Logged before the acknowledgement: a crash after this line redelivers (a duplicate), never loses.
            LOGGER.debug("acapy-bridge inbound: processed mid=%s entry=%s", message.mid, entry.id)
            await self._finish_message(stream, entry.id, message, outcome, writes, deliveries)
        finally:
            writes.settle()
            held = writes.release_reply()
            if held is not None:  # not handed over: the relay still waits for it
                self._answer_alone(message, None, held)
            leftover = writes.close()
            if leftover:  # the handler's jobs, its message not acknowledged: in Redis all the same, as if sent at once
                await self._write_leftovers(message, leftover)
        self._stats["processed"] += 1

    async def _finish_message(
        self,
        stream: str,
        entry_id: str,
        message: pb.AgentMessage,
        outcome: Outcome,
        writes: MessageWrites,
        deliveries: int,
    ) -> None:
        held = writes.release_reply()
        reply = outcome.reply
        if reply is not None and not reply.body and message.relay_id and not outcome.dead_letter and held is None:
            held = self._replies.signal_write(message.relay_id, reply)
        elif reply is not None:
            await self._replies.write_reply(message, reply)
        if outcome.close_socket and message.socket_id and message.relay_id:
            code, why = outcome.close_socket
            await self._replies.write_command(
                message.relay_id,
                pb.RelayCommand(close=pb.CloseSocket(socket_id=message.socket_id, code=code, reason=why[:120])),
            )
        if outcome.dead_letter:
            if held is not None:
                self._answer_alone(message, None, held)
            leftover = writes.close()
            if leftover:  # what the handler sent before it refused: in Redis before the message is buried
                await self._write_leftovers(message, leftover)
            reason, detail = outcome.dead_letter
            await self._bury(stream, entry_id, message, reason, detail, deliveries)
            return
        # The handler's jobs, the answer for the relay, then the acknowledgement: one call (after its events).
        together: list[Write] = writes.close()
        if held is not None:
            together.append(held)
        together.append(Ack(stream, self._group, (entry_id,)))
        try:
            gone = await self._commit(together, self._settings.processing_timeout_s)
        except CommitFailed as failed:
            if held is not None:
                self._answer_alone(message, None, held)
            raise RetryLater(f"mid={message.mid}: its writes are not in Redis ({failed}); not acknowledged") from None
        finally:
            writes.settle()
        if held is not None:
            self._replies.count_signal(delivered=gone == 0)
        self._finished.add(entry_key(stream, entry_id))

    def _answer_alone(
        self, message: pb.AgentMessage, reply: pb.DirectReply | None, signal: Write | None = None
    ) -> None:
        """Sends a bodiless answer by itself, in the background (nothing waits for it but the relay)."""

        async def send() -> None:
            try:
                if reply is not None:
                    await self._replies.write_reply(message, reply)
                elif signal is not None:
                    gone = await self._commit([signal], self._settings.processing_timeout_s)
                    self._replies.count_signal(delivered=gone == 0)
            except Exception as error:  # noqa: BLE001 - the relay's request times out; the message is not lost
                LOGGER.warning("acapy-bridge inbound: answer for mid=%s not written (%s)", message.mid, error)

        task = asyncio.create_task(send())
        self._answers_alone.add(task)
        task.add_done_callback(self._answers_alone.discard)

    async def _write_leftovers(self, message: pb.AgentMessage, leftover: list[Write]) -> None:
        try:
            await self._commit(leftover, self._settings.processing_timeout_s)
        except CommitFailed as failed:
            LOGGER.warning(
                "acapy-bridge inbound: jobs sent while handling mid=%s not written (%s)", message.mid, failed
            )

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
