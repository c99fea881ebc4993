import { type AdminClient, adminJson } from "./admin-client.js";

export interface ConnectionRecord {
  connection_id: string;
  state: string;
  their_label?: string;
  invitation_msg_id?: string;
}

/** The few admin calls a basic controller makes, as thin JSON wrappers over any AdminClient. */
export class AcaPyAdminCalls {
  constructor(readonly client: AdminClient) {}

  /** An out-of-band invitation with DID Exchange 1.1; returns the invitation and its URL. */
  async createInvitation(
    label: string,
  ): Promise<{ invitation: Record<string, unknown>; invitation_url: string; invi_msg_id: string }> {
    return adminJson(this.client, "POST", "/out-of-band/create-invitation?auto_accept=true", {
      handshake_protocols: ["https://didcomm.org/didexchange/1.1"],
      my_label: label,
      use_public_did: false,
    });
  }

  async connection(connectionId: string): Promise<ConnectionRecord> {
    return adminJson(this.client, "GET", `/connections/${encodeURIComponent(connectionId)}`);
  }

  async connections(query = ""): Promise<ConnectionRecord[]> {
    return (await adminJson<{ results: ConnectionRecord[] }>(this.client, "GET", `/connections${query}`)).results;
  }

  async sendMessage(connectionId: string, content: string): Promise<void> {
    await adminJson(this.client, "POST", `/connections/${encodeURIComponent(connectionId)}/send-message`, { content });
  }
}
