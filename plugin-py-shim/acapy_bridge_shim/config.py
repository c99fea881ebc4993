"""The shim's settings, read from ACA-Py's plugin config and validated up front.

ACA-Py only logs a plugin that fails, so the transports call `load_config`
in their constructors: a bad setting then aborts ACA-Py's start with this
module's message instead of leaving an agent that silently moves nothing.
"""

import difflib
import os
from dataclasses import dataclass, field, fields

from acapy_bridge.redis_connection import RedisConfigError, RedisConnectionConfig, validate_redis_config
from acapy_bridge.topology import PartitionPlan
from acapy_bridge.v1 import keyspace_pb2

PLUGIN_NAME = "acapy_bridge_shim"


class ShimConfigError(ValueError):
    """A setting under `acapy_bridge_shim` is missing or invalid."""


@dataclass(frozen=True)
class InboundSettings:
    # Messages handed to ACA-Py at once by one ACA-Py process.
    concurrency: int = 32
    # Deliveries of one entry before it is dead-lettered as poison.
    max_deliveries: int = 3
    # How long to wait for ACA-Py to finish processing one message.
    processing_timeout_s: float = 30.0
    # A pending entry idle this long is taken from its (presumed dead) consumer.
    claim_idle_ms: int = 60_000
    block_ms: int = 2_000


@dataclass(frozen=True)
class OutboundSettings:
    # Refuse (raise to ACA-Py) when a partition holds this many jobs; 0 = unbounded.
    high_water_mark: int = 100_000
    # Jobs not delivered by then are dead-lettered as expired.
    expiry_s: int = 72 * 3600
    seen_ttl_ms: int = 600_000
    # A full partition (or a Redis error) is retried for this long before ACA-Py is told: brief
    # backpressure slows the handler instead of failing it. 0 = raise at once.
    busy_retry_s: float = 2.0


@dataclass(frozen=True)
class EventSettings:
    # Regexes over ACA-Py event topics that become webhook jobs / stream events.
    topics: tuple[str, ...] = (r"^acapy::record::", r"^acapy::basicmessage::", r"^acapy::webhook::", r"^acapy::ping::")
    # Write events to the events streams for controllers that read Redis.
    to_stream: bool = False
    stream_max_length: int = 100_000
    # Post events to the webhook URLs through the deliverer (instead of ACA-Py's -ot http).
    webhooks_via_deliverer: bool = False
    # Events held in memory waiting for Redis; beyond it the bus task raising an event waits for room
    # (in order, never dropped), and the inbound message that raised it is not acknowledged meanwhile.
    queue_max: int = 10_000


@dataclass(frozen=True)
class MailboxSettings:
    """Wallets (mediator): routes to live sockets and offline mailboxes."""

    # Messages for a target without an http(s)/ws(s) endpoint (a mobile wallet) go to the
    # wallet's live session or mailbox. Off: ACA-Py keeps them in its undelivered queue, as a
    # plain agent always did. Default: on when ACA-Py mediates (`--open-mediation`).
    enabled: bool = False
    # Messages one wallet's mailbox holds; the next one is dead-lettered MAILBOX_FULL (0 = unbounded).
    max_messages: int = 10_000
    # A mailbox message older than this is dead-lettered EXPIRED instead of delivered.
    ttl_s: int = 7 * 24 * 3600
    # How long a relay's liveness answer is reused (members zset, role "relay").
    relay_liveness_cache_s: float = 2.0
    # Mailbox messages moved to the relay per drain step (the contract's, as the relays').
    drain_batch: int = keyspace_pb2.MAILBOX_DRAIN_BATCH
    # Push notifications (push-notifications-fcm/apns device info, docs/mediator.md): at most one per
    # wallet within this window, for a message that lands in the mailbox of a wallet without a
    # session. 0 = off (the device-info protocols are not offered either).
    push_window_s: int = 30


@dataclass(frozen=True)
class MetricsSettings:
    """The shim's own /metrics and /health/ready listener (ACA-Py's /status/ready reflects Redis either way)."""

    # 0 = off: one more port on the ACA-Py host only when asked for (and no clash between two ACA-Py processes).
    port: int = 0
    # Loopback unless told otherwise: metrics are for a local scraper or sidecar.
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class AdminSettings:
    """Admin API calls carried through Redis (docs/admin-api.md)."""

    # Serve admin requests from the admin partitions with ACA-Py's own admin application (only
    # when ACA-Py runs its admin server, `--admin`; without it this instance serves none).
    enabled: bool = True
    # Admin requests one ACA-Py process runs at once; more wait in Redis.
    concurrency: int = 16
    block_ms: int = 2_000


