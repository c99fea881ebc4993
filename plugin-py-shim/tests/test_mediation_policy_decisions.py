"""The mediation policy's decisions (pure: settings in, decision out)."""

import pytest

from acapy_bridge_shim.config import MediationPolicySettings, ShimConfigError, parse_config
from acapy_bridge_shim.mediation_policy.decisions import decide_keylist_update, decide_request

URL = "redis://127.0.0.1:6379"


def request(policy, invitation="", label="", did=""):
    return decide_request(policy, invitation_msg_id=invitation, label=label, did=did)


def test_a_policy_naming_nobody_grants_every_request():
    assert request(MediationPolicySettings(enabled=True), label="anyone").allowed


def test_grants_connections_from_a_listed_invitation_only():
    policy = MediationPolicySettings(enabled=True, invitation_ids=("inv-1",))
    assert request(policy, invitation="inv-1").allowed
    refused = request(policy, invitation="inv-2", label="x")
    assert not refused.allowed
    assert refused.code == "mediation_denied_by_policy"


def test_grants_a_listed_label_or_did():
    policy = MediationPolicySettings(enabled=True, labels=("alice",), dids=("did:peer:2.abc",))
    assert request(policy, label="alice").allowed
    assert request(policy, did="did:peer:2.abc").allowed
    assert not request(policy, label="mallory", did="did:peer:2.xyz").allowed


def test_refuses_keys_past_the_per_wallet_limit():
    policy = MediationPolicySettings(enabled=True, max_keys_per_wallet=2, keylist_updates_per_minute=0)
    assert decide_keylist_update(policy, keys_now=1, keys_added=1, added_last_minute=0).allowed
    refused = decide_keylist_update(policy, keys_now=2, keys_added=1, added_last_minute=0)
    assert (refused.allowed, refused.code) == (False, "keylist_limit_exceeded")


def test_refuses_keys_past_the_rate_limit_and_never_refuses_removals():
    policy = MediationPolicySettings(enabled=True, max_keys_per_wallet=0, keylist_updates_per_minute=3)
    assert decide_keylist_update(policy, keys_now=50, keys_added=1, added_last_minute=2).allowed
    refused = decide_keylist_update(policy, keys_now=50, keys_added=2, added_last_minute=2)
    assert (refused.allowed, refused.code) == (False, "keylist_rate_exceeded")
    assert decide_keylist_update(policy, keys_now=50, keys_added=0, added_last_minute=99).allowed


def test_settings_take_comma_separated_lists_and_refuse_open_mediation():
    config = parse_config(
        {"redis_url": URL, "mediation_policy": {"enabled": True, "labels": "a, b", "invitation_ids": ["i"]}}
    )
    assert config.mediation_policy.labels == ("a", "b")
    assert config.mediation_policy.invitation_ids == ("i",)
    with pytest.raises(ShimConfigError, match="without --open-mediation"):
        parse_config({"redis_url": URL, "mediation_policy": {"enabled": True}}, mediator=True)


def test_own_transports_need_the_mailboxes():
    with pytest.raises(ShimConfigError, match="needs the wallet mailboxes"):
        parse_config({"redis_url": URL, "own_transports": {"enabled": True}})
    assert parse_config({"redis_url": URL, "own_transports": {"enabled": True}}, mediator=True).own_transports.enabled
