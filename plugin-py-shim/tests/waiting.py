"""Waiting for a condition in tests that talk to real processes."""

import asyncio


async def eventually(check, limit_s: float = 5.0):
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def stays(check, for_s: float = 0.5) -> None:
    """check() holds throughout for_s."""
    deadline = asyncio.get_running_loop().time() + for_s
    while asyncio.get_running_loop().time() < deadline:
        assert await check()
        await asyncio.sleep(0.05)
