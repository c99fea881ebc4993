"""Connects at ACA-Py's startup and closes at its shutdown."""

import logging
import re

from acapy_bridge_shim.runtime import BridgeRuntime

LOGGER = logging.getLogger(__name__)


def register_lifecycle(context, runtime: BridgeRuntime) -> None:
    from acapy_agent.core.event_bus import EventBus

    bus = context.inject(EventBus)
    own_transports = None
    if runtime.config.own_transports.enabled:
        from acapy_bridge_shim.own_transports import OwnTransports

        own_transports = OwnTransports(runtime)

    async def on_startup(profile, event) -> None:
        await runtime.start_monitoring()
        await runtime.connect()
        if runtime.config.admin.enabled:
            await runtime.serve_admin(profile)
        if own_transports is not None:
            await own_transports.start(profile)
        if profile.settings.get("mediation.open") or runtime.config.mediation_policy.enabled:
            from acapy_bridge_shim.mediator_setup import ensure_routing_did

            try:
                await ensure_routing_did(profile)
            except Exception:  # noqa: BLE001 - ACA-Py still creates it on the first grant
                LOGGER.exception("acapy-bridge: could not create the mediator routing DID at startup")

    async def on_shutdown(profile, event) -> None:
        from acapy_bridge_shim.events import EventPublisher

        # ACA-Py stops its inbound transport at the same time; whoever is first, the messages in
        # hand finish (or are abandoned) before this instance leaves the membership below: peers
        # take the pending entries of a consumer that left, and would process them a second time.
        await runtime.stop_admin()
        await runtime.stop_inbound()
        if own_transports is not None:
            await own_transports.stop()
        publisher = context.inject_or(EventPublisher)
        if publisher is not None:
            await publisher.close()  # events still queued reach Redis before the connection closes
        await runtime.close()

    bus.subscribe(re.compile(r"^acapy::core::startup$"), on_startup)
    bus.subscribe(re.compile(r"^acapy::core::shutdown$"), on_shutdown)
