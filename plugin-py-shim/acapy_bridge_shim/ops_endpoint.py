"""The shim's own small HTTP listener for operators: /metrics, /health/live, /health/ready.

Off unless `metrics.port` is set: it is one more port on the ACA-Py host, and two ACA-Py
processes on one host would fight over any fixed default. ACA-Py's admin `/status/ready`
reflects the shim's Redis health as well (see routes.py), so readiness needs no extra port.
"""

import json
import logging

from aiohttp import web

from acapy_bridge_shim.redis_health import RedisHealth
from acapy_bridge_shim.shim_metrics import ShimMetrics

LOGGER = logging.getLogger(__name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4"


class OpsEndpoint:
    def __init__(self, metrics: ShimMetrics, health: RedisHealth):
        self._metrics = metrics
        self._health = health
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._serve_metrics)
        app.router.add_get("/health/live", self._serve_live)
        app.router.add_get("/health/ready", self._serve_ready)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        addresses = runner.addresses  # the bound port when 0 was asked
        self.port = addresses[0][1] if addresses else port
        LOGGER.info("acapy-bridge: shim metrics and health on http://%s:%s", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve_metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=self._metrics.render().encode(), headers={"content-type": PROMETHEUS_TEXT})

    async def _serve_live(self, _request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def _serve_ready(self, _request: web.Request) -> web.Response:
        reason = self._health.reason()
        body: dict = {"ready": reason is None, "checks": {"redis": reason is None}}
        if reason is not None:
            body["reasons"] = {"redis": reason}
        return web.Response(
            status=200 if reason is None else 503, text=json.dumps(body), content_type="application/json"
        )
