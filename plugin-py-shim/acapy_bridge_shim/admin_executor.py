"""Serves admin API calls carried through Redis with ACA-Py's own admin application.

At most once (docs/admin-api.md): each admin partition is read with XREADGROUP NOACK, so
an entry is delivered once and never pending, never reclaimed. An entry is run only by the
reader whose `admin_claim` of the request's mid wins; a requester that gives up claims it
too, so a request is never started after its requester stopped waiting (nor twice, even if a
retried XADD left two entries). An expired request (`expires_at_ms` passed) is not claimed:
its requester's claim then wins and tells it "not executed".

While it serves, the executor is a member of the `admin-executor` role: requesters answer
503 at once when that role has no live member.
"""

import asyncio
import logging
import time
from collections.abc import Callable

from acapy_bridge.codec import EnvelopeDecodeError, decode_envelope, encode_envelope
from acapy_bridge.keyspace import KeyError_, Keyspace
from acapy_bridge.membership import Membership, new_instance_id
from acapy_bridge.scripts import Scripts
from acapy_bridge.streams import ensure_group
from acapy_bridge.v1 import envelopes_pb2
from acapy_bridge_shim.admin_app_call import AppResponse, UnsupportedAdminRequest, call_app
from acapy_bridge_shim.config import AdminSettings

LOGGER = logging.getLogger(__name__)

ADMIN_EXECUTOR_ROLE = "admin-executor"
# Waits between attempts to write an answer while Redis is unreachable.
REPLY_RETRY_DELAYS_S = (0.05, 0.2, 1.0)


def _now_ms() -> int:
    return int(time.time() * 1000)


