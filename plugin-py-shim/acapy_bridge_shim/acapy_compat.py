"""Every use the shim makes of ACA-Py's internals (what is not its plugin API), in one place.

ACA-Py has no API for some of what the shim needs: seeing whether a message's
handler failed, finding the conductor's outbound router, switching its own
webhook posting off, creating the mediator's routing DID ahead of time, seeing
the event handlers its bus holds back. Each such touch is a function here, and
`check_acapy` looks for all of them when the plugin starts: a missing one
either stops ACA-Py with a message naming the installed ACA-Py and the missing
attribute, or (where the shim can go on, less well) is logged as a warning
saying what the shim does without it. The shim's other modules call only
these functions, never ACA-Py's private attributes.
"""

import importlib.metadata
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

LOGGER = logging.getLogger(__name__)

# Marks the dispatch_complete wrapper this module installed, and holds its hook.
_HOOK_ATTRIBUTE = "_acapy_bridge_dispatch_hook"

# The conductor's way to send: send(profile, outbound message) -> OutboundSendStatus.
SendOutbound = Callable[[Any, Any], Awaitable[Any]]


class AcapyIncompatible(RuntimeError):
    """The installed ACA-Py lacks something the shim cannot do without."""


def acapy_version() -> str:
    try:
        return importlib.metadata.version("acapy-agent")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Feature:
    """One ACA-Py internal the shim uses."""

    # The attribute, as module.Class.attribute.
    where: str
    present: bool
    # What the shim does without it; None: it cannot run without it.
    without: str | None

    def describe(self) -> str:
        return f"ACA-Py {acapy_version()} has no {self.where}"


def _has_attribute(cls: type, name: str) -> bool:
    return callable(getattr(cls, name, None))


def _takes_parameter(cls: type, name: str) -> bool:
    try:
        return name in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def _instance_has(factory: Callable[[], object], name: str) -> bool:
    try:
        return hasattr(factory(), name)
    except Exception:  # noqa: BLE001 - a constructor that changed is a missing feature too
        return False


def detect_features(*, webhooks_via_deliverer: bool, mediator: bool) -> list[Feature]:
    """The ACA-Py internals this configuration uses, each found present or not."""
    from acapy_agent.core.conductor import Conductor
    from acapy_agent.transport.inbound.manager import InboundTransportManager
    from acapy_agent.utils.task_queue import TaskQueue

    manager = "acapy_agent.transport.inbound.manager.InboundTransportManager"
    no_outcomes = "a message whose handler fails is acknowledged as if it succeeded"
    features = [
        Feature(
            f"{manager}.dispatch_complete", _has_attribute(InboundTransportManager, "dispatch_complete"), no_outcomes
        ),
        Feature(f"{manager}.create_session", _has_attribute(InboundTransportManager, "create_session"), no_outcomes),
        Feature(
            f"{manager}(return_inbound=...)",
            _takes_parameter(InboundTransportManager, "return_inbound"),
            "returned direct responses are sent through the admin responder, only when ACA-Py runs an admin server",
        ),
        Feature(
            "acapy_agent.core.conductor.Conductor.outbound_message_router",
            _has_attribute(Conductor, "outbound_message_router"),
            "returned direct responses are sent through the admin responder, only when ACA-Py runs an admin server",
        ),
        Feature(
            "acapy_agent.utils.task_queue.TaskQueue().pending_tasks",
            _instance_has(TaskQueue, "pending_tasks"),
            "an inbound message is acknowledged without waiting for the events of handlers the event bus held back",
        ),
    ]
    if webhooks_via_deliverer:
        from acapy_agent.admin.server import AdminServer

        features.append(
            Feature(
                "acapy_agent.admin.server.AdminServer(webhook_router=...)",
                _takes_parameter(AdminServer, "webhook_router"),
                None,  # controllers would get every webhook twice (ACA-Py's own and the deliverer's)
            )
        )
    if mediator:
        from acapy_agent.protocols.coordinate_mediation.v1_0.manager import MediationManager

        where = "acapy_agent.protocols.coordinate_mediation.v1_0.manager.MediationManager"
        racing = "the routing DID is created by ACA-Py on the first grant (concurrent first grants may fail)"
        features += [
            Feature(
                f"{where}._retrieve_routing_did", _has_attribute(MediationManager, "_retrieve_routing_did"), racing
            ),
            Feature(f"{where}._create_routing_did", _has_attribute(MediationManager, "_create_routing_did"), racing),
        ]
    return features


def check_acapy(*, webhooks_via_deliverer: bool, mediator: bool) -> list[Feature]:
    """Looks for every ACA-Py internal this configuration uses, at startup.

    Raises AcapyIncompatible naming the first one the shim cannot do without; logs a warning
    for each one it can (saying what the shim does instead). Returns the missing ones.
    """
    features = detect_features(webhooks_via_deliverer=webhooks_via_deliverer, mediator=mediator)
    missing = [feature for feature in features if not feature.present]
    for feature in missing:
        if feature.without is None:
            raise AcapyIncompatible(f"acapy-bridge cannot run: {feature.describe()}")
    for feature in missing:
        LOGGER.warning("acapy-bridge: %s; %s", feature.describe(), feature.without)
    return missing


