"""Which mediation requests and keylist updates the policy allows: pure functions of the settings.

A request is granted when the policy names no invitation, label or DID at all (grant all, as
`--open-mediation`), or when the requesting connection was made from one of the listed OOB
invitations (`invitation_msg_id`), or its label or DID is listed. A keylist update is refused
when its additions would take the wallet past `max_keys_per_wallet`, or past
`keylist_updates_per_minute` keys added within the last minute. Both read only what is in the
shared wallet database (connection and route records), so every instance decides the same.
"""

from dataclasses import dataclass

from acapy_bridge_shim.config import MediationPolicySettings

RATE_WINDOW_S = 60.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Problem-report code and English description when refused.
    code: str = ""
    reason: str = ""


ALLOWED = Decision(True)


def decide_request(policy: MediationPolicySettings, *, invitation_msg_id: str, label: str, did: str) -> Decision:
    if not (policy.invitation_ids or policy.labels or policy.dids):
        return ALLOWED
    if invitation_msg_id and invitation_msg_id in policy.invitation_ids:
        return ALLOWED
    if label and label in policy.labels:
        return ALLOWED
    if did and did in policy.dids:
        return ALLOWED
    return Decision(
        False,
        "mediation_denied_by_policy",
        "Mediation is granted only to connections made from the mediator's listed invitations"
        " or with a listed label or DID",
    )


def decide_keylist_update(
    policy: MediationPolicySettings, *, keys_now: int, keys_added: int, added_last_minute: int
) -> Decision:
    if keys_added == 0:
        return ALLOWED
    if policy.max_keys_per_wallet and keys_now + keys_added > policy.max_keys_per_wallet:
        return Decision(
            False,
            "keylist_limit_exceeded",
            f"At most {policy.max_keys_per_wallet} keys per wallet ({keys_now} registered, {keys_added} to add)",
        )
    if policy.keylist_updates_per_minute and added_last_minute + keys_added > policy.keylist_updates_per_minute:
        return Decision(
            False,
            "keylist_rate_exceeded",
            f"At most {policy.keylist_updates_per_minute} keys added per minute; try again later",
        )
    return ALLOWED
