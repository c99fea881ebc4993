// A controller of ACA-Py that reaches it through Redis: it takes ACA-Py's events
// from the events streams (shared with its other instances through one consumer
// group) and makes admin calls through an AdminClient. This file is the part to
// copy; run.ts only starts a local deployment around it.
import { AcaPyAdminCalls, type AdminClient, type ControllerEvent, EventsConsumer } from "@acapy-bridge/controller";
import type { RedisConnectionConfig } from "@acapy-bridge/protocol";

export interface RedisControllerOptions {
  redis: RedisConnectionConfig;
  /** The deployment's key prefix (the shim's `prefix`). */
  prefix: string;
  /** One name per controller application: its instances share the events. */
  group: string;
  /** This instance's name, for the progress lines. */
  name: string;
  admin: AdminClient;
  /** Progress lines (console.log by default). */
  say?: (line: string) => void;
  /** Called once a connection is active, by whichever instance got the event. */
  onConnectionActive?: (connectionId: string, invitationMsgId: string | undefined) => void;
  /** Called after this instance answered a basic message. */
  onAnswered?: (connectionId: string, content: string) => void;
}

interface ConnectionPayload {
  connection_id: string;
  state?: string;
  invitation_msg_id?: string;
  their_label?: string;
}

interface BasicMessagePayload {
  connection_id: string;
  content: string;
  message_id?: string;
}

/** Answers every basic message with "you said: ..."; reports connections that became active. */
export class RedisController {
  private readonly admin: AcaPyAdminCalls;
  private readonly events: EventsConsumer;
  private readonly say: (line: string) => void;

  constructor(private readonly o: RedisControllerOptions) {
    this.admin = new AcaPyAdminCalls(o.admin);
    this.say = o.say ?? ((line) => console.log(line));
    this.events = new EventsConsumer({
      redis: o.redis,
      prefix: o.prefix,
      group: o.group,
      consumer: o.name,
      filter: { webhookTopics: ["connections", "basicmessages"] },
      // `ordered: true` would keep each connection's events in order across the instances
      // (one instance per events partition at a time); answering messages needs no order.
      handler: (event) => this.handle(event),
    });
  }

  async start(): Promise<void> {
    await this.events.start();
  }

  async stop(): Promise<void> {
    await this.events.stop();
  }

  /** A new out-of-band invitation (DID Exchange) for the other agent; returns its URL and message id. */
  async invite(label: string): Promise<{ url: string; invitationMsgId: string; invitation: Record<string, unknown> }> {
    const created = await this.admin.createInvitation(label);
    return { url: created.invitation_url, invitationMsgId: created.invi_msg_id, invitation: created.invitation };
  }

  /**
   * Called for each event; the event is acknowledged when this resolves, and
   * handed out again (here or to another instance) when it throws or this
   * instance dies first. So a handler may run twice for one event: answering
   * twice is acceptable for this example; a real controller records the
   * event's `mid` with its side effect to skip a second run.
   */
  private async handle(event: ControllerEvent): Promise<void> {
    if (event.webhookTopic === "connections") {
      const connection = event.payload as ConnectionPayload;
      if (connection.state === "active") {
        this.say(
          `  [${this.o.name}] connection ${connection.connection_id} is active (${connection.their_label ?? "?"})`,
        );
        this.o.onConnectionActive?.(connection.connection_id, connection.invitation_msg_id);
      }
      return;
    }
    if (event.webhookTopic === "basicmessages") {
      const message = event.payload as BasicMessagePayload;
      this.say(`  [${this.o.name}] received "${message.content}" on ${message.connection_id}`);
      await this.admin.sendMessage(message.connection_id, `you said: ${message.content}`);
      this.o.onAnswered?.(message.connection_id, message.content);
    }
  }
}