# ---- the inbound transport manager: handler outcomes ----


def session_factory_of(transport: object) -> object:
    """What ACA-Py handed an inbound transport to create sessions with: its InboundTransportManager's
    bound `create_session` (BaseInboundTransport keeps it as `_create_session`)."""
    return getattr(transport, "_create_session", None)


def inbound_manager_of(create_session: object, session: object) -> Any | None:
    """ACA-Py's InboundTransportManager, or None.

    It hands transports its bound `create_session` and sessions its bound `closed_session`
    (their `close_handler`); either names it, as the method's `__self__`.
    """
    for bound in (create_session, getattr(session, "close_handler", None)):
        manager = getattr(bound, "__self__", None)
        if manager is not None and callable(getattr(manager, "dispatch_complete", None)):
            return manager
    return None


def wrap_dispatch_complete[Hook: Callable[[Any, Any], None]](manager: object, hook: Hook) -> Hook | None:
    """Makes `manager.dispatch_complete(message, completed)` call `hook` first, then ACA-Py's own.

    ACA-Py's conductor calls it when a message's handler ends, succeeded, raised or cancelled.
    Wraps once: a second call returns the hook installed first. None when the manager has no
    such method. A hook that raises is logged, never gets in ACA-Py's way.
    """
    installed = getattr(manager, _HOOK_ATTRIBUTE, None)
    if installed is not None:
        return installed
    original = getattr(manager, "dispatch_complete", None)
    if manager is None or not callable(original):
        return None

    def dispatch_complete(message: Any, completed: Any) -> Any:
        try:
            hook(message, completed)
        except Exception:  # noqa: BLE001 - never get in ACA-Py's way
            LOGGER.exception("acapy-bridge: the dispatch_complete hook failed")
        return original(message, completed)

    setattr(manager, "dispatch_complete", dispatch_complete)  # noqa: B010 - replacing ACA-Py's method is the point
    setattr(manager, _HOOK_ATTRIBUTE, hook)
    return hook


def completed_exception(completed: object) -> tuple[type | None, BaseException | None] | None:
    """(type, exception) a handler ended with, from ACA-Py's CompletedTask; None when it succeeded."""
    exc_info = getattr(completed, "exc_info", None)
    if not exc_info:
        return None
    return exc_info[0], exc_info[1] if len(exc_info) > 1 else None


# ---- sending as the conductor does ----


def conductor_router_of(create_session: object) -> SendOutbound | None:
    """The conductor's `outbound_message_router`, which every ACA-Py responder ends in; None when not found.

    The InboundTransportManager that hands transports `create_session` holds the conductor's
    bound `handle_not_returned` (`return_inbound`) and `inbound_message_router` (`receive_inbound`).
    """
    manager = getattr(create_session, "__self__", None)
    for bound in (getattr(manager, "return_inbound", None), getattr(manager, "receive_inbound", None)):
        router = getattr(getattr(bound, "__self__", None), "outbound_message_router", None)
        if callable(router):
            return router
    return None


def responder_router(responder: Any) -> SendOutbound:
    """Sending through a BaseResponder: AdminResponder's `send_fn` is the conductor's router (it sends with
    the profile given, a sub-wallet's); any other responder sends with its own profile."""
    send_fn = getattr(responder, "send_fn", None)
    if callable(send_fn):
        return send_fn

    async def send(_profile: Any, outbound: Any) -> Any:
        return await responder.send_outbound(outbound)

    return send


# ---- the admin server's webhooks ----


def disable_webhook_router(admin: object) -> None:
    """Stops ACA-Py's admin server from posting webhooks itself (its /ws stream stays)."""
    if not hasattr(admin, "webhook_router"):
        raise AcapyIncompatible(
            f"ACA-Py {acapy_version()} has no {type(admin).__name__}.webhook_router: "
            "cannot stop it posting webhooks itself"
        )
    setattr(admin, "webhook_router", None)  # noqa: B010 - an attribute, no setter exists


# ---- the event bus ----


def held_back_event_handlers(bus: object) -> list[Any]:
    """Futures of the event handlers ACA-Py's bus has not started yet (its task queue is full)."""
    task_queue = getattr(bus, "task_queue", None)
    return [pending.task_future for pending in getattr(task_queue, "pending_tasks", None) or []]


# ---- the mediator's routing DID ----


async def retrieve_routing_did(manager: Any, session: Any) -> Any | None:
    """MediationManager's stored routing DID (a DIDInfo), or None."""
    return await manager._retrieve_routing_did(session)


async def create_routing_did(manager: Any, session: Any) -> Any:
    """MediationManager's own way to create (and store) the routing DID; returns its DIDInfo."""
    return await manager._create_routing_did(session)


# ---- the admin server's application (admin API calls through Redis) ----


