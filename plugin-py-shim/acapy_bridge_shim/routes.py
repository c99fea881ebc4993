"""ACA-Py loads `<plugin>.routes` and calls `register(app)` while it builds its admin server.

The shim adds no admin route: it makes ACA-Py's own `GET /status/ready` answer 503 while the
shim's Redis does not answer, so that an orchestrator stops sending work to an ACA-Py that
cannot move messages. ACA-Py has no readiness hook for plugins; a middleware appended before
the admin application starts (aiohttp freezes the list then) is the supported way to wrap a
route it owns. Every other request passes untouched.
"""

import json

from aiohttp import web

READY_PATH = "/status/ready"


def _runtime_of(request: web.Request):
    from acapy_bridge_shim.runtime import BridgeRuntime

    context = request.app.get("context")
    return context.inject_or(BridgeRuntime) if context is not None else None


@web.middleware
async def redis_readiness(request: web.Request, handler):
    if request.path.rstrip("/") == READY_PATH:
        runtime = _runtime_of(request)
        reason = runtime.redis_health.reason() if runtime is not None else None
        if reason is not None:
            raise web.HTTPServiceUnavailable(
                text=json.dumps({"ready": False, "reason": f"acapy-bridge shim: {reason}"}),
                content_type="application/json",
            )
    return await handler(request)


async def register(app: web.Application) -> None:
    app.middlewares.append(redis_readiness)
