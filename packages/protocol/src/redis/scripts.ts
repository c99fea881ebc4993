import type { ChainableCommander } from "ioredis";
import { type LuaScriptName, luaScripts } from "../gen/lua_scripts.js";
import type { RedisClient } from "./connection.js";

type ScriptArg = string | number | Buffer | Uint8Array;
type ScriptCall = (numKeys: number, ...args: ScriptArg[]) => Promise<unknown>;

const defined = new WeakSet<object>();

function commandName(name: LuaScriptName): string {
  return `bridge_${name}`;
}

/**
 * Registers every contract script on a client once (ioredis sends EVALSHA and
 * falls back to EVAL after NOSCRIPT, also after a failover or a restart).
 */
export function registerScripts(client: RedisClient): void {
  if (defined.has(client)) return;
  for (const [name, lua] of Object.entries(luaScripts)) {
    client.defineCommand(commandName(name as LuaScriptName), { lua });
  }
  defined.add(client);
}

function toArg(value: ScriptArg): string | number | Buffer {
  return value instanceof Uint8Array && !Buffer.isBuffer(value)
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    : (value as string | number | Buffer);
}

/** Runs a contract script by name. All keys must share one hash slot. */
export function runScript(
  client: RedisClient,
  name: LuaScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  registerScripts(client);
  const call = (client as unknown as Record<string, ScriptCall>)[commandName(name)] as ScriptCall;
  return call.call(client, keys.length, ...keys, ...args.map(toArg));
}

/** Queues a contract script on a pipeline (the client must have had `registerScripts`). */
export function queueScript(
  pipeline: ChainableCommander,
  name: LuaScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): ChainableCommander {
  const call = (pipeline as unknown as Record<string, (...a: unknown[]) => ChainableCommander>)[commandName(name)];
  if (!call) throw new Error(`script ${name} is not registered on this client`);
  return call.call(pipeline, keys.length, ...keys, ...args.map(toArg));
}
