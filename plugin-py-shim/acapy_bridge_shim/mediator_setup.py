"""One routing DID per mediator wallet, created at startup rather than on the first grant.

ACA-Py creates its mediator routing DID while granting the first mediation
request. Concurrent first requests (one instance under load, or several
instances on one shared wallet, which is how the bridge runs mediators) race:
the losers fail with `StorageDuplicateError` and their wallets never get a
grant. Creating the DID once at startup, and accepting that another instance
won, takes the race out of the wallets' way. Uses ACA-Py's own MediationManager
steps so the record is the one it reads.
"""

import logging

LOGGER = logging.getLogger(__name__)


async def ensure_routing_did(profile) -> str | None:
    """Returns the mediator's routing verkey, creating the routing DID if no instance did yet."""
    from acapy_agent.protocols.coordinate_mediation.v1_0.manager import MediationManager
    from acapy_agent.storage.error import StorageDuplicateError

    manager = MediationManager(profile)
    async with profile.session() as session:
        existing = await manager._retrieve_routing_did(session)
        if existing is not None:
            return existing.verkey
        try:
            created = await manager._create_routing_did(session)
            LOGGER.info("acapy-bridge: created the mediator routing DID %s", created.did)
            return created.verkey
        except StorageDuplicateError:
            pass  # another instance created it between our read and our write
    async with profile.session() as session:
        winner = await manager._retrieve_routing_did(session)
        return winner.verkey if winner else None
