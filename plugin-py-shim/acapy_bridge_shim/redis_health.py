"""Whether the shim's Redis answers, for ACA-Py's readiness and the shim's metrics.

A connection's state alone does not tell: a stopped (SIGSTOP) or wedged Redis keeps its
TCP connection open while nothing is answered. A PING every half second, with a deadline, does.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from acapy_bridge_shim.shim_metrics import ShimMetrics

LOGGER = logging.getLogger(__name__)

PING_INTERVAL_S = 0.5
# No answer for this long: not ready (so a hung Redis turns readiness within 1.5 s of its last answer).
UNRESPONSIVE_AFTER_S = 1.5


class NotConnectedError(ConnectionError):
    """The shim has not connected to Redis yet (it connects at ACA-Py's startup)."""


class RedisHealth:
    def __init__(self, ping: Callable[[], Awaitable[object]], metrics: ShimMetrics):
        self._ping = ping
        self._metrics = metrics
        self._last_answer = 0.0
        self._failure: str | None = "not connected to Redis yet"
        self._task: asyncio.Task | None = None
        metrics.read_redis_health_from(self.healthy)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="acapy-bridge-redis-health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def healthy(self) -> bool:
        return self._failure is None and time.monotonic() - self._last_answer < UNRESPONSIVE_AFTER_S

    def reason(self) -> str | None:
        """Why the shim is not ready, in words; None while Redis answers."""
        if self.healthy():
            return None
        if self._failure is not None:
            return self._failure
        return f"Redis answered no PING for {time.monotonic() - self._last_answer:.1f} s (hung or overloaded)"

    async def check_once(self) -> None:
        try:
            await asyncio.wait_for(self._ping(), UNRESPONSIVE_AFTER_S)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure means "not answering"
            if isinstance(error, NotConnectedError):
                failure = str(error)
            else:
                self._metrics.count_redis_error("ping")
                failure = f"Redis did not answer PING: {type(error).__name__}: {error}".rstrip(": ")
            if self._failure != failure:
                LOGGER.warning("acapy-bridge: %s; ACA-Py's /status/ready answers 503 until it does", failure)
            self._failure = failure
            return
        if self._failure is not None and self._last_answer:
            LOGGER.info("acapy-bridge: Redis answers again")
        self._failure = None
        self._last_answer = time.monotonic()

    async def _loop(self) -> None:
        while True:
            started = time.monotonic()
            await self.check_once()
            await asyncio.sleep(max(0.0, PING_INTERVAL_S - (time.monotonic() - started)))
