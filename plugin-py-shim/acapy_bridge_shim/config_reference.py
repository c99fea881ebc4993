"""The settings table of plugin-py-shim/README.md, rendered from config.py's declarations.

Keys and defaults come from the config (its sections and their dataclasses); the
meanings are written here, one per key. `python -m acapy_bridge_shim.config_reference`
prints the table; a test checks that the README holds exactly this table, so a new
setting cannot go undocumented.
"""

from acapy_bridge.topology import PartitionPlan
from acapy_bridge_shim.config import (
    PARTITION_FIELDS,
    AdminSettings,
    EventSettings,
    InboundSettings,
    MailboxSettings,
    MediationPolicySettings,
    MetricsSettings,
    OutboundSettings,
    OwnTransportsSettings,
    known_keys,
)

MEANINGS: dict[str, str] = {
    "redis_url": "`redis://` / `rediss://` URL; comma-separated seeds with `cluster: true`"
    " (else `ACAPY_BRIDGE_REDIS_URL`)",
    "cluster": "connect to a Redis Cluster",
    "redis_username": "Redis ACL user (else `ACAPY_BRIDGE_REDIS_USERNAME`, else the URL's)",
    "redis_password": "Redis password (else `ACAPY_BRIDGE_REDIS_PASSWORD`, else the URL's)",
    "redis_tls_ca_file": "CA bundle that signs the Redis server's certificate (`rediss://`)",
    "prefix": "key prefix shared with the relay and deliverer",
    "partitions.inbound": "inbound partitions (streams) of the topology; all processes must agree (checked at start)",
    "partitions.outbound": "outbound partitions of the topology; all processes must agree",
    "partitions.events": "events partitions of the topology; all processes must agree",
    "partitions.admin": "admin partitions of the topology; all processes must agree",
    "inbound.concurrency": "messages one ACA-Py process handles at once",
    "inbound.max_deliveries": "deliveries of one entry before it becomes a dead letter `POISON`",
    "inbound.processing_timeout_s": "how long to wait for ACA-Py to process one message (and for its events to reach"
    " Redis) before the entry is left pending for a later delivery",
    "inbound.claim_idle_ms": "a pending entry idle this long is taken from its (presumed stuck) consumer;"
    " a dead consumer's (no heartbeat) are taken at once",
    "inbound.block_ms": "how long one read of a partition waits for new entries",
    "outbound.high_water_mark": "a send fails while its outbound partition holds this many jobs (0 = unbounded)",
    "outbound.expiry_s": "jobs not delivered by then become dead letters `EXPIRED`",
    "outbound.seen_ttl_ms": "how long a job's `mid` is remembered, so a retried write counts once",
    "outbound.busy_retry_s": "how long a send waits (short backoff, same `mid`) for a full outbound partition or a"
    " Redis blip before it fails; a failed send fails ACA-Py's handler, whose inbound message is then delivered"
    " again (0 = fail at once). A handler's sends go with its inbound message's acknowledgement: that write waits"
    " as long, then leaves the message unacknowledged",
    "events.topics": "regexes over ACA-Py event topics that become webhook jobs / stream events (default: the"
    " events ACA-Py sends webhooks for)",
    "events.to_stream": "write events to the events streams, for controllers that read Redis",
    "events.stream_max_length": "approximate length the events streams are trimmed to",
    "events.webhooks_via_deliverer": "post webhooks through the deliverers (ACA-Py's own webhook posting is"
    " switched off)",
    "events.queue_max": "events held in memory on their way to Redis; when full, ACA-Py's event bus waits"
    " (in order, nothing dropped), counted and logged",
    "mailbox.enabled": "a mediator: messages for targets without an http(s)/ws(s) endpoint (mobile wallets) go"
    " to the wallet's live session or Redis mailbox instead of ACA-Py's undelivered queue"
    " ([docs/mediator.md](../docs/mediator.md))",
    "mailbox.max_messages": "messages one wallet's mailbox holds; the next ones become dead letters"
    " `MAILBOX_FULL` (0 = unbounded)",
    "mailbox.ttl_s": "a mailbox message older than this becomes a dead letter `EXPIRED` instead of being delivered",
    "mailbox.relay_liveness_cache_s": "how long a relay's liveness answer is reused when routing to a wallet's session",
    "mailbox.drain_batch": "mailbox messages moved to the relay per drain step",
    "mailbox.push_window_s": "push notifications to wallets without a session: at most one per wallet within this"
    " window; 0 = off, and the push-notifications-fcm/apns device-info protocols are not offered"
    " ([docs/mediator.md](../docs/mediator.md#push-notifications))",
    "metrics.port": "port of the shim's own `/metrics` (Prometheus text) and `/health/live`, `/health/ready`"
    " listener; `0` = off (ACA-Py's `/status/ready` reflects the shim's Redis health either way)",
    "metrics.host": "listen address of that listener (loopback: for a local scraper or sidecar)",
    "admin.enabled": "serve admin API calls carried through Redis (relay admin listener, controllers) with"
    " ACA-Py's own admin application, in-process; needs ACA-Py's `--admin`"
    " ([docs/admin-api.md](../docs/admin-api.md))",
    "admin.concurrency": "admin calls one ACA-Py process runs at once (at least one per admin partition); more"
    " wait in Redis",
    "admin.block_ms": "how long one read of an admin partition waits for new requests",
    "own_transports.enabled": "mediator Design 1: ACA-Py's own `-it http -it ws` hold the wallets' sockets; their"
    " sessions get routes in Redis and messages for a wallet reach the instance holding its socket, or its mailbox"
    " (needs `mailbox.enabled`; [docs/mediator.md](../docs/mediator.md#design-1-acapys-own-transports))",
    "own_transports.janitor_interval_s": "how often an instance tries to hand on the inboxes of dead instances"
    " (Design 1)",
    "mediation_policy.enabled": "decide mediation requests inside the mediator, without a controller (run ACA-Py"
    " without `--open-mediation`, with `mailbox.enabled`); refusals get a problem report"
    " ([docs/mediator.md](../docs/mediator.md#mediation-policy-without-a-controller))",
    "mediation_policy.invitation_ids": "grant only connections made from these OOB invitations (`@id`s; list or"
    " comma-separated), or ...",
    "mediation_policy.labels": "... whose label is listed, or ...",
    "mediation_policy.dids": "... whose DID is listed; all three empty: grant every request",
    "mediation_policy.max_keys_per_wallet": "a keylist update that would take a wallet past this many keys is"
    " refused (0 = unbounded)",
    "mediation_policy.keylist_updates_per_minute": "keys one wallet may add within a minute; more are refused"
    " (0 = unbounded)",
}