class AdminExecutor:
    def __init__(
        self,
        *,
        client,
        keyspace: Keyspace,
        app,
        settings: AdminSettings,
        instance_id: str | None = None,
        clock_ms: Callable[[], int] = _now_ms,
    ):
        self._client = client
        self._scripts = Scripts(client)
        self._keyspace = keyspace
        self._app = app
        self._settings = settings
        self._clock_ms = clock_ms
        self.instance_id = instance_id or new_instance_id(ADMIN_EXECUTOR_ROLE)
        spec = keyspace.spec("admin_requests")
        self._group = spec.consumer_group
        self._field = spec.entry_field.encode()
        self._streams = keyspace.all_partitions("admin_requests")
        self._reply_ttl_ms = keyspace.spec("admin_replies").default_ttl_ms
        self._claim_ttl_ms = keyspace.spec("admin_claims").default_ttl_ms
        # A read loop holds a slot while it blocks on its partition: one slot per partition at least,
        # or partitions beyond the concurrency would wait for a free slot, up to a whole block each.
        self._room = asyncio.Semaphore(max(settings.concurrency, len(self._streams)))
        self._membership = Membership(client, keyspace, self.instance_id, ADMIN_EXECUTOR_ROLE)
        self._readers: list[asyncio.Task] = []
        self._running: set[asyncio.Task] = set()
        self._stopping = False
        self.stats = {"executed": 0, "expired": 0, "withdrawn": 0, "undecodable": 0, "reply_failures": 0}

    async def start(self) -> None:
        for stream in self._streams:
            await ensure_group(self._client, stream, self._group)
        for index, stream in enumerate(self._streams):
            self._readers.append(asyncio.create_task(self._read_loop(stream), name=f"acapy-bridge-admin-{index}"))
        # Requesters count this instance only once it reads.
        await self._membership.start()
        LOGGER.info(
            "acapy-bridge admin: %s serves the admin API from %d partitions", self.instance_id, len(self._streams)
        )

    async def stop(self, grace_s: float = 10.0) -> None:
        """Leaves the membership (requesters see it gone), stops reading, lets calls in hand finish."""
        if self._stopping:
            return
        self._stopping = True
        await self._membership.stop()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self._running:
            await asyncio.wait(self._running, timeout=grace_s)

    async def _read_loop(self, stream: str) -> None:
        while not self._stopping:
            await self._room.acquire()
            try:
                reply = await self._client.xreadgroup(
                    self._group,
                    self.instance_id,
                    {stream: ">"},
                    count=1,
                    block=self._settings.block_ms,
                    noack=True,
                )
            except asyncio.CancelledError:
                self._room.release()
                raise
            except Exception as error:  # noqa: BLE001 - keep reading through Redis outages
                self._room.release()
                LOGGER.warning("acapy-bridge admin: reading %s failed (%s); retrying", stream, error)
                await asyncio.sleep(0.5)
                continue
            entries = reply[0][1] if reply else []
            if not entries:
                self._room.release()
                continue
            entry_id, fields = entries[0]
            task = asyncio.create_task(self._serve(stream, entry_id, (fields or {}).get(self._field)))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._room.release()
        if not task.cancelled() and task.exception() is not None:
            LOGGER.error("acapy-bridge admin: serving a request failed: %s", task.exception())

    async def _serve(self, stream: str, entry_id, payload: bytes | None) -> None:
        partition = self._streams.index(stream)
        entry = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        try:
            request = decode_envelope(envelopes_pb2.AdminRequest, payload or b"")
        except EnvelopeDecodeError as error:
            self.stats["undecodable"] += 1
            await self._client.xdel(stream, entry)
            LOGGER.warning("acapy-bridge admin: dropped entry %s of %s: %s", entry, stream, error)
            return
        if request.expires_at_ms and request.expires_at_ms <= self._clock_ms():
            # Its requester gave up (or is about to): its claim wins and it says "not executed".
            self.stats["expired"] += 1
            LOGGER.info(
                "acapy-bridge admin: request %s (%s %s) expired before it was taken; not run",
                request.mid,
                request.method,
                request.path.split("?", 1)[0],
            )
            return
        claim = self._keyspace.key("admin_claims", partition=partition, mid=request.mid)
        won = await self._scripts.admin_claim(
            stream=stream, claim=claim, entry_id=entry, claimant="run", ttl_ms=self._claim_ttl_ms
        )
        if won != 1:
            self.stats["withdrawn"] += 1  # its requester gave up first (or a copy of it ran)
            return
        started = time.monotonic()
        answer = await self.execute(request)
        self.stats["executed"] += 1
        response = envelopes_pb2.AdminResponse(
            mid=request.mid,
            request_id=request.request_id,
            status=answer.status,
            headers=[envelopes_pb2.AdminHeader(name=name, value=value) for name, value in answer.headers],
            body=answer.body,
            instance_id=self.instance_id,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        await self._reply(request, encode_envelope(response))

    async def execute(self, request) -> AppResponse:
        """Runs the request through ACA-Py's admin application; never raises for a bad request."""
        try:
            return await call_app(
                self._app,
                method=request.method,
                path=request.path,
                headers=dict(request.headers),
                body=request.body,
            )
        except UnsupportedAdminRequest as error:
            return _text_answer(501, str(error))
        except Exception as error:  # noqa: BLE001 - the requester gets a 500 instead of a timeout
            LOGGER.exception("acapy-bridge admin: request %s failed", request.mid)
            return _text_answer(500, f"acapy-bridge: the admin call failed in the shim: {type(error).__name__}")

    async def _reply(self, request, response: bytes) -> None:
        try:
            key = self._keyspace.key("admin_replies", requester=request.reply_to)
        except KeyError_ as error:
            self.stats["reply_failures"] += 1
            LOGGER.warning("acapy-bridge admin: request %s has no usable reply_to: %s", request.mid, error)
            return
        for delay in (*REPLY_RETRY_DELAYS_S, None):
            try:
                # One slot ({q:requester}): the push and its TTL go together.
                async with self._client.pipeline(transaction=True) as pipe:
                    pipe.rpush(key, response)
                    pipe.pexpire(key, self._reply_ttl_ms)
                    await pipe.execute()
                return
            except Exception as error:  # noqa: BLE001 - retried, then logged
                if delay is None:
                    self.stats["reply_failures"] += 1
                    LOGGER.error(
                        "acapy-bridge admin: the answer to request %s (it ran) could not be written: %s",
                        request.mid,
                        error,
                    )
                    return
                await asyncio.sleep(delay)


def _text_answer(status: int, text: str) -> AppResponse:
    return AppResponse(status=status, headers=[("Content-Type", "text/plain; charset=utf-8")], body=text.encode())
