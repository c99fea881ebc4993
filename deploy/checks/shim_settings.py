"""Parses `-o acapy_bridge_shim.<key>=<value>` arguments as ACA-Py does and then as the shim does.

Prints the settings the bridge must agree with, as JSON. A setting the shim refuses (an unknown key, a
bad value) ends it with ShimConfigError, as it would end ACA-Py's start.
Usage: python shim_settings.py acapy_bridge_shim.prefix=br acapy_bridge_shim.partitions.inbound=16 ...
"""

import json
import sys

import yaml
from acapy_bridge_shim.config import parse_config

plugin_config: dict = {}
for item in sys.argv[1:]:
    # ACA-Py's --plugin-config-value: a dotted key, a YAML value (acapy_agent/config/argparse.py).
    key, value = item.split("=", 1)
    *parents, leaf = key.split(".")
    node = plugin_config
    for parent in parents:
        node = node.setdefault(parent, {})
    node[leaf] = yaml.safe_load(value)

config = parse_config(plugin_config.get("acapy_bridge_shim", {}))
print(
    json.dumps(
        {
            "prefix": config.prefix,
            "cluster": config.redis.cluster,
            "inbound": config.partitions.inbound_partitions,
            "outbound": config.partitions.outbound_partitions,
            "events": config.partitions.event_partitions,
            "admin": config.partitions.admin_partitions,
        }
    )
)
