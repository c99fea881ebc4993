"""One routing DID per mediator wallet, created at startup rather than on the first grant.

ACA-Py creates its mediator routing DID while granting the first mediation
request. Concurrent first requests (one instance under load, or several
instances on one shared wallet, which is how the bridge runs mediators) race:
the losers fail with `StorageDuplicateError` and their wallets never get a
grant. Creating the DID once at startup, and accepting that another instance
won, takes the race out of the wallets' way. Uses ACA-Py's own MediationManager
steps (acapy_compat) so the record is the one it reads.
"""

import asyncio
import logging
from typing import Any

from acapy_bridge_shim.acapy_compat import create_routing_did, retrieve_routing_did

LOGGER = logging.getLogger(__name__)

# Attempts to create the DID when the wallet's storage refuses a write for another reason than a
# duplicate (SQLite "database is locked" while other sessions write, a PostgreSQL conflict).
CREATE_ATTEMPTS = 5


async def ensure_routing_did(profile: Any) -> str | None:
    """Returns the mediator's routing verkey, creating the routing DID if no instance did yet."""
    from acapy_agent.protocols.coordinate_mediation.v1_0.manager import MediationManager
    from acapy_agent.storage.error import StorageDuplicateError, StorageError

    manager = MediationManager(profile)
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        async with profile.session() as session:
            existing = await retrieve_routing_did(manager, session)
            if existing is not None:
                return existing.verkey
            try:
                created = await create_routing_did(manager, session)
                LOGGER.info("acapy-bridge: created the mediator routing DID %s", created.did)
                return created.verkey
            except StorageDuplicateError:
                pass  # another instance created it between our read and our write
            except StorageError as error:
                if attempt == CREATE_ATTEMPTS:
                    raise
                LOGGER.warning("acapy-bridge: creating the routing DID failed (%s); trying again", error)
        await asyncio.sleep(0.05 * attempt)
    async with profile.session() as session:
        winner = await retrieve_routing_did(manager, session)
        return winner.verkey if winner else None
