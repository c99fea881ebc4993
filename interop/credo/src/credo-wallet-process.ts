// A Credo-ts 0.5 wallet in its own OS process, driven by its parent over Node's IPC channel, so
// that a test can freeze it (SIGSTOP), resume it, or take it offline the way a phone app does.
// Commands arrive as { id, command, ...args }; every command is answered with { id, ok, result }
// or { id, ok: false, error }; received basic messages are reported as { event: "basicMessage" }.
import { AskarModule } from "@credo-ts/askar";
import {
  Agent,
  BasicMessageEventTypes,
  BasicMessageRole,
  type BasicMessageStateChangedEvent,
  ConnectionsModule,
  ConsoleLogger,
  HttpOutboundTransport,
  KeyDerivationMethod,
  LogLevel,
  MediationRecipientModule,
  MediatorPickupStrategy,
  MessageSender,
  type OutboundMessageContext,
  WsOutboundTransport,
} from "@credo-ts/core";
import { agentDependencies } from "@credo-ts/node";
import {
  type PushNotificationsApnsApi,
  PushNotificationsApnsModule,
  type PushNotificationsFcmApi,
  PushNotificationsFcmModule,
} from "@credo-ts/push-notifications";
import { ariesAskar } from "@hyperledger/aries-askar-nodejs";

export interface WalletSettings {
  label: string;
  mediatorInvitationUrl: string;
  pickupStrategy: keyof typeof MediatorPickupStrategy;
  /** Polling interval of PickUpV1/PickUpV2, ms. */
  pollingIntervalMs?: number;
  /** Credo's log level name (e.g. "warn"); its logs go to stderr. */
  logLevel?: keyof typeof LogLevel;
}

export type WalletCommand =
  | { command: "start"; settings: WalletSettings }
  | { command: "acceptInvitation"; invitationUrl: string }
  | { command: "pickupMessages"; timeoutMs: number }
  | { command: "mediatorConnection" }
  | { command: "setPushDevice"; service: "fcm" | "apns"; token: string | null; devicePlatform?: string }
  | { command: "holdReceipts" }
  | { command: "releaseReceipts" }
  | { command: "stop" };

export interface ReceivedBasicMessage {
  event: "basicMessage";
  content: string;
  messageId: string;
  connectionId: string;
  receivedAt: number;
}

/** Credo's console logger, writing to stderr: stdout and the IPC channel stay the parent's. */
class StderrLogger extends ConsoleLogger {
  constructor(level: LogLevel) {
    super(level);
    // ConsoleLogger prints with console.*: route all of them to stderr.
    for (const method of ["log", "info", "debug", "trace", "warn"] as const) {
      console[method] = (...args: unknown[]) => console.error(...args);
    }
  }
}

/** Reported for every Message Pickup 2.0 `delivery` the wallet processed. */
export interface PickupDeliveryReceived {
  event: "pickupDelivery";
  attachments: number;
  receivedAt: number;
}

const DELIVERY_TYPE = "https://didcomm.org/messagepickup/2.0/delivery";

let agent: Agent | undefined;
/** While set, the `messages-received` answers to deliveries are kept here instead of being sent. */
let heldReceipts: OutboundMessageContext[] | undefined;

function send(message: unknown): void {
  process.send?.(message);
}

