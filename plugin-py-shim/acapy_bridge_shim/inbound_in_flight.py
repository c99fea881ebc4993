"""Which inbound entries this process has in hand, and the slots that bound them.

A read loop and a claim can find the same entry (a claim takes back what a reader
waits with, or what a handler still works on): each entry is started once here, and
one finished a short while ago is not started again from a stale snapshot.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from acapy_bridge.lingering_acks import LingeringAcks
from acapy_bridge.streams import StreamEntry

# Entries this process finished (acknowledged or dead-lettered) are remembered this long, and at most
# this many: a claim (or a re-read of our own pending entries) that took them before they were done
# skips them instead of starting them again. Entry ids are never reused, so remembering longer only
# costs memory; the bound covers a claim that waits for slots behind slow handlers.
FINISHED_MEMORY_S = 600.0
FINISHED_MEMORY_MAX = 20_000

# process(stream, entry, deliveries): handles one entry to its end (never raises but CancelledError).
Process = Callable[[str, StreamEntry, int], Coroutine[Any, Any, None]]


class RecentlyFinished:
    """Keys of entries finished a short while ago, bounded in time and in number (oldest forgotten first)."""

    def __init__(self, ttl_s: float = FINISHED_MEMORY_S, max_entries: int = FINISHED_MEMORY_MAX):
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._until: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._until)

    def add(self, key: str) -> None:
        self._until[key] = time.monotonic() + self._ttl_s
        self._until.move_to_end(key)
        while len(self._until) > self._max_entries:
            self._until.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        now = time.monotonic()
        while self._until:  # one ttl for all: the oldest expires first
            oldest, until = next(iter(self._until.items()))
            if until > now:
                break
            del self._until[oldest]
        return key in self._until


def entry_key(stream: str, entry_id: str) -> str:
    return f"{stream}|{entry_id}"  # ids are only unique within one stream


class InFlight:
    """At most `concurrency` entries handled at once; each started once."""

    def __init__(self, concurrency: int, acks: LingeringAcks, finished: RecentlyFinished, process: Process) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._acks = acks
        self._process = process
        self._tasks: dict[str, asyncio.Task] = {}
        # Entries found (read or claimed) and waiting for a slot.
        self._reserved: set[str] = set()
        # Entries handled and acknowledged (or dead-lettered) here: a claim that took them in its
        # snapshot before they were done does not start them again. Failed entries are not in it.
        self._finished = finished

    @property
    def waiting_for_a_slot(self) -> int:
        """Entries found (read or claimed) and waiting for a slot."""
        return len(self._reserved)

    async def wait_for_room(self) -> None:
        """Returns once a slot is free (without taking it): entries wait in Redis, not in memory."""
        await self._slots.acquire()
        self._slots.release()

    def busy(self, stream: str, entry_id: str) -> bool:
        """True while this process waits to handle, handles, or acknowledges the entry, or finished it lately."""
        key = entry_key(stream, entry_id)
        return (
            key in self._tasks or key in self._reserved or self._acks.holds(stream, entry_id) or key in self._finished
        )

    async def spawn(self, stream: str, entry: StreamEntry, deliveries: int) -> bool:
        """Starts the entry once a slot is free; False when it is already in hand or done here.

        A claim (or a re-read) checks each entry of its snapshot only when it gets to it, after
        waiting for the slots of those before: what finished meanwhile is skipped then.
        """
        key = entry_key(stream, entry.id)
        if self.busy(stream, entry.id):
            # claimed while we still work on it (or wait for a slot), done and about to be
            # acknowledged, or acknowledged (dead-lettered) since the snapshot was taken
            return False
        # Reserved before waiting for a slot: a read loop and a claim that both hold the entry
        # (the claim takes back what a reader waits with) must not both start it.
        self._reserved.add(key)
        try:
            await self._slots.acquire()
        finally:
            self._reserved.discard(key)
        task = asyncio.create_task(self._process(stream, entry, deliveries))
        self._tasks[key] = task

        def done(_task: asyncio.Task) -> None:
            self._tasks.pop(key, None)
            self._slots.release()

        task.add_done_callback(done)
        return True

    async def settle(self, grace_s: float) -> None:
        """Lets the entries in hand finish (up to grace_s); the rest are cancelled (they stay pending in Redis)."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(list(self._tasks.values()), timeout=grace_s)
        for task in pending:
            task.cancel()
        if pending:  # abandoned: give the cancellation a moment to land
            await asyncio.wait(pending, timeout=1.0)