@dataclass(frozen=True)
class OwnTransportsSettings:
    """Mediator Design 1: ACA-Py's own `-it http -it ws` hold the wallets' sockets (docs/mediator-design-1.md)."""

    # The wallets' WebSocket sessions on this instance get routes in Redis; messages for wallets go
    # to the instance holding the socket (its inbox) or to the wallet's mailbox.
    enabled: bool = False
    # How often this instance tries to hand on dead instances' inboxes (the janitor lease).
    janitor_interval_s: float = 5.0


@dataclass(frozen=True)
class MediationPolicySettings:
    """Mediation requests decided inside the mediator, without a controller (mediation_policy/)."""

    # Replaces ACA-Py's mediate-request and keylist-update handlers (run without --open-mediation).
    enabled: bool = False
    # Grant only connections made from these OOB invitations (their @id) ...
    invitation_ids: tuple[str, ...] = ()
    # ... or whose label is listed ...
    labels: tuple[str, ...] = ()
    # ... or whose DID is listed. All three empty: grant every request.
    dids: tuple[str, ...] = ()
    # A keylist update that would take a wallet past this many keys is refused (0 = unbounded).
    max_keys_per_wallet: int = 1_000
    # Keys one wallet may add within a minute (0 = unbounded).
    keylist_updates_per_minute: int = 100


@dataclass(frozen=True)
class ShimConfig:
    redis: RedisConnectionConfig
    prefix: str = "br"
    partitions: PartitionPlan = field(default_factory=PartitionPlan)
    inbound: InboundSettings = field(default_factory=InboundSettings)
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    events: EventSettings = field(default_factory=EventSettings)
    mailbox: MailboxSettings = field(default_factory=MailboxSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    own_transports: OwnTransportsSettings = field(default_factory=OwnTransportsSettings)
    mediation_policy: MediationPolicySettings = field(default_factory=MediationPolicySettings)


# Settings outside any section.
TOP_LEVEL_KEYS = ("redis_url", "cluster", "redis_username", "redis_password", "redis_tls_ca_file", "prefix")
# partitions.<key> -> the PartitionPlan field it sets.
PARTITION_FIELDS = {
    "inbound": "inbound_partitions",
    "outbound": "outbound_partitions",
    "events": "event_partitions",
    "admin": "admin_partitions",
}
# Each section and the settings it takes; the other sections' keys are their dataclass's fields.
SECTIONS: dict[str, tuple[str, ...]] = {
    "partitions": tuple(PARTITION_FIELDS),
    "inbound": tuple(f.name for f in fields(InboundSettings)),
    "outbound": tuple(f.name for f in fields(OutboundSettings)),
    "events": tuple(f.name for f in fields(EventSettings)),
    "mailbox": tuple(f.name for f in fields(MailboxSettings)),
    "metrics": tuple(f.name for f in fields(MetricsSettings)),
    "admin": tuple(f.name for f in fields(AdminSettings)),
    "own_transports": tuple(f.name for f in fields(OwnTransportsSettings)),
    "mediation_policy": tuple(f.name for f in fields(MediationPolicySettings)),
}


def known_keys() -> list[str]:
    """Every setting the shim takes, as written after `acapy_bridge_shim.`."""
    return [*TOP_LEVEL_KEYS, *(f"{section}.{key}" for section, keys in SECTIONS.items() for key in keys)]


def _reject_unknown(where: str, given: dict, known: tuple[str, ...]) -> None:
    """A misspelt setting would silently keep its default: it stops the start instead.

    `where`: the settings' parent, e.g. `acapy_bridge_shim.inbound`.
    """
    unknown = sorted(str(key) for key in set(given) - set(known))
    if not unknown:
        return
    described = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        described.append(f"{where}.{key}" + (f" (did you mean {where}.{close[0]}?)" if close else ""))
    raise ShimConfigError(
        f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(described)}; {where} takes: {', '.join(known)}"
    )


def _section(raw: dict, name: str) -> dict:
    value = raw.get(name) or {}
    if not isinstance(value, dict):
        raise ShimConfigError(f"{PLUGIN_NAME}.{name} must be a mapping")
    _reject_unknown(f"{PLUGIN_NAME}.{name}", value, SECTIONS[name])
    return value


def _positive_int(section: str, raw: dict, key: str, default: int, *, allow_zero: bool = False) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (value == 0 and not allow_zero):
        raise ShimConfigError(f"{PLUGIN_NAME}.{section}{key} must be a positive integer, got {value!r}")
    return value


