"""The contract's Lua scripts, registered once per client, called through typed methods.

`LuaScripts` (generated from the scripts' `--!` headers) has one method per script;
this class runs them with EVALSHA and redis-py's automatic EVAL fallback.
"""

from redis.asyncio import Redis, RedisCluster
from redis.commands.core import AsyncScript

from acapy_bridge.v1.lua_scripts import LUA_SCRIPTS, LuaScripts, ScriptValue


class Scripts(LuaScripts):
    """EVALSHA with automatic EVAL fallback (redis-py's Script objects)."""

    def __init__(self, client: Redis | RedisCluster) -> None:
        self._scripts: dict[str, AsyncScript] = {
            name: client.register_script(body) for name, body in LUA_SCRIPTS.items()
        }

    async def _invoke(self, name: str, keys: list[str], args: list[ScriptValue]) -> object:
        return await self._scripts[name](keys=keys, args=args)
