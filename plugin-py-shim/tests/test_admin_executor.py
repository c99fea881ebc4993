"""The admin executor: admin calls from Redis answered through an aiohttp application in-process.

The application here is a small stand-in for ACA-Py's admin app (the same kinds of middleware and
errors); the end-to-end tests in packages/relay run ACA-Py's own.
"""

import json
import time
import uuid
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from acapy_bridge.codec import decode_envelope, encode_envelope
from acapy_bridge.membership import Membership
from acapy_bridge.redis_connection import RedisConnectionConfig, create_redis_client
from acapy_bridge.scripts import Scripts
from acapy_bridge.topology import PartitionPlan, ensure_topology
from acapy_bridge.v1 import envelopes_pb2
from acapy_bridge_shim.admin_app_call import call_app
from acapy_bridge_shim.admin_executor import ADMIN_EXECUTOR_ROLE, AdminExecutor
from acapy_bridge_shim.config import AdminSettings
from tests.waiting import eventually, hold_still

API_KEY = "secret-key"


def stand_in_admin_app(calls: list[str]) -> web.Application:
    @web.middleware
    async def api_key(request: web.Request, handler):
        if request.path != "/status/live" and request.headers.get("x-api-key") != API_KEY:
            raise web.HTTPUnauthorized(reason="Unauthorized")
        return await handler(request)

    async def status(request: web.Request):
        calls.append("status")
        return web.json_response({"version": "x", "label": "stand-in"})

    async def create(request: web.Request):
        calls.append("create")
        body = await request.json()
        response = web.json_response({"echo": body, "query": request.query.get("alias")}, status=201)
        response.headers["X-Trace"] = "t1"
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    async def forbidden(request: web.Request):
        raise web.HTTPForbidden(text="not your wallet")

    async def broken(request: web.Request):
        raise RuntimeError("handler bug")

    app = web.Application(middlewares=[api_key], client_max_size=1024)
    app.add_routes(
        [
            web.get("/status", status),
            web.post("/things", create),
            web.get("/forbidden", forbidden),
            web.get("/broken", broken),
        ]
    )
    return app


REQUESTS = [
    ("GET", "/status", {"x-api-key": API_KEY}, b""),
    ("GET", "/status", {"x-api-key": "wrong"}, b""),
    ("GET", "/status", {}, b""),
    ("POST", "/things?alias=bob", {"x-api-key": API_KEY, "content-type": "application/json"}, b'{"n": 1}'),
    ("POST", "/things", {"x-api-key": API_KEY, "content-type": "application/json"}, b"x" * 2048),
    ("GET", "/forbidden", {"x-api-key": API_KEY}, b""),
    ("GET", "/broken", {"x-api-key": API_KEY}, b""),
    ("GET", "/nowhere", {"x-api-key": API_KEY}, b""),
    ("DELETE", "/status", {"x-api-key": API_KEY}, b""),
]

# Set by the HTTP server or the socket, not by the application.
TRANSPORT_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}


def _comparable(headers) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in headers if k.lower() not in TRANSPORT_HEADERS)


async def test_in_process_answers_equal_the_apps_http_answers():
    app = stand_in_admin_app([])
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession(auto_decompress=False) as http:
            for method, path, headers, body in REQUESTS:
                async with http.request(
                    method, server.make_url(path), headers=headers, data=body or None, skip_auto_headers=["User-Agent"]
                ) as over_http:
                    http_body = await over_http.read()
                    http_headers = list(over_http.headers.items())
                    http_status = over_http.status
                in_process = await call_app(app, method=method, path=path, headers=headers, body=body)
                what = f"{method} {path}"
                assert in_process.status == http_status, what
                assert in_process.body == http_body, what
                assert _comparable(in_process.headers) == _comparable(http_headers), what
    finally:
        await server.close()


@pytest.fixture
async def deployment(redis_server):
    client = create_redis_client(RedisConnectionConfig(url=redis_server.url))
    keyspace = await ensure_topology(client, f"adm{uuid.uuid4().hex[:6]}", PartitionPlan(admin_partitions=2))
    yield client, keyspace
    await client.aclose()


def admin_request(requester: str, *, path: str = "/status", expires_in_ms: int = 10_000, **fields):
    return envelopes_pb2.AdminRequest(
        mid=uuid.uuid4().hex,
        method=fields.pop("method", "GET"),
        path=path,
        headers=fields.pop("headers", {"x-api-key": API_KEY}),
        reply_to=requester,
        request_id=uuid.uuid4().hex,
        expires_at_ms=int(time.time() * 1000) + expires_in_ms,
        **fields,
    )


async def add_request(client, keyspace, request, partition: int = 0) -> str:
    spec = keyspace.spec("admin_requests")
    entry = await client.xadd(
        keyspace.key("admin_requests", partition=partition), {spec.entry_field: encode_envelope(request)}
    )
    return entry.decode() if isinstance(entry, bytes) else entry


async def withdraw(client, keyspace, request, entry: str, partition: int = 0) -> int:
    return await Scripts(client).admin_claim(
        stream=keyspace.key("admin_requests", partition=partition),
        claim=keyspace.key("admin_claims", partition=partition, mid=request.mid),
        entry_id=entry,
        claimant="withdraw",
        ttl_ms=60_000,
    )


