"""The ACA-Py internals the shim uses are found in the installed ACA-Py, and their absence is told plainly."""

import asyncio
import importlib.metadata
import logging
from types import SimpleNamespace

import pytest

from acapy_bridge_shim import acapy_compat
from acapy_bridge_shim.acapy_compat import (
    AcapyIncompatible,
    Feature,
    check_acapy,
    conductor_router_of,
    detect_features,
    disable_webhook_router,
    held_back_event_handlers,
    inbound_manager_of,
    responder_router,
    wrap_dispatch_complete,
)

INSTALLED = importlib.metadata.version("acapy-agent")


def test_the_installed_acapy_has_everything_the_shim_uses():
    features = detect_features(webhooks_via_deliverer=True, mediator=True)
    assert [f.where for f in features if not f.present] == []
    assert check_acapy(webhooks_via_deliverer=True, mediator=True) == []


def test_only_what_the_configuration_uses_is_looked_for():
    wheres = [f.where for f in detect_features(webhooks_via_deliverer=False, mediator=False)]
    assert not any("webhook_router" in w or "routing_did" in w for w in wheres)


def _missing(monkeypatch, feature: Feature) -> None:
    present = detect_features(webhooks_via_deliverer=True, mediator=True)
    monkeypatch.setattr(acapy_compat, "detect_features", lambda **_: [*present, feature])


def test_a_missing_feature_the_shim_cannot_do_without_stops_the_start_naming_version_and_attribute(monkeypatch):
    _missing(monkeypatch, Feature("acapy_agent.admin.server.AdminServer(webhook_router=...)", False, None))
    with pytest.raises(AcapyIncompatible) as refused:
        check_acapy(webhooks_via_deliverer=True, mediator=False)
    assert f"ACA-Py {INSTALLED} has no acapy_agent.admin.server.AdminServer(webhook_router=...)" in str(refused.value)


def test_a_missing_feature_the_shim_can_do_without_is_a_warning_saying_what_it_does_instead(monkeypatch, caplog):
    where = "acapy_agent.transport.inbound.manager.InboundTransportManager.dispatch_complete"
    _missing(monkeypatch, Feature(where, False, "failed handlers are acknowledged"))
    caplog.set_level(logging.WARNING, logger="acapy_bridge_shim.acapy_compat")
    missing = check_acapy(webhooks_via_deliverer=False, mediator=False)
    assert [f.where for f in missing] == [where]
    assert f"ACA-Py {INSTALLED} has no {where}; failed handlers are acknowledged" in caplog.text


def test_the_dispatch_complete_hook_is_found_through_create_session_or_the_session_close_handler():
    class Manager:
        def create_session(self): ...

        def closed_session(self, session): ...

        def dispatch_complete(self, message, completed): ...

    manager = Manager()
    assert inbound_manager_of(manager.create_session, None) is manager
    assert inbound_manager_of(None, SimpleNamespace(close_handler=manager.closed_session)) is manager
    assert inbound_manager_of(lambda: None, SimpleNamespace(close_handler=None)) is None
    assert inbound_manager_of(SimpleNamespace().__init__, None) is None  # bound to something without the method


def test_dispatch_complete_is_wrapped_once_and_a_failing_hook_never_stops_acapys_own(caplog):
    calls = []

    class Manager:
        def dispatch_complete(self, message, completed):
            calls.append(message)

    def broken_hook(message, completed):
        raise RuntimeError("hook bug")

    manager = Manager()
    assert wrap_dispatch_complete(manager, broken_hook) is broken_hook
    assert wrap_dispatch_complete(manager, lambda m, c: None) is broken_hook
    manager.dispatch_complete("m", None)
    assert calls == ["m"]
    assert "the dispatch_complete hook failed" in caplog.text
    assert wrap_dispatch_complete(SimpleNamespace(), broken_hook) is None


def test_the_conductor_router_is_found_through_the_managers_bound_conductor_methods():
    class Conductor:
        async def outbound_message_router(self, profile, outbound): ...

        async def handle_not_returned(self, profile, outbound): ...

    conductor = Conductor()
    manager = SimpleNamespace(return_inbound=conductor.handle_not_returned, receive_inbound=None)
    create_session = SimpleNamespace(__self__=manager)
    assert conductor_router_of(create_session) == conductor.outbound_message_router
    assert conductor_router_of(lambda: None) is None


async def test_a_responder_without_send_fn_sends_with_its_own_profile():
    sent = []

    class Responder:
        async def send_outbound(self, outbound):
            sent.append(outbound)
            return "QUEUED"

    assert await responder_router(Responder())("any profile", "message") == "QUEUED"
    assert sent == ["message"]


def test_disabling_the_webhook_router_clears_it_or_names_what_is_missing():
    admin = SimpleNamespace(webhook_router=object())
    disable_webhook_router(admin)
    assert admin.webhook_router is None
    with pytest.raises(AcapyIncompatible, match=f"ACA-Py {INSTALLED} has no SimpleNamespace.webhook_router"):
        disable_webhook_router(SimpleNamespace())


async def test_held_back_event_handlers_are_read_from_the_bus_task_queue():
    future = asyncio.get_running_loop().create_future()
    bus = SimpleNamespace(task_queue=SimpleNamespace(pending_tasks=[SimpleNamespace(task_future=future)]))
    assert held_back_event_handlers(bus) == [future]
    assert held_back_event_handlers(SimpleNamespace()) == []
