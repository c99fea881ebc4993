import { randomUUID } from "node:crypto";

export const TRUST_PING_TYPE = "https://didcomm.org/trust_ping/1.0/ping";
export const TRUST_PING_RESPONSE_TYPE = "https://didcomm.org/trust_ping/1.0/ping_response";
export const BASIC_MESSAGE_TYPE = "https://didcomm.org/basicmessage/1.0/message";

/** RFC 0092: how the receiver may answer on the connection that carried this message. */
export type ReturnRoute = "all" | "thread" | "none";

export interface DidcommMessage {
  "@type": string;
  "@id": string;
  "~thread"?: { thid?: string; pthid?: string };
  "~transport"?: { return_route?: ReturnRoute };
  [field: string]: unknown;
}

export interface TrustPing extends DidcommMessage {
  "@type": typeof TRUST_PING_TYPE;
  response_requested: boolean;
  comment?: string;
}

export interface BasicMessage extends DidcommMessage {
  "@type": typeof BASIC_MESSAGE_TYPE;
  content: string;
  sent_time: string;
}

export function trustPing(
  opts: { responseRequested?: boolean; returnRoute?: ReturnRoute; comment?: string; id?: string } = {},
): TrustPing {
  const ping: TrustPing = {
    "@type": TRUST_PING_TYPE,
    "@id": opts.id ?? randomUUID(),
    response_requested: opts.responseRequested ?? true,
  };
  if (opts.comment !== undefined) ping.comment = opts.comment;
  if (opts.returnRoute) ping["~transport"] = { return_route: opts.returnRoute };
  return ping;
}

export function basicMessage(
  content: string,
  opts: { sentTime?: Date; returnRoute?: ReturnRoute; id?: string } = {},
): BasicMessage {
  const message: BasicMessage = {
    "@type": BASIC_MESSAGE_TYPE,
    "@id": opts.id ?? randomUUID(),
    content,
    sent_time: (opts.sentTime ?? new Date()).toISOString(),
  };
  if (opts.returnRoute) message["~transport"] = { return_route: opts.returnRoute };
  return message;
}

/** The thread a message belongs to: its `~thread.thid`, or its own `@id` when it starts one. */
export function threadId(message: DidcommMessage): string {
  return message["~thread"]?.thid ?? message["@id"];
}

export interface TrustPingResponse extends DidcommMessage {
  "@type": typeof TRUST_PING_RESPONSE_TYPE;
  "~thread": { thid: string };
}

/** The answer a responsive agent sends to a ping that had `response_requested`. */
export function trustPingResponse(ping: DidcommMessage, opts: { comment?: string } = {}): TrustPingResponse {
  const response: TrustPingResponse = {
    "@type": TRUST_PING_RESPONSE_TYPE,
    "@id": randomUUID(),
    "~thread": { thid: threadId(ping) },
  };
  if (opts.comment !== undefined) response.comment = opts.comment;
  return response;
}
