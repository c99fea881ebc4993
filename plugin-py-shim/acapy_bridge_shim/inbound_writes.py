"""The writes one inbound message makes while ACA-Py handles it, kept to go to Redis with its acknowledgement.

Each Redis call costs ACA-Py's process a round trip (the largest part of the
shim's work per message), so the outbound jobs a handler sends (ACA-Py calls
the outbound transport inline from the handler) and the bodiless "no
response" answer for the relay wait in memory and leave in the same call as
the message's events and its acknowledgement (`write_batch`). Nothing is lost
by waiting: until that call succeeded the entry is not acknowledged, so a crash
delivers it again and the handler sends them again.

The handler runs in a task ACA-Py creates while the shim hands the message
over, so it sees the `MessageWrites` of its message through a context
variable. A task that outlives its message (or one ACA-Py started later, from
its own queue) finds them closed or none, and writes at once as before.
"""

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from acapy_bridge.write_batch import Applied, Write, write_batch

LOGGER = logging.getLogger("acapy_bridge_shim.inbound_consumer")

# How long the relay's HTTP request waits for a bodiless answer to ride with the acknowledgement before it
# is sent by itself: ACA-Py's own HTTP transport answers right after parsing; a message handled within this
# (in the e2e bench's bursts, where messages queue in ACA-Py, most take over 0.1 s) sends the answer in the
# same call as everything else.
REPLY_HOLD_S = 0.25
RETRY_FIRST_DELAY_S = 0.05
RETRY_MAX_DELAY_S = 0.5

_CURRENT: contextvars.ContextVar["MessageWrites | None"] = contextvars.ContextVar(
    "acapy_bridge_message_writes", default=None
)

# commit(writes, timeout_s) -> signals dropped (gone relay); raises when they are not all in Redis in time.
Commit = Callable[[list[Write], float], Awaitable[int]]


class CommitFailed(Exception):
    """The message's writes are not (all) in Redis: its entry is not acknowledged."""


class MessageWrites:
    """One message's writes, waiting for its acknowledgement."""

    def __init__(self) -> None:
        self._writes: list[Write] = []
        self._open = True
        # Set once the writes left for Redis (or were given up): events of this message stop waiting for them.
        self.settled = asyncio.Event()
        self._held_reply: Write | None = None
        self._send_held: asyncio.TimerHandle | None = None

    def take_job(self, write: Write) -> bool:
        """Keeps a write for the acknowledgement's call; False once that call left (write it at once)."""
        if not self._open:
            return False
        self._writes.append(write)
        return True

    def hold_reply(self, write: Write, send_alone: Callable[[], None]) -> None:
        """Keeps a bodiless answer for the acknowledgement's call; `send_alone` runs if that takes over REPLY_HOLD_S."""
        self._held_reply = write

        def give_up_waiting() -> None:
            self._send_held = None
            if self._held_reply is not None:
                self._held_reply = None
                send_alone()

        self._send_held = asyncio.get_running_loop().call_later(REPLY_HOLD_S, give_up_waiting)

    def release_reply(self) -> Write | None:
        """The held answer (now the caller's to write), or None when there is none or it was sent."""
        if self._send_held is not None:
            self._send_held.cancel()
            self._send_held = None
        reply, self._held_reply = self._held_reply, None
        return reply

    def close(self) -> list[Write]:
        """Ends collecting: the writes kept so far; later ones are written at once by their senders."""
        self._open = False
        writes, self._writes = self._writes, []
        return writes

    def settle(self) -> None:
        self._open = False
        self.settled.set()


def current() -> MessageWrites | None:
    """The writes of the inbound message whose handling this task belongs to (None outside one)."""
    writes = _CURRENT.get()
    return writes if writes is not None and writes._open else None


def owner() -> MessageWrites | None:
    """As `current`, also once closed: events raised by the message wait for its call."""
    return _CURRENT.get()


@contextmanager
def collecting(writes: MessageWrites) -> Iterator[None]:
    token = _CURRENT.set(writes)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def direct_commit(scripts, client, *, one_call: bool) -> Commit:
    """Commits with write_batch alone (no event publisher), retried with backoff until the timeout."""

    async def commit(writes: list[Write], timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        delay = RETRY_FIRST_DELAY_S
        while True:
            try:
                outcome = await write_batch(scripts, client, writes, one_call=one_call)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis away for a moment: the same writes again
                # In doubt: enqueues are deduplicated by their `seen` markers, acknowledgements repeat harmlessly.
                reason = f"{type(error).__name__}: {error}"
            else:
                if isinstance(outcome, Applied):
                    return outcome.gone
                writes = writes[outcome.at :]  # the applied ones are not sent again
                reason = f"an outbound partition is full ({outcome.backlog} jobs waiting)"
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommitFailed(reason)
            LOGGER.debug("acapy-bridge inbound: writes not in Redis yet (%s); retrying", reason)
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, RETRY_MAX_DELAY_S)

    return commit