# Defaults that are no single value.
DEFAULT_NOTES = {
    "redis_url": "(required)",
    "redis_username": "none",
    "redis_password": "none",
    "redis_tls_ca_file": "none",
    "mailbox.enabled": "on with `--open-mediation`",
}

_SECTION_DEFAULTS = {
    "inbound": InboundSettings(),
    "outbound": OutboundSettings(),
    "events": EventSettings(),
    "mailbox": MailboxSettings(),
    "metrics": MetricsSettings(),
    "admin": AdminSettings(),
    "own_transports": OwnTransportsSettings(),
    "mediation_policy": MediationPolicySettings(),
}
_TOP_LEVEL_DEFAULTS = {"cluster": False, "prefix": "br"}


def _render(value: object) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, tuple):
        return ", ".join(f"`{item}`" for item in value) or "none"
    return f"`{value}`"


def default_of(key: str) -> str:
    if key in DEFAULT_NOTES:
        return DEFAULT_NOTES[key]
    section, _, name = key.rpartition(".")
    if not section:
        return _render(_TOP_LEVEL_DEFAULTS[name])
    if section == "partitions":
        return _render(getattr(PartitionPlan(), PARTITION_FIELDS[name]))
    return _render(getattr(_SECTION_DEFAULTS[section], name))


def options_table() -> str:
    """The markdown table of every setting; raises when one has no meaning written or a meaning names none."""
    keys = known_keys()
    undocumented = [key for key in keys if key not in MEANINGS]
    stale = [key for key in MEANINGS if key not in keys]
    if undocumented or stale:
        raise ValueError(f"settings without a meaning: {undocumented}; meanings of no setting: {stale}")
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{key}` | {default_of(key)} | {MEANINGS[key]} |" for key in keys]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(options_table(), end="")
