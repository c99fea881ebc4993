"""acapy-bridge shim: an ACA-Py plugin that moves DIDComm traffic through Redis.

Load it with `--plugin acapy_bridge_shim` plus the transports
`-it acapy_bridge_shim.inbound <host> <port>` and `-ot acapy_bridge_shim.outbound`.
"""

import logging

from acapy_bridge_shim.acapy_compat import check_acapy
from acapy_bridge_shim.config import load_config
from acapy_bridge_shim.runtime import BridgeRuntime

LOGGER = logging.getLogger(__name__)

__all__ = ["setup", "BridgeRuntime"]


def runtime_for(context_or_profile) -> BridgeRuntime:
    """The process's BridgeRuntime, created on first use from the plugin settings."""
    injector = getattr(context_or_profile, "injector", None) or context_or_profile
    runtime = injector.inject_or(BridgeRuntime)
    if runtime is None:
        runtime = BridgeRuntime(load_config(context_or_profile.settings))
        injector.bind_instance(BridgeRuntime, runtime)
    return runtime


async def setup(context) -> None:
    """ACA-Py plugin entry point: validates settings and shares one BridgeRuntime."""
    from acapy_bridge_shim.events import register_events
    from acapy_bridge_shim.lifecycle import register_lifecycle

    runtime = runtime_for(context)
    # An ACA-Py without what the shim needs stops here, naming its version and what it lacks.
    check_acapy(
        webhooks_via_deliverer=runtime.config.events.webhooks_via_deliverer,
        mediator=bool(context.settings.get("mediation.open")),
    )
    register_lifecycle(context, runtime)
    register_events(context, runtime, runtime.config)
    if runtime.config.mailbox.enabled:
        from acapy_bridge_shim.pickup import register_pickup_protocols

        register_pickup_protocols(context)
        if runtime.config.mailbox.push_window_s > 0:
            from acapy_bridge_shim.push import register_push_protocols

            register_push_protocols(context)

    if runtime.config.mediation_policy.enabled:
        from acapy_bridge_shim.mediation_policy import register_mediation_policy

        register_mediation_policy(context)
