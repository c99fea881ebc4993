"""What the ACA-Py side tells the inbound consumer about one entry: the consumer's two callbacks and their results."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from acapy_bridge.v1 import envelopes_pb2 as pb


class RetryLater(Exception):
    """Raised by `deliver`: the entry is not acknowledged; it stays pending and is delivered again later."""


@dataclass
class Outcome:
    """What became of one AgentMessage in ACA-Py."""

    # Written to the origin relay's inbox before the entry is acknowledged.
    reply: pb.DirectReply | None = None
    # Tell the relay to close the message's socket (WebSocket parse errors, like ACA-Py's 1003).
    close_socket: tuple[int, str] | None = None
    # Dead-letter the entry instead of acknowledging it: (DeadLetterReason, detail).
    dead_letter: tuple[pb.DeadLetterReason, str] | None = None


# reply_now(reply) writes a reply at once (before processing ends).
ReplyNow = Callable[[pb.DirectReply], Awaitable[None]]
# deliver(message, reply_now) -> Outcome.
Deliver = Callable[[pb.AgentMessage, ReplyNow], Awaitable[Outcome]]
# requeue(returned reply) -> None (sent, acknowledge it) or an Outcome whose dead_letter says why it cannot be.
Requeue = Callable[[pb.AgentMessage], Awaitable[Outcome | None]]