def admin_application(profile: Any) -> Any | None:
    """The aiohttp application ACA-Py's admin server serves (AdminServer.app); None without `--admin`.

    The conductor binds the AdminServer as BaseAdminServer and starts it (creating `app`) before it
    emits `acapy::core::startup`; the same in 1.6.1 and 1.7.0.
    """
    from acapy_agent.admin.base_server import BaseAdminServer

    server = profile.inject_or(BaseAdminServer)
    return getattr(server, "app", None) if server is not None else None


# ---- mediator Design 1: ACA-Py's own transports hold the wallets' sockets ----


def inbound_transport_manager(profile: Any) -> Any:
    """ACA-Py's InboundTransportManager (the conductor binds it at setup, before the startup event)."""
    from acapy_agent.transport.inbound.manager import InboundTransportManager

    manager = profile.inject_or(InboundTransportManager)
    if manager is None:
        raise AcapyIncompatible(
            f"ACA-Py {acapy_version()} runs without inbound transports: own_transports needs -it http and -it ws"
        )
    return manager


def conductor_of(manager: Any) -> Any:
    """The conductor behind the InboundTransportManager: its `receive_inbound` is the conductor's bound method."""
    conductor = getattr(getattr(manager, "receive_inbound", None), "__self__", None)
    if conductor is None or not callable(getattr(conductor, "outbound_message_router", None)):
        raise AcapyIncompatible(f"ACA-Py {acapy_version()}: the conductor's outbound router cannot be found")
    return conductor


def watch_inbound_frames(manager: Any, on_message: Callable[[Any, Any], None]) -> None:
    """Calls `on_message(profile, inbound message)` for every message a session received, before ACA-Py
    dispatches it. Sessions take `manager.receive_inbound` when they are created, so this must run before
    the transports accept connections (ACA-Py's startup event)."""
    original = manager.receive_inbound

    def receive_inbound(profile: Any, message: Any, can_respond: bool = False) -> Any:
        try:
            on_message(profile, message)
        except Exception:  # noqa: BLE001 - never get in ACA-Py's way
            LOGGER.exception("acapy-bridge: watching an inbound message failed")
        return original(profile, message, can_respond=can_respond)

    manager.receive_inbound = receive_inbound


def watch_closed_sessions(manager: Any, on_closed: Callable[[Any], None]) -> None:
    """Calls `on_closed(session)` when a session closes, before ACA-Py hands its buffered response back."""
    original = manager.closed_session

    def closed_session(session: Any) -> Any:
        try:
            on_closed(session)
        except Exception:  # noqa: BLE001 - never get in ACA-Py's way
            LOGGER.exception("acapy-bridge: watching a closed session failed")
        return original(session)

    manager.closed_session = closed_session


def return_to_reply_session_only(manager: Any) -> None:
    """A message goes down a session here only when it answers a message of that very session.

    ACA-Py also tries every other open session, which would send a wallet's message down an older
    socket of the wallet on this instance while a newer one elsewhere holds its route.
    """

    def return_to_session(outbound: Any) -> bool:
        session = manager.sessions.get(outbound.reply_session_id) if outbound.reply_session_id else None
        return bool(session is not None and session.accept_response(outbound))

    manager.return_to_session = return_to_session


def replace_undelivered_queue(manager: Any, queue: Any) -> None:
    """ACA-Py files what it could not deliver (no session, no transport) here instead of in memory."""
    manager.undelivered_queue = queue


def wrap_outbound_router(conductor: Any, router: Callable[[SendOutbound, Any, Any, Any], Awaitable[Any]]) -> None:
    """Every message ACA-Py sends goes through `router(original, profile, outbound, inbound)`.

    The dispatcher looks the router up on the conductor for every inbound message, so an instance
    attribute takes effect for the messages dispatched from now on.
    """
    original = conductor.outbound_message_router

    async def outbound_message_router(profile: Any, outbound: Any, inbound: Any = None) -> Any:
        return await router(original, profile, outbound, inbound)

    conductor.outbound_message_router = outbound_message_router


async def encode_for_target(conductor: Any, profile: Any, outbound: Any, target: Any) -> bytes:
    """The message packed for `target` as ACA-Py's outbound manager packs it (as is if already packed)."""
    queued = await conductor.outbound_transport_manager.encode_outbound_message(profile, outbound, target)
    payload = queued.payload
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def wallet_outbound(body: bytes, wallet_key: str) -> Any:
    """An already packed message for a session's response buffer."""
    from acapy_agent.transport.outbound.message import OutboundMessage

    return OutboundMessage(payload="", enc_payload=body, reply_to_verkey=wallet_key)


def send_status() -> Any:
    """ACA-Py's OutboundSendStatus enum."""
    from acapy_agent.transport.outbound.status import OutboundSendStatus

    return OutboundSendStatus


def session_is_closed(session: Any) -> bool:
    return bool(getattr(session, "closed", True))


def buffer_response(session: Any, outbound: Any) -> bool:
    """Puts `outbound` in the session's (single) response buffer if it is free; the transport writes it."""
    if session_is_closed(session) or session.response_buffer is not None:
        return False
    session.set_response(outbound)
    return True


def response_event(session: Any) -> Any:
    """Set whenever the session's buffer is filled, emptied, or the session closes."""
    return session.response_event
