"""ACA-Py's mediate-request and keylist-update handlers, with the policy deciding first.

They replace ACA-Py's own for the same message types (`register_mediation_policy`). The
mediation record (granted or denied) is ACA-Py's, in the shared wallet database: a decision
made on one instance is the one every instance sees. A refusal is answered with a
coordinate-mediation `problem-report` (code and reason from `decisions`), after a
`mediate-deny` for a request.
"""

import logging
from datetime import UTC, datetime

from acapy_agent.messaging.base_handler import BaseHandler, HandlerException
from acapy_agent.protocols.coordinate_mediation.v1_0.handlers.keylist_update_handler import KeylistUpdateHandler
from acapy_agent.protocols.coordinate_mediation.v1_0.manager import MediationAlreadyExists, MediationManager
from acapy_agent.protocols.coordinate_mediation.v1_0.messages.problem_report import (
    CMProblemReport,
    ProblemReportReason,
)
from acapy_agent.protocols.routing.v1_0.models.route_record import RouteRecord

from acapy_bridge_shim.mediation_policy.decisions import (
    RATE_WINDOW_S,
    Decision,
    decide_keylist_update,
    decide_request,
)
from acapy_bridge_shim.mediation_policy.settings_of import policy_of

LOGGER = logging.getLogger(__name__)


def _problem(context, code: str, reason: str) -> CMProblemReport:
    report = CMProblemReport(description={"en": reason, "code": code})
    report.assign_thread_from(context.message)
    return report


class PolicyMediationRequestHandler(BaseHandler):
    async def handle(self, context, responder) -> None:
        if not context.connection_ready:
            raise HandlerException("Invalid mediation request: no active connection")
        connection = context.connection_record
        manager = MediationManager(context.profile)
        try:
            record = await manager.receive_request(connection.connection_id, context.message)
        except MediationAlreadyExists:
            await responder.send_reply(
                _problem(
                    context,
                    ProblemReportReason.MEDIATION_REQUEST_REPEAT.value,
                    "Mediation request already exists from this connection",
                )
            )
            return
        decision = decide_request(
            policy_of(context.settings),
            invitation_msg_id=connection.invitation_msg_id or "",
            label=connection.their_label or "",
            did=connection.their_did or "",
        )
        if decision.allowed:
            record, grant = await manager.grant_request(record.mediation_id)
            await responder.send_reply(grant)
            return
        record, deny = await manager.deny_request(record.mediation_id)
        LOGGER.info(
            "acapy-bridge mediation policy: denied mediation to connection %s (%s)",
            connection.connection_id,
            decision.code,
        )
        await responder.send_reply(deny)
        await responder.send_reply(_problem(context, decision.code, decision.reason))


class PolicyKeylistUpdateHandler(BaseHandler):
    async def handle(self, context, responder) -> None:
        if not context.connection_ready:
            raise HandlerException("Cannot update routes: no active connection")
        decision = await self._decide(context)
        if not decision.allowed:
            LOGGER.info(
                "acapy-bridge mediation policy: keylist update of connection %s refused (%s)",
                context.connection_record.connection_id,
                decision.code,
            )
            await responder.send_reply(_problem(context, decision.code, decision.reason))
            return
        await KeylistUpdateHandler().handle(context, responder)

    async def _decide(self, context) -> Decision:
        policy = policy_of(context.settings)
        adds = sum(1 for update in context.message.updates if update.action == "add")
        if adds == 0 or not (policy.max_keys_per_wallet or policy.keylist_updates_per_minute):
            return decide_keylist_update(policy, keys_now=0, keys_added=0, added_last_minute=0)
        async with context.profile.session() as session:
            routes = await RouteRecord.query(
                session, {"connection_id": context.connection_record.connection_id, "role": RouteRecord.ROLE_SERVER}
            )
        now = datetime.now(UTC).timestamp()
        recent = sum(1 for route in routes if now - _created_at(route) < RATE_WINDOW_S)
        return decide_keylist_update(policy, keys_now=len(routes), keys_added=adds, added_last_minute=recent)


def _created_at(record) -> float:
    try:
        created = datetime.fromisoformat(str(record.created_at).replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.timestamp()
