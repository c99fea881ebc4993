"""One way to open Redis for the shim: standalone or Cluster, TLS, ACL."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster


class RedisConfigError(ValueError):
    """The Redis settings cannot work; raised before anything connects."""


@dataclass(frozen=True)
class RedisConnectionConfig:
    # redis:// or rediss:// URL; comma-separated seed URLs for a Cluster.
    url: str
    cluster: bool = False
    username: str | None = None
    password: str | None = None
    tls_ca_file: str | None = None
    # Client-side socket timeout; must exceed every BLOCK the shim uses.
    socket_timeout_s: float = 10.0


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _parse(url: str):
    parts = urlsplit(url.strip())
    if parts.scheme not in ("redis", "rediss"):
        raise RedisConfigError(f"Redis URL must start with redis:// or rediss://: {redact_url(url)}")
    if not parts.hostname:
        raise RedisConfigError(f"Redis URL has no host: {redact_url(url)}")
    db = parts.path.lstrip("/") or "0"
    if not db.isdigit():
        raise RedisConfigError(f"invalid Redis database {db!r}")
    return parts, int(db)


def validate_redis_config(config: RedisConnectionConfig) -> None:
    seeds = [s for s in config.url.split(",") if s.strip()]
    if not seeds:
        raise RedisConfigError("redis_url is empty")
    if len(seeds) > 1 and not config.cluster:
        raise RedisConfigError("several Redis URLs are only valid with cluster: true")
    for seed in seeds:
        _parse(seed)


def create_redis_client(config: RedisConnectionConfig, *, max_connections: int = 64):
    """Opens a client (lazily connecting); one pool serves commands and blocking reads."""
    validate_redis_config(config)
    seeds = [s.strip() for s in config.url.split(",") if s.strip()]
    parts, db = _parse(seeds[0])
    # Keyword arguments both client classes take (their types differ per argument).
    common: dict[str, Any] = dict(
        username=config.username or (unquote(parts.username) if parts.username else None),
        password=config.password or (unquote(parts.password) if parts.password else None),
        socket_timeout=config.socket_timeout_s,
        socket_connect_timeout=5.0,
        health_check_interval=15,
    )
    tls = parts.scheme == "rediss"
    if tls:
        common["ssl"] = True
        if config.tls_ca_file:
            common["ssl_ca_certs"] = config.tls_ca_file
    if config.cluster:
        nodes = [ClusterNode(_parse(s)[0].hostname, _parse(s)[0].port or 6379) for s in seeds]
        return RedisCluster(startup_nodes=nodes, max_connections=max_connections, **common)
    return Redis(
        host=parts.hostname,
        port=parts.port or 6379,
        db=db,
        max_connections=max_connections,
        **common,
    )
