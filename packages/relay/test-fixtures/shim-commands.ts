// What the shim writes for a relay, done by hand in tests that play the shim's part.
import {
  type AgentMessage,
  encodeEnvelope,
  type Keyspace,
  lua,
  type RedisClient,
  type RelayCommand,
  RelayCommandSchema,
  WalletMessageSchema,
  WalletRouteSchema,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";

/** Appends a command to a relay's inbox with `inbox_push`; the script's status ("OK", or "GONE" once the inbox is retired). */
export async function pushToRelayInbox(
  client: RedisClient,
  keyspace: Keyspace,
  relayId: string,
  command: RelayCommand,
): Promise<string> {
  const [status] = await lua.inboxPush(client, {
    inbox: keyspace.key("relayInbox", { relay: relayId }),
    entryField: keyspace.spec("relayInbox").entryField,
    command: encodeEnvelope(RelayCommandSchema, command),
  });
  return status;
}

/** Routes a wallet key to the socket a session frame came from (`route_set`), as the shim does for return route `all`. */
export async function routeWalletToSocket(
  client: RedisClient,
  keyspace: Keyspace,
  walletKey: string,
  relayId: string,
  frame: Pick<AgentMessage, "socketId" | "sessionEpoch">,
): Promise<void> {
  const route = create(WalletRouteSchema, {
    relayId,
    socketId: frame.socketId,
    epoch: frame.sessionEpoch,
    registeredAtMs: BigInt(Date.now()),
  });
  await lua.routeSet(client, {
    route: keyspace.key("walletRoute", { recipient: walletKey }),
    walletRoute: encodeEnvelope(WalletRouteSchema, route),
    epoch: frame.sessionEpoch,
    ttlMs: 60_000,
  });
}

/** A SocketPush of one message to the socket a wallet's session frame came from. */
export function walletPush(
  frame: Pick<AgentMessage, "socketId" | "sessionEpoch">,
  walletKey: string,
  mid: string,
  body: Buffer,
): RelayCommand {
  const message = create(WalletMessageSchema, {
    mid,
    recipientKey: walletKey,
    contentType: "application/didcomm-envelope-enc",
    body,
    createdAtMs: BigInt(Date.now()),
  });
  return create(RelayCommandSchema, {
    command: { case: "push", value: { socketId: frame.socketId, routeEpoch: frame.sessionEpoch, message } },
  });
}
