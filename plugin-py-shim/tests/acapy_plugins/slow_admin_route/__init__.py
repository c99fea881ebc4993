"""Test-only ACA-Py plugin: a slow admin call whose start is recorded in the wallet (see routes)."""


async def setup(context) -> None:
    """Nothing to set up: the admin routes are all (ACA-Py loads `routes.register`)."""