@asynccontextmanager
async def serving(client, keyspace, calls: list[str]):
    """An executor serving the stand-in app while the block runs."""
    executor = AdminExecutor(client=client, keyspace=keyspace, app=stand_in_admin_app(calls), settings=AdminSettings())
    await executor.start()
    try:
        yield executor
    finally:
        await executor.stop()


async def next_reply(client, keyspace, requester: str) -> envelopes_pb2.AdminResponse:
    popped = await client.blpop([keyspace.key("admin_replies", requester=requester)], timeout=5)
    assert popped, "no answer within 5 s"
    return decode_envelope(envelopes_pb2.AdminResponse, popped[1])


async def test_a_request_from_redis_is_answered_with_status_headers_and_body(deployment):
    client, keyspace = deployment
    calls: list[str] = []
    async with serving(client, keyspace, calls) as executor:
        request = admin_request(
            "ctl-1",
            method="POST",
            path="/things?alias=bob",
            headers={"x-api-key": API_KEY, "content-type": "application/json"},
            body=b'{"n": 1}',
        )
        await add_request(client, keyspace, request, partition=1)
        reply = await next_reply(client, keyspace, "ctl-1")
        assert (reply.mid, reply.request_id, reply.status) == (request.mid, request.request_id, 201)
        assert json.loads(reply.body) == {"echo": {"n": 1}, "query": "bob"}
        headers = [(h.name, h.value) for h in reply.headers]
        assert ("X-Trace", "t1") in headers
        assert [v for n, v in headers if n == "Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
        assert reply.instance_id == executor.instance_id

        denied = admin_request("ctl-1", headers={"x-api-key": "wrong"})
        await add_request(client, keyspace, denied)
        assert (await next_reply(client, keyspace, "ctl-1")).status == 401
        assert calls == ["create"]
        # Taken means deleted: nothing is left in the partitions, nothing pending.
        for stream in keyspace.all_partitions("admin_requests"):
            assert await client.xlen(stream) == 0
        ttl = await client.pttl(keyspace.key("admin_replies", requester="ctl-1"))
        assert ttl == -2  # both answers read: the list is gone


async def test_an_expired_request_is_never_run_and_stays_for_its_requester_to_withdraw(deployment):
    client, keyspace = deployment
    calls: list[str] = []
    async with serving(client, keyspace, calls) as executor:
        expired = admin_request("ctl-2", expires_in_ms=-1)
        entry = await add_request(client, keyspace, expired)
        await eventually(lambda: _stat(executor, "expired"), what="the executor saw the expired request")
        await hold_still(0.3, "an expired request must not be run a little later either")
        assert calls == []
        assert await client.llen(keyspace.key("admin_replies", requester="ctl-2")) == 0
        # The requester's claim wins: it knows for sure the request was not run.
        assert await withdraw(client, keyspace, expired, entry) == 1


async def test_a_request_withdrawn_by_its_requester_is_not_run(deployment):
    client, keyspace = deployment
    calls: list[str] = []
    request = admin_request("ctl-3")
    entry = await add_request(client, keyspace, request)
    # The same request twice in the stream (a retried XADD): the requester's claim covers both.
    await add_request(client, keyspace, request)
    assert await withdraw(client, keyspace, request, entry) == 1
    async with serving(client, keyspace, calls) as executor:
        follow_up = admin_request("ctl-3")
        await add_request(client, keyspace, follow_up)
        assert (await next_reply(client, keyspace, "ctl-3")).mid == follow_up.mid
        assert calls == ["status"]
        assert executor.stats["withdrawn"] == 1


async def test_the_executor_is_a_live_admin_executor_only_while_it_serves(deployment):
    client, keyspace = deployment
    executor = AdminExecutor(client=client, keyspace=keyspace, app=stand_in_admin_app([]), settings=AdminSettings())
    observer = Membership(client, keyspace, "observer", "test")
    assert await observer.live_members(ADMIN_EXECUTOR_ROLE) == []
    await executor.start()
    assert await observer.live_members(ADMIN_EXECUTOR_ROLE) == [executor.instance_id]
    await executor.stop()
    assert await observer.live_members(ADMIN_EXECUTOR_ROLE) == []


async def _stat(executor: AdminExecutor, name: str) -> bool:
    return executor.stats[name] > 0


async def test_every_partition_is_read_even_with_a_concurrency_below_the_partition_count(deployment):
    client, keyspace = deployment
    calls: list[str] = []
    executor = AdminExecutor(
        client=client,
        keyspace=keyspace,
        app=stand_in_admin_app(calls),
        settings=AdminSettings(concurrency=1, block_ms=5_000),
    )
    await executor.start()
    try:
        for partition in (0, 1, 1, 0):
            started = time.monotonic()
            await add_request(client, keyspace, admin_request("ctl-5"), partition=partition)
            assert (await next_reply(client, keyspace, "ctl-5")).status == 200
            # Not after a blocked read of the other partition ran out (5 s).
            assert time.monotonic() - started < 2.5, f"partition {partition}"
    finally:
        await executor.stop()
