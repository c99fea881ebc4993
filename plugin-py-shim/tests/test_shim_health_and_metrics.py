"""The shim's Redis health (for ACA-Py's readiness) and its metrics, against a real redis-server."""

import os
import signal
import time
import uuid

import aiohttp
import pytest
from aiohttp import web

from acapy_bridge_shim.config import ShimConfigError, parse_config
from acapy_bridge_shim.routes import register
from acapy_bridge_shim.runtime import BridgeRuntime
from tests.redis_server import RedisServer, free_port
from tests.waiting import eventually


def runtime_for_redis(url: str, metrics_port: int = 0) -> BridgeRuntime:
    settings = {"redis_url": url, "prefix": f"py-health-{uuid.uuid4().hex[:6]}"}
    if metrics_port:
        settings["metrics"] = {"port": metrics_port}
    return BridgeRuntime(parse_config(settings))


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as res:
        return res.status, await res.text()


@pytest.fixture
def own_redis():
    # Its own server: the test stops it (SIGSTOP), which the session's server must not suffer.
    server = RedisServer().start()
    yield server
    if server.process is not None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def test_metrics_listener_is_off_by_default_and_validated():
    assert parse_config({"redis_url": "redis://127.0.0.1:6379"}).metrics.port == 0
    assert parse_config({"redis_url": "redis://127.0.0.1:6379"}).metrics.host == "127.0.0.1"
    with pytest.raises(ShimConfigError, match="metrics.port must be a TCP port"):
        parse_config({"redis_url": "redis://127.0.0.1:6379", "metrics": {"port": 70000}})
    with pytest.raises(ShimConfigError, match="metrics.host"):
        parse_config({"redis_url": "redis://127.0.0.1:6379", "metrics": {"host": ""}})


async def test_ready_follows_redis_from_before_connecting_through_a_hung_server(own_redis):
    port = free_port()
    rt = runtime_for_redis(own_redis.url, metrics_port=port)
    base = f"http://127.0.0.1:{port}"
    try:
        await rt.start_monitoring()
        # Serving before Redis is reached: alive, not ready, and why.
        assert (await get(f"{base}/health/live"))[0] == 200
        status, body = await get(f"{base}/health/ready")
        assert status == 503
        assert "not connected to Redis yet" in body

        await rt.connect()
        await eventually(lambda: _status_is(f"{base}/health/ready", 200), 5.0, "ready once connected")
        _, metrics = await get(f"{base}/metrics")
        assert "acapy_bridge_shim_redis_up 1" in metrics

        stopped_at = time.monotonic()
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        await eventually(lambda: _status_is(f"{base}/health/ready", 503), 5.0, "not ready while Redis is stopped")
        assert time.monotonic() - stopped_at < 2.0
        assert not rt.redis_health.healthy()
        _, metrics = await get(f"{base}/metrics")
        assert "acapy_bridge_shim_redis_up 0" in metrics
        await eventually(
            lambda: _metrics_contain(f"{base}/metrics", 'acapy_bridge_shim_redis_errors_total{operation="ping"} 1'),
            5.0,
            "the unanswered PING counted as a Redis error",
        )

        os.kill(own_redis.process.pid, signal.SIGCONT)
        await eventually(lambda: _status_is(f"{base}/health/ready", 200), 10.0, "ready after SIGCONT")
    finally:
        await rt.close()


async def _status_is(url: str, status: int) -> bool:
    return (await get(url))[0] == status


async def _metrics_contain(url: str, line: str) -> bool:
    return line in (await get(url))[1]


async def test_metrics_follow_prometheus_conventions_and_count_the_shims_work(redis_server):
    rt = runtime_for_redis(redis_server.url)
    try:
        await rt.connect()
        rt.metrics.outbound_jobs_written += 2
        text = rt.metrics.render()
    finally:
        await rt.close()
    assert 'acapy_bridge_build_info{version="' in text and 'component="shim"} 1' in text
    assert "# TYPE acapy_bridge_shim_outbound_jobs_written_total counter" in text
    assert "acapy_bridge_shim_outbound_jobs_written_total 2" in text
    assert "acapy_bridge_shim_inbound_processed_total 0" in text
    assert "acapy_bridge_shim_events_written_total 0" in text
    assert "instance=" not in text


class _Context:
    def __init__(self, runtime):
        self._runtime = runtime

    def inject_or(self, cls, default=None):
        return self._runtime


async def test_acapy_status_ready_answers_503_while_the_shims_redis_does_not(own_redis):
    """ACA-Py's admin app with the shim's routes.register applied (the real ACA-Py: the TS e2e test)."""
    rt = runtime_for_redis(own_redis.url)

    async def ready(_request):
        return web.json_response({"ready": True})

    async def live(_request):
        return web.json_response({"alive": True})

    app = web.Application()
    app.router.add_get("/status/ready", ready)
    app.router.add_get("/status/live", live)
    await register(app)
    app["context"] = _Context(rt)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        rt.redis_health.start()
        status, body = await get(f"{base}/status/ready")
        assert status == 503 and "acapy-bridge shim: not connected to Redis yet" in body
        await rt.connect()
        await eventually(lambda: _status_is(f"{base}/status/ready", 200), 5.0, "ready once connected")
        assert (await get(f"{base}/status/live"))[0] == 200
    finally:
        await rt.close()
        await runner.cleanup()
