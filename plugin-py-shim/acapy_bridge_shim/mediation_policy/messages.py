"""ACA-Py's mediate-request and keylist-update messages, handled by the policy handlers."""

from acapy_agent.protocols.coordinate_mediation.v1_0.messages.keylist_update import (
    KeylistUpdate,
    KeylistUpdateSchema,
)
from acapy_agent.protocols.coordinate_mediation.v1_0.messages.mediate_request import (
    MediationRequest,
    MediationRequestSchema,
)

HANDLERS = "acapy_bridge_shim.mediation_policy.handlers"


class PolicyMediationRequest(MediationRequest):
    class Meta(MediationRequest.Meta):
        handler_class = f"{HANDLERS}.PolicyMediationRequestHandler"
        schema_class = "PolicyMediationRequestSchema"


class PolicyMediationRequestSchema(MediationRequestSchema):
    class Meta(MediationRequestSchema.Meta):
        model_class = PolicyMediationRequest


class PolicyKeylistUpdate(KeylistUpdate):
    class Meta(KeylistUpdate.Meta):
        handler_class = f"{HANDLERS}.PolicyKeylistUpdateHandler"
        schema_class = "PolicyKeylistUpdateSchema"


class PolicyKeylistUpdateSchema(KeylistUpdateSchema):
    class Meta(KeylistUpdateSchema.Meta):
        model_class = PolicyKeylistUpdate
