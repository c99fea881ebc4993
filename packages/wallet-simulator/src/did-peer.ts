import { toBase64Url, verkeyToDidKey, verkeyToX25519 } from "@acapy-bridge/didcomm-test-agent";
import bs58 from "bs58";

/** A DIDComm v1 service of a did:peer:2 DID (keys are references like "#key-1" or did:keys). */
export interface PeerService {
  serviceEndpoint: string;
  recipientKeys?: string[];
  routingKeys?: string[];
}

const ABBREVIATIONS: Record<string, string> = {
  type: "t",
  DIDCommMessaging: "dm",
  serviceEndpoint: "s",
  routingKeys: "r",
  accept: "a",
};
const EXPANSIONS = Object.fromEntries(Object.entries(ABBREVIATIONS).map(([k, v]) => [v, k]));

/** "z6Mk..." multikey of an Ed25519 verkey (the did:key body). */
export function ed25519Multikey(verkey: string): string {
  return verkeyToDidKey(verkey).slice("did:key:".length);
}

/** "z6LS..." multikey of the X25519 twin of an Ed25519 verkey. */
export function x25519Multikey(verkey: string): string {
  const raw = verkeyToX25519(verkey);
  return `z${bs58.encode(Uint8Array.from([0xec, 0x01, ...raw]))}`;
}

/**
 * did:peer:2 with the verkey for authentication (#key-1), its X25519 twin for key agreement
 * (#key-2) and one DIDComm v1 service, encoded as ACA-Py's did_peer_2 library does.
 */
export function createPeerDid2(verkey: string, service: PeerService): string {
  const svc = {
    id: "#didcomm-0",
    t: "did-communication",
    priority: 0,
    recipientKeys: service.recipientKeys ?? ["#key-1"],
    r: service.routingKeys ?? [],
    s: service.serviceEndpoint,
  };
  const encoded = toBase64Url(new TextEncoder().encode(JSON.stringify(svc)));
  return `did:peer:2.V${ed25519Multikey(verkey)}.E${x25519Multikey(verkey)}.S${encoded}`;
}

/** The authentication verkey and services of a did:peer:2 DID. */
export function parsePeerDid2(did: string): { verkey: string; services: PeerService[] } {
  if (!did.startsWith("did:peer:2.")) throw new Error(`not a did:peer:2: ${did.slice(0, 40)}`);
  let verkey = "";
  const services: PeerService[] = [];
  for (const element of did.slice("did:peer:2.".length).split(".")) {
    const purpose = element[0];
    const value = element.slice(1);
    if (purpose === "V" && !verkey) {
      const bytes = bs58.decode(value.slice(1));
      verkey = bs58.encode(bytes.subarray(2));
    } else if (purpose === "S") {
      const json = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Record<string, unknown>;
      const expanded = Object.fromEntries(Object.entries(json).map(([k, v]) => [EXPANSIONS[k] ?? k, v]));
      services.push(expanded as unknown as PeerService);
    }
  }
  if (!verkey) throw new Error("did:peer:2 without an authentication key");
  return { verkey, services };
}
