"""POST /acapy-bridge-test/slow-call?marker=M&delay_s=S: stores a record tagged M, then sleeps S.

GET /acapy-bridge-test/slow-call-records?marker=M lists the records tagged M (one per execution),
each with the pid of the ACA-Py process that ran the call.
"""

import asyncio
import json
import os

from acapy_agent.storage.base import BaseStorage
from acapy_agent.storage.record import StorageRecord
from aiohttp import web

RECORD_TYPE = "acapy_bridge_test_slow_call"


async def slow_call(request: web.Request) -> web.Response:
    context = request["context"]
    marker = request.query["marker"]
    delay_s = float(request.query.get("delay_s", "30"))
    async with context.profile.session() as session:
        record = StorageRecord(RECORD_TYPE, json.dumps({"pid": os.getpid()}), {"marker": marker})
        await session.inject(BaseStorage).add_record(record)
    await asyncio.sleep(delay_s)
    return web.json_response({"marker": marker, "pid": os.getpid()})


async def slow_call_records(request: web.Request) -> web.Response:
    context = request["context"]
    async with context.profile.session() as session:
        found = await session.inject(BaseStorage).find_all_records(RECORD_TYPE, {"marker": request.query["marker"]})
    return web.json_response({"results": [json.loads(record.value) for record in found]})


async def register(app: web.Application) -> None:
    app.add_routes(
        [
            web.post("/acapy-bridge-test/slow-call", slow_call),
            web.get("/acapy-bridge-test/slow-call-records", slow_call_records, allow_head=False),
        ]
    )
