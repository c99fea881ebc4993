"""Acknowledges handled stream entries a little later, many per Redis call.

An entry's acknowledgement waits up to `linger_s` for others of its stream to
share the call: at a trickle, each call would otherwise cost this Python
process a round trip (the largest part of the shim's work per message) for a
single entry. Nothing is lost by waiting: an entry not yet acknowledged when
the process dies is only handled again. A failed call keeps its ids for the
next one.
"""

import asyncio
import logging

from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import ack_entries

LOGGER = logging.getLogger(__name__)

# Entries waiting that make the acknowledgements leave at once instead of after the linger.
FLUSH_NOW_AT = 100
RETRY_AFTER_FAILURE_S = 0.5


class LingeringAcks:
    def __init__(self, scripts: Scripts, group: str, linger_s: float):
        self._scripts = scripts
        self._group = group
        self._linger_s = linger_s
        self._waiting: dict[str, list[str]] = {}
        # Ids of the call on its way, by stream.
        self._in_call: dict[str, set[str]] = {}
        self._count = 0
        # The last call failed: what waits leaves with the retry, not at once (no call per batch during an outage).
        self._failing = False
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task | None = None

    @property
    def waiting(self) -> int:
        return self._count

    def holds(self, stream: str, entry_id: str) -> bool:
        """True while the entry is handled and its acknowledgement waits or is on its way (not to be handled again)."""
        return entry_id in self._in_call.get(stream, ()) or entry_id in self._waiting.get(stream, ())

    def add(self, stream: str, entry_id: str) -> None:
        self._waiting.setdefault(stream, []).append(entry_id)
        self._count += 1
        if not self._failing and (self._count >= FLUSH_NOW_AT or self._linger_s <= 0):
            self._start_flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._linger_s, self._start_flush)

    def _start_flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self.flush(), name="acapy-bridge-lingering-acks")

    async def flush(self) -> None:
        """Sends every acknowledgement waiting; what fails waits for the next try."""
        while self._waiting:
            waiting, self._waiting, self._count = self._waiting, {}, 0
            failed: dict[str, list[str]] = {}
            self._in_call = {stream: set(ids) for stream, ids in waiting.items()}
            for stream, ids in waiting.items():
                try:
                    await ack_entries(self._scripts, stream, self._group, ids)
                except Exception as error:  # noqa: BLE001 - Redis away: keep them for the next try
                    LOGGER.warning("acapy-bridge: acknowledging %d entries of %s failed (%s)", len(ids), stream, error)
                    failed[stream] = ids
            self._failing = bool(failed)
            if failed:
                for stream, ids in failed.items():
                    self._waiting[stream] = ids + self._waiting.get(stream, [])
                    self._count += len(ids)
                self._in_call = {}
                if self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(RETRY_AFTER_FAILURE_S, self._start_flush)
                return
            self._in_call = {}

    async def close(self) -> None:
        """Sends what waits once more; what still fails stays pending in Redis (handled again later)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._flushing is not None and not self._flushing.done():
            await self._flushing
        await self.flush()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
