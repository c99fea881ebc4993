"""The shim's Prometheus metrics, rendered in the text exposition format.

A handful of counters and gauges: small enough to render by hand, so the shim adds no
dependency to ACA-Py's environment. Names follow the bridge's `acapy_bridge_*` convention,
and no `instance` label is set (Prometheus sets its own when it scrapes).
"""

from collections import Counter
from collections.abc import Callable, Mapping
from importlib import metadata


def _installed_version() -> str:
    try:
        return metadata.version("acapy-bridge-shim")
    except metadata.PackageNotFoundError:
        return "unknown"


SHIM_VERSION = _installed_version()

# The inbound consumer's own counters (InboundConsumer.stats) exposed as acapy_bridge_shim_inbound_<name>_total.
INBOUND_COUNTERS = {
    "processed": "inbound messages ACA-Py handled (acknowledged)",
    "replied": "direct responses written to a relay's inbox",
    "dead_lettered": "inbound entries made dead letters",
    "claimed": "pending inbound entries taken from a dead or stuck consumer",
    "returned_replies": "returned replies (RETURNED_REPLY) handed to ACA-Py",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class ShimMetrics:
    """Counters the shim's parts increment, gauges read at scrape time."""

    def __init__(self) -> None:
        self.outbound_jobs_written = 0
        self.events_written = 0
        self.redis_errors: Counter[str] = Counter()
        self._inbound_stats: Callable[[], Mapping[str, int]] = dict
        self._redis_up: Callable[[], bool] = lambda: False

    def read_inbound_from(self, stats: Callable[[], Mapping[str, int]]) -> None:
        self._inbound_stats = stats

    def read_redis_health_from(self, healthy: Callable[[], bool]) -> None:
        self._redis_up = healthy

    def count_redis_error(self, operation: str) -> None:
        self.redis_errors[operation] += 1

    def render(self) -> str:
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

        metric(
            "acapy_bridge_build_info",
            "gauge",
            "Always 1; its labels name the running release.",
            [(f'{{version="{_escape(SHIM_VERSION)}",component="shim"}}', 1)],
        )
        metric(
            "acapy_bridge_shim_redis_up",
            "gauge",
            "1 while the shim's Redis connection answers (PING within the health timeout), else 0.",
            [("", 1 if self._redis_up() else 0)],
        )
        stats = self._inbound_stats()
        for key, help_text in INBOUND_COUNTERS.items():
            name = f"acapy_bridge_shim_inbound_{key}_total"
            metric(name, "counter", f"Count of {help_text}.", [("", stats.get(key, 0))])
        metric(
            "acapy_bridge_shim_outbound_jobs_written_total",
            "counter",
            "Outbound jobs (messages for the deliverers) written to Redis.",
            [("", self.outbound_jobs_written)],
        )
        metric(
            "acapy_bridge_shim_events_written_total",
            "counter",
            "ACA-Py events written to Redis (webhook jobs and event-stream entries).",
            [("", self.events_written)],
        )
        metric(
            "acapy_bridge_shim_redis_errors_total",
            "counter",
            "Redis calls of the shim that failed, by operation (ping, outbound, event); each is retried.",
            [(f'{{operation="{_escape(op)}"}}', n) for op, n in sorted(self.redis_errors.items())],
        )
        return "\n".join(lines) + "\n"