def _positive_float(section: str, raw: dict, key: str, default: float, *, allow_zero: bool = False) -> float:
    value = raw.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value  # NaN
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        raise ShimConfigError(f"{PLUGIN_NAME}.{section}{key} must be a positive number, got {value!r}")
    return float(value)


def _bool(section: str, raw: dict, key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ShimConfigError(f"{PLUGIN_NAME}.{section}{key} must be true or false, got {value!r}")
    return value


def parse_config(raw: dict | None, *, mediator: bool = False) -> ShimConfig:
    """Builds a validated ShimConfig from the `acapy_bridge_shim` plugin settings.

    `mediator`: ACA-Py runs as an open mediator, which turns wallet routing (`mailbox.enabled`) on
    unless the settings say otherwise.
    """
    raw = dict(raw or {})
    _reject_unknown(PLUGIN_NAME, raw, (*TOP_LEVEL_KEYS, *SECTIONS))
    url = raw.get("redis_url") or os.environ.get("ACAPY_BRIDGE_REDIS_URL")
    if not url or not isinstance(url, str):
        raise ShimConfigError(
            f"{PLUGIN_NAME}.redis_url is required (e.g. -o {PLUGIN_NAME}.redis_url=redis://127.0.0.1:6379)"
        )
    redis = RedisConnectionConfig(
        url=url,
        cluster=_bool("", raw, "cluster", False),
        username=raw.get("redis_username") or os.environ.get("ACAPY_BRIDGE_REDIS_USERNAME"),
        password=raw.get("redis_password") or os.environ.get("ACAPY_BRIDGE_REDIS_PASSWORD"),
        tls_ca_file=raw.get("redis_tls_ca_file"),
    )
    try:
        validate_redis_config(redis)
    except RedisConfigError as error:
        raise ShimConfigError(f"{PLUGIN_NAME}.redis_url: {error}") from error
    prefix = raw.get("prefix", "br")
    if not isinstance(prefix, str) or not prefix or any(c in prefix for c in "{} \t\n"):
        raise ShimConfigError(f"{PLUGIN_NAME}.prefix must be a non-empty string without braces or spaces")

    parts = _section(raw, "partitions")
    defaults = PartitionPlan()
    partitions = PartitionPlan(
        **{
            plan_field: _positive_int("partitions.", parts, key, getattr(defaults, plan_field))
            for key, plan_field in PARTITION_FIELDS.items()
        }
    )

    inbound_raw = _section(raw, "inbound")
    d_in = InboundSettings()
    inbound = InboundSettings(
        concurrency=_positive_int("inbound.", inbound_raw, "concurrency", d_in.concurrency),
        max_deliveries=_positive_int("inbound.", inbound_raw, "max_deliveries", d_in.max_deliveries),
        processing_timeout_s=_positive_float(
            "inbound.", inbound_raw, "processing_timeout_s", d_in.processing_timeout_s
        ),
        claim_idle_ms=_positive_int("inbound.", inbound_raw, "claim_idle_ms", d_in.claim_idle_ms),
        block_ms=_positive_int("inbound.", inbound_raw, "block_ms", d_in.block_ms),
    )

    outbound_raw = _section(raw, "outbound")
    d_out = OutboundSettings()
    outbound = OutboundSettings(
        high_water_mark=_positive_int(
            "outbound.", outbound_raw, "high_water_mark", d_out.high_water_mark, allow_zero=True
        ),
        expiry_s=_positive_int("outbound.", outbound_raw, "expiry_s", d_out.expiry_s),
        seen_ttl_ms=_positive_int("outbound.", outbound_raw, "seen_ttl_ms", d_out.seen_ttl_ms),
        busy_retry_s=_positive_float("outbound.", outbound_raw, "busy_retry_s", d_out.busy_retry_s, allow_zero=True),
    )

    events_raw = _section(raw, "events")
    d_ev = EventSettings()
    topics = events_raw.get("topics", list(d_ev.topics))
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ShimConfigError(f"{PLUGIN_NAME}.events.topics must be a list of regexes")
    events = EventSettings(
        topics=tuple(topics),
        to_stream=_bool("events.", events_raw, "to_stream", d_ev.to_stream),
        stream_max_length=_positive_int("events.", events_raw, "stream_max_length", d_ev.stream_max_length),
        webhooks_via_deliverer=_bool("events.", events_raw, "webhooks_via_deliverer", d_ev.webhooks_via_deliverer),
        queue_max=_positive_int("events.", events_raw, "queue_max", d_ev.queue_max),
    )
    mailbox_raw = _section(raw, "mailbox")
    d_mb = MailboxSettings()
    mailbox = MailboxSettings(
        enabled=_bool("mailbox.", mailbox_raw, "enabled", mediator),
        max_messages=_positive_int("mailbox.", mailbox_raw, "max_messages", d_mb.max_messages, allow_zero=True),
        ttl_s=_positive_int("mailbox.", mailbox_raw, "ttl_s", d_mb.ttl_s),
        relay_liveness_cache_s=_positive_float(
            "mailbox.", mailbox_raw, "relay_liveness_cache_s", d_mb.relay_liveness_cache_s
        ),
        drain_batch=_positive_int("mailbox.", mailbox_raw, "drain_batch", d_mb.drain_batch),
        push_window_s=_positive_int("mailbox.", mailbox_raw, "push_window_s", d_mb.push_window_s, allow_zero=True),
    )
    metrics_raw = _section(raw, "metrics")
    d_mt = MetricsSettings()
    port = _positive_int("metrics.", metrics_raw, "port", d_mt.port, allow_zero=True)
    if port > 65535:
        raise ShimConfigError(f"{PLUGIN_NAME}.metrics.port must be a TCP port (1-65535, 0 = off), got {port}")
    host = metrics_raw.get("host", d_mt.host)
    if not isinstance(host, str) or not host or any(c.isspace() for c in host):
        raise ShimConfigError(f"{PLUGIN_NAME}.metrics.host must be a host name or address, got {host!r}")
    metrics = MetricsSettings(port=port, host=host)
    admin_raw = _section(raw, "admin")
    d_admin = AdminSettings()
    admin = AdminSettings(
        enabled=_bool("admin.", admin_raw, "enabled", d_admin.enabled),
        concurrency=_positive_int("admin.", admin_raw, "concurrency", d_admin.concurrency),
        block_ms=_positive_int("admin.", admin_raw, "block_ms", d_admin.block_ms),
    )
    own_raw = _section(raw, "own_transports")
    d_own = OwnTransportsSettings()
    own_transports = OwnTransportsSettings(
        enabled=_bool("own_transports.", own_raw, "enabled", d_own.enabled),
        janitor_interval_s=_positive_float("own_transports.", own_raw, "janitor_interval_s", d_own.janitor_interval_s),
    )
    if own_transports.enabled and not mailbox.enabled:
        raise ShimConfigError(
            f"{PLUGIN_NAME}.own_transports.enabled needs the wallet mailboxes: run ACA-Py with --open-mediation"
            f" or set {PLUGIN_NAME}.mailbox.enabled=true"
        )
    policy = _mediation_policy(_section(raw, "mediation_policy"), mediator=mediator)
    return ShimConfig(
        redis,
        prefix,
        partitions,
        inbound,
        outbound,
        events,
        mailbox,
        metrics=metrics,
        admin=admin,
        own_transports=own_transports,
        mediation_policy=policy,
    )


def _string_list(section: str, raw: dict, key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item for item in value):
        raise ShimConfigError(f"{PLUGIN_NAME}.{section}{key} must be a list of strings (or comma-separated)")
    return tuple(value)


def _mediation_policy(raw: dict, *, mediator: bool) -> MediationPolicySettings:
    d = MediationPolicySettings()
    policy = MediationPolicySettings(
        enabled=_bool("mediation_policy.", raw, "enabled", d.enabled),
        invitation_ids=_string_list("mediation_policy.", raw, "invitation_ids"),
        labels=_string_list("mediation_policy.", raw, "labels"),
        dids=_string_list("mediation_policy.", raw, "dids"),
        max_keys_per_wallet=_positive_int(
            "mediation_policy.", raw, "max_keys_per_wallet", d.max_keys_per_wallet, allow_zero=True
        ),
        keylist_updates_per_minute=_positive_int(
            "mediation_policy.", raw, "keylist_updates_per_minute", d.keylist_updates_per_minute, allow_zero=True
        ),
    )
    if policy.enabled and mediator:
        raise ShimConfigError(
            f"{PLUGIN_NAME}.mediation_policy.enabled decides mediation requests itself: run ACA-Py without"
            " --open-mediation (which grants every request) and with"
            f" -o {PLUGIN_NAME}.mailbox.enabled=true"
        )
    return policy


def load_config(settings) -> ShimConfig:
    """Reads `plugin_config.acapy_bridge_shim` from ACA-Py settings (a Settings or a dict)."""
    plugin_config = settings.get("plugin_config") or {}
    return parse_config(plugin_config.get(PLUGIN_NAME), mediator=bool(settings.get("mediation.open")))
