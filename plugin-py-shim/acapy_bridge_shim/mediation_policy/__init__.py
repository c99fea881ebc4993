"""Mediation decided inside the mediator, without a controller (mediator Design 1, usable with Design 2).

`-o acapy_bridge_shim.mediation_policy.enabled=true` (ACA-Py without `--open-mediation`, with
`acapy_bridge_shim.mailbox.enabled=true`) replaces ACA-Py's mediate-request and keylist-update
handlers with ones that ask the policy first (`decisions`): grant all, or only connections made
from listed invitations or with a listed label or DID; at most so many keys per wallet and keys
added per minute. Refusals get a problem report; decisions are ACA-Py's mediation records in the
shared database (docs/mediator.md, "Mediation policy").
"""


def register_mediation_policy(context) -> None:
    from acapy_agent.core.protocol_registry import ProtocolRegistry
    from acapy_agent.protocols.coordinate_mediation.v1_0.message_types import KEYLIST_UPDATE, MEDIATE_REQUEST
    from acapy_agent.protocols.didcomm_prefix import DIDCommPrefix

    registry = context.inject(ProtocolRegistry)
    messages = "acapy_bridge_shim.mediation_policy.messages"
    # Registered after ACA-Py's own protocols (plugins set up in order), so these win.
    registry.register_message_types(
        DIDCommPrefix.qualify_all(
            {
                MEDIATE_REQUEST: f"{messages}.PolicyMediationRequest",
                KEYLIST_UPDATE: f"{messages}.PolicyKeylistUpdate",
            }
        )
    )
