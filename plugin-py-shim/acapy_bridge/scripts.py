"""The contract's Lua scripts, registered once per client and called by name."""

from typing import Any

from acapy_bridge.v1.lua_scripts import LUA_SCRIPTS


class Scripts:
    """EVALSHA with automatic EVAL fallback (redis-py's Script objects)."""

    def __init__(self, client):
        self._scripts = {name: client.register_script(body) for name, body in LUA_SCRIPTS.items()}

    async def run(self, name: str, keys: list[str], args: list) -> Any:
        return await self._scripts[name](keys=keys, args=args)
