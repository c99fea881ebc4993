import type { ChainableCommander } from "ioredis";
import { type LuaScriptName, luaScripts } from "../gen/lua_sources.js";
import type { RedisClient } from "./connection.js";

/**
 * The runtime under the generated typed calls (`lua`, `luaPipeline` in gen/lua_scripts.ts):
 * callers use those; nothing here takes a script's keys or arguments by position.
 */

/** One element of a script call: the key count, then keys, then arguments. */
export type ScriptValue = string | number | Buffer;
type ScriptCommand = (...argv: ScriptValue[]) => Promise<unknown>;

const defined = new WeakSet<object>();

function commandName(name: LuaScriptName, buffers: boolean): string {
  return buffers ? `bridge_${name}Buffer` : `bridge_${name}`;
}

/**
 * Registers every contract script on a client once (ioredis sends EVALSHA and
 * falls back to EVAL after NOSCRIPT, also after a failover or a restart).
 */
export function registerScripts(client: RedisClient): void {
  if (defined.has(client)) return;
  for (const [name, lua] of Object.entries(luaScripts)) {
    client.defineCommand(commandName(name as LuaScriptName, false), { lua });
  }
  defined.add(client);
}

/** A bytes argument as ioredis sends it: a Buffer view of the same memory (no copy). */
export function scriptBytes(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** An int argument: a bigint (epochs) as its decimal text, exactly. */
export function scriptInt(value: number | bigint): string | number {
  return typeof value === "bigint" ? value.toString() : value;
}

/** Runs a registered script; `argv` is [key count, ...keys, ...args]. `buffers`: bulk replies as Buffers. */
export function callScript(
  client: RedisClient,
  name: LuaScriptName,
  argv: ScriptValue[],
  buffers: boolean,
): Promise<unknown> {
  registerScripts(client);
  const command = (client as unknown as Record<string, ScriptCommand>)[commandName(name, buffers)] as ScriptCommand;
  return command.apply(client, argv);
}

/** Queues a script on a pipeline (its client must have had `registerScripts`). */
export function queueScriptCall(
  pipeline: ChainableCommander,
  name: LuaScriptName,
  argv: ScriptValue[],
): ChainableCommander {
  const command = (pipeline as unknown as Record<string, (...a: ScriptValue[]) => ChainableCommander>)[
    commandName(name, false)
  ];
  if (!command) throw new Error(`script ${name} is not registered on this pipeline's client`);
  return command.apply(pipeline, argv);
}

/** A reply read as Buffers (it has bytes fields): its status and the given text fields become strings, in place. */
export function replyAsText(reply: unknown[], textFields: readonly number[]): unknown[] {
  reply[0] = String(reply[0]);
  for (const i of textFields) if (i < reply.length) reply[i] = String(reply[i]);
  return reply;
}
