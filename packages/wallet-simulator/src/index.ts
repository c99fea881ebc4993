export { createPeerDid2, ed25519Multikey, type PeerService, parsePeerDid2, x25519Multikey } from "./did-peer.js";
export {
  DIDEXCHANGE,
  MEDIATION,
  MobileWallet,
  type OobInvitation,
  type Peer,
  QUEUE_ENDPOINT,
  type Received,
} from "./mobile-wallet.js";
