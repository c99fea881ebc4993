"""Waiting for a condition in tests that talk to real processes."""

import asyncio


async def eventually(check, limit_s: float = 5.0, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not met in {limit_s} s")
        await asyncio.sleep(0.02)


async def stays(check, for_s: float = 0.5) -> None:
    """check() holds throughout for_s."""
    deadline = asyncio.get_running_loop().time() + for_s
    while asyncio.get_running_loop().time() < deadline:
        assert await check()
        await asyncio.sleep(0.05)


async def hold_still(seconds: float, why: str) -> None:
    """Waits on purpose, where the window itself is the point.

    Something must NOT happen meanwhile (checked afterwards), or a process is given the time it is
    meant to have (a timeout running out, a read blocking). Not for waiting until something does
    happen: use eventually() for that. `why` says what the window is for, so it reads as no race.
    """
    assert why, "hold_still needs a reason"
    await asyncio.sleep(seconds)
