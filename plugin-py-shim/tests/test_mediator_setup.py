"""The mediator's routing DID exists before the first grant, also when instances race to create it."""

import asyncio

from acapy_agent.protocols.coordinate_mediation.v1_0.manager import MediationManager
from acapy_agent.utils.testing import create_test_profile
from acapy_agent.wallet.did_method import DIDMethods
from acapy_agent.wallet.key_type import KeyTypes

from acapy_bridge_shim.mediator_setup import ensure_routing_did


async def test_concurrent_startups_agree_on_one_routing_did_and_grants_use_it():
    profile = await create_test_profile()
    # ACA-Py binds these at startup.
    profile.context.injector.bind_instance(DIDMethods, DIDMethods())
    profile.context.injector.bind_instance(KeyTypes, KeyTypes())
    verkeys = await asyncio.gather(*[ensure_routing_did(profile) for _ in range(8)])
    assert len(set(verkeys)) == 1 and verkeys[0]
    async with profile.session() as session:
        stored = await MediationManager(profile)._retrieve_routing_did(session)
    assert stored.verkey == verkeys[0]
    # A second start finds it and creates nothing.
    assert await ensure_routing_did(profile) == verkeys[0]
