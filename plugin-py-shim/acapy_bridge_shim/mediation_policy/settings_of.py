"""The policy settings a handler runs with (read from ACA-Py's settings once, then remembered)."""

from acapy_bridge_shim.config import MediationPolicySettings, load_config

_CACHE: dict[int, MediationPolicySettings] = {}


def policy_of(settings) -> MediationPolicySettings:
    plugin_config = settings.get("plugin_config") or {}
    key = id(plugin_config)
    policy = _CACHE.get(key)
    if policy is None:
        policy = _CACHE[key] = load_config(settings).mediation_policy
    return policy
