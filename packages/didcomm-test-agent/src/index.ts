export type { CreateStaticConnectionRequest, CreateStaticConnectionResult, StaticConnection } from "./acapy-admin.js";
export { AcaPyAdmin, AcaPyAdminError, connectStatic } from "./acapy-admin.js";
export { didKeyToVerkey, toVerkey, verkeyToDidKey } from "./did-key.js";
export { fromBase64Url, toBase64Url } from "./encoding.js";
export type { JweEnvelope, JweRecipient, ProtectedHeader } from "./envelope.js";
export { DIDCOMM_ENVELOPE_MEDIA_TYPE } from "./envelope.js";
export { packEnvelope, serializeEnvelope } from "./envelope-pack.js";
export type { UnpackedEnvelope } from "./envelope-unpack.js";
export { DidcommUnpackError, unpackEnvelope } from "./envelope-unpack.js";
export type { ForwardMessage } from "./forward.js";
export { FORWARD_TYPE, forwardMessage, wrapInForwards } from "./forward.js";
export type { KeyPair } from "./keys.js";
export { bytesToVerkey, generateKeyPair, verkeyToBytes, verkeyToDid, verkeyToX25519 } from "./keys.js";
export type { BasicMessage, DidcommMessage, ReturnRoute, TrustPing, TrustPingResponse } from "./messages.js";
export {
  BASIC_MESSAGE_TYPE,
  basicMessage,
  TRUST_PING_RESPONSE_TYPE,
  TRUST_PING_TYPE,
  threadId,
  trustPing,
  trustPingResponse,
} from "./messages.js";
export { initDidcomm } from "./sodium.js";
export type { DidcommDestination, HttpExchange, PackOptions, UnpackedMessage } from "./test-agent.js";
export { TestAgent } from "./test-agent.js";
export type { HttpDelivery } from "./transports.js";
export { DidcommWebSocket, exchangeOverWebSocket, HttpInbox, postEnvelope } from "./transports.js";
