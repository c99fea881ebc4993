"""Which webhook topic ACA-Py's admin server would use for an event topic.

Mirrors `acapy_agent/admin/server.py` (`EVENT_PATTERN_WEBHOOK`,
`EVENT_PATTERN_RECORD`, `EVENT_WEBHOOK_MAPPING`, plus `forward` with
`--monitor-forward`), imported from ACA-Py when available so both stay equal.
"""

import re

try:  # the installed ACA-Py is the reference
    from acapy_agent.admin.server import EVENT_PATTERN_RECORD, EVENT_PATTERN_WEBHOOK, EVENT_WEBHOOK_MAPPING
except ImportError:  # pragma: no cover - the shim's own tests always have ACA-Py
    EVENT_PATTERN_WEBHOOK = re.compile("^acapy::webhook::(.*)$")
    EVENT_PATTERN_RECORD = re.compile("^acapy::record::([^:]*)(?:::.*)?$")
    EVENT_WEBHOOK_MAPPING = {
        "acapy::basicmessage::received": "basicmessages",
        "acapy::problem_report": "problem_report",
        "acapy::ping::received": "ping",
        "acapy::ping::response_received": "ping",
        "acapy::actionmenu::received": "actionmenu",
        "acapy::actionmenu::get-active-menu": "get-active-menu",
        "acapy::actionmenu::perform-menu-action": "perform-menu-action",
        "acapy::keylist::updated": "keylist",
    }

FORWARD_EVENT = "acapy::forward::received"

# What ACA-Py's own webhooks send: the default topic selection for the shim's events.
ACAPY_WEBHOOK_EVENT_PATTERNS: tuple[str, ...] = (
    EVENT_PATTERN_WEBHOOK.pattern,
    EVENT_PATTERN_RECORD.pattern,
    *(f"^{re.escape(topic)}" for topic in EVENT_WEBHOOK_MAPPING if topic != FORWARD_EVENT),
    f"^{re.escape(FORWARD_EVENT)}",
)


def webhook_topic_for(event_topic: str, *, monitor_forward: bool = False) -> str | None:
    """The webhook topic ACA-Py posts this event under, or None when ACA-Py sends no webhook for it."""
    match = EVENT_PATTERN_WEBHOOK.search(event_topic)
    if match and match.group(1):
        return match.group(1)
    match = EVENT_PATTERN_RECORD.search(event_topic)
    if match and match.group(1):
        return match.group(1)
    if event_topic.startswith(FORWARD_EVENT):
        return "forward" if monitor_forward else None
    # The admin server subscribes re.compile(re.escape(topic)): matched at the start only.
    for prefix, webhook_topic in EVENT_WEBHOOK_MAPPING.items():
        if prefix != FORWARD_EVENT and event_topic.startswith(prefix):
            return webhook_topic
    return None