function buildAgent(s: WalletSettings): Agent {
  const next = new Agent({
    config: {
      label: s.label,
      // The wallet file lives under $HOME/.afj: the parent points HOME at a temporary folder.
      // Test wallets need no slow key stretching.
      walletConfig: { id: s.label, key: `${s.label}-key`, keyDerivationMethod: KeyDerivationMethod.Argon2IInt },
      logger: new StderrLogger(LogLevel[s.logLevel ?? "warn"]),
      autoUpdateStorageOnStartup: true,
    },
    dependencies: agentDependencies,
    modules: {
      askar: new AskarModule({ ariesAskar }),
      connections: new ConnectionsModule({ autoAcceptConnections: true }),
      mediationRecipient: new MediationRecipientModule({
        mediatorInvitationUrl: s.mediatorInvitationUrl,
        mediatorPickupStrategy: MediatorPickupStrategy[s.pickupStrategy],
        mediatorPollingInterval: s.pollingIntervalMs ?? 1_000,
      }),
      // Aries RFC 0734 / 0699: the device token the mediator wakes the app with.
      pushNotificationsFcm: new PushNotificationsFcmModule(),
      pushNotificationsApns: new PushNotificationsApnsModule(),
    },
  });
  // Sees each pickup delivery after Credo processed it; can hold back its `messages-received`, so
  // that a test sees the mailbox between delivery and receipt.
  next.dependencyManager.registerMessageHandlerMiddleware(async (context, handle) => {
    await handle();
    if (context.message.type !== DELIVERY_TYPE) return;
    const attachments = (context.message as unknown as { appendedAttachments?: unknown[] }).appendedAttachments;
    const report: PickupDeliveryReceived = {
      event: "pickupDelivery",
      attachments: attachments?.length ?? 0,
      receivedAt: Date.now(),
    };
    send(report);
    if (heldReceipts && context.responseMessage) {
      heldReceipts.push(context.responseMessage);
      context.responseMessage = undefined;
    }
  });
  next.registerOutboundTransport(new WsOutboundTransport());
  next.registerOutboundTransport(new HttpOutboundTransport());
  next.events.on<BasicMessageStateChangedEvent>(BasicMessageEventTypes.BasicMessageStateChanged, ({ payload }) => {
    if (payload.basicMessageRecord.role !== BasicMessageRole.Receiver) return;
    const received: ReceivedBasicMessage = {
      event: "basicMessage",
      content: payload.message.content,
      messageId: payload.message.id,
      connectionId: payload.basicMessageRecord.connectionId,
      receivedAt: Date.now(),
    };
    send(received);
  });
  return next;
}

function current(): Agent {
  if (!agent) throw new Error("the wallet is not started (send start first)");
  return agent;
}

async function mediatorConnectionId(): Promise<string> {
  const mediator = await current().mediationRecipient.findDefaultMediator();
  if (!mediator) throw new Error("the wallet has no default mediator");
  return mediator.connectionId;
}

async function run(command: WalletCommand): Promise<unknown> {
  switch (command.command) {
    case "start": {
      agent = buildAgent(command.settings);
      await agent.initialize();
      return { mediatorConnectionId: await mediatorConnectionId() };
    }
    case "acceptInvitation": {
      const { connectionRecord } = await current().oob.receiveInvitationFromUrl(command.invitationUrl, {
        autoAcceptConnection: true,
        autoAcceptInvitation: true,
      });
      if (!connectionRecord) throw new Error("the invitation made no connection");
      const connected = await current().connections.returnWhenIsConnected(connectionRecord.id, { timeoutMs: 30_000 });
      return { connectionId: connected.id, theirLabel: connected.theirLabel };
    }
    case "pickupMessages": {
      const started = Date.now();
      await current().messagePickup.pickupMessages({
        connectionId: await mediatorConnectionId(),
        protocolVersion: "v2",
        awaitCompletion: true,
        awaitCompletionTimeoutMs: command.timeoutMs,
      });
      return { completedInMs: Date.now() - started };
    }
    case "mediatorConnection":
      return { connectionId: await mediatorConnectionId() };
    case "setPushDevice": {
      const connectionId = await mediatorConnectionId();
      const modules = current().modules as unknown as {
        pushNotificationsFcm: PushNotificationsFcmApi;
        pushNotificationsApns: PushNotificationsApnsApi;
      };
      if (command.service === "fcm") {
        await modules.pushNotificationsFcm.setDeviceInfo(connectionId, {
          deviceToken: command.token,
          devicePlatform: command.token ? (command.devicePlatform ?? "android") : null,
        });
      } else {
        await modules.pushNotificationsApns.setDeviceInfo(connectionId, { deviceToken: command.token });
      }
      return {};
    }
    case "holdReceipts":
      heldReceipts = [];
      return {};
    case "releaseReceipts": {
      const held = heldReceipts ?? [];
      heldReceipts = undefined;
      const sender = current().dependencyManager.resolve(MessageSender);
      for (const receipt of held) await sender.sendMessage(receipt);
      return { released: held.length };
    }
    case "stop": {
      await agent?.shutdown();
      agent = undefined;
      setImmediate(() => process.exit(0));
      return {};
    }
  }
}

process.on("message", (raw: { id: number } & WalletCommand) => {
  run(raw).then(
    (result) => send({ id: raw.id, ok: true, result }),
    (error: unknown) =>
      send({
        id: raw.id,
        ok: false,
        error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error),
      }),
  );
});
process.on("disconnect", () => process.exit(0));
send({ event: "processReady" });
