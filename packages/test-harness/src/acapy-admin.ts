import { waitFor } from "./wait-for.js";

/** A thin client of ACA-Py's admin API, for tests. */
export class AcaPyAdmin {
  constructor(readonly baseUrl: string) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** An out-of-band invitation with DID Exchange 1.1. */
  async createInvitation(label: string): Promise<Record<string, unknown>> {
    const result = await this.request<{ invitation: Record<string, unknown> }>(
      "POST",
      "/out-of-band/create-invitation?auto_accept=true",
      { handshake_protocols: ["https://didcomm.org/didexchange/1.1"], my_label: label, use_public_did: false },
    );
    return result.invitation;
  }

  async receiveInvitation(invitation: Record<string, unknown>): Promise<string> {
    const record = await this.request<{ connection_id: string }>(
      "POST",
      "/out-of-band/receive-invitation?auto_accept=true",
      invitation,
    );
    return record.connection_id;
  }

  async connection(connectionId: string): Promise<{ state: string; connection_id: string }> {
    return this.request("GET", `/connections/${connectionId}`);
  }

  async activeConnections(): Promise<{ connection_id: string; their_label?: string }[]> {
    return (await this.request<{ results: { connection_id: string }[] }>("GET", "/connections?state=active")).results;
  }

  async waitForActive(connectionId: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `connection ${connectionId} active at ${this.baseUrl}`,
      async () => (await this.connection(connectionId)).state === "active",
      timeoutMs,
      250,
    );
  }

  /** The agent's side of the connection made from its invitation `invitationId`, once active. */
  connectionFromInvitation(invitationId: string, timeoutMs = 60_000): Promise<string> {
    return waitFor(
      `the connection from invitation ${invitationId} at ${this.baseUrl}`,
      async () => {
        const list = await this.request<{ results: { connection_id: string; state: string }[] }>(
          "GET",
          `/connections?invitation_msg_id=${invitationId}`,
        );
        return list.results.find((c) => c.state === "active" || c.state === "completed")?.connection_id;
      },
      timeoutMs,
      200,
    );
  }

  async sendMessage(connectionId: string, content: string): Promise<void> {
    await this.request("POST", `/connections/${connectionId}/send-message`, { content });
  }

  async sendPing(connectionId: string, comment = "ping"): Promise<string> {
    return (await this.request<{ thread_id: string }>("POST", `/connections/${connectionId}/send-ping`, { comment }))
      .thread_id;
  }
}

/**
 * Connects `inviter` and `invitee` by out-of-band invitation and DID Exchange;
 * returns both connection ids once both sides are active.
 */
export async function connectAgents(
  inviter: AcaPyAdmin,
  invitee: AcaPyAdmin,
  timeoutMs = 60_000,
): Promise<{ inviterConnectionId: string; inviteeConnectionId: string }> {
  const invitation = await inviter.createInvitation("inviter");
  const inviteeConnectionId = await invitee.receiveInvitation(invitation);
  await invitee.waitForActive(inviteeConnectionId, timeoutMs);
  const invitationId = invitation["@id"] as string;
  const inviterConnectionId = await waitFor(
    "inviter's side of the connection",
    async () => {
      const list = await inviter.request<{ results: { connection_id: string; state: string }[] }>(
        "GET",
        `/connections?invitation_msg_id=${invitationId}`,
      );
      return list.results.find((c) => c.state === "active")?.connection_id;
    },
    timeoutMs,
    250,
  );
  return { inviterConnectionId, inviteeConnectionId };
}
