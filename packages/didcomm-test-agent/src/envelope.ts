/** The DIDComm v1 JWE as it travels on the wire (askar writes exactly these four fields). */
export interface JweEnvelope {
  /** base64url(JSON of {@link ProtectedHeader}); its ASCII bytes are also the AEAD's associated data. */
  protected: string;
  iv: string;
  ciphertext: string;
  tag: string;
  /** Not written by askar, but its reader accepts recipients outside the protected header too. */
  recipients?: JweRecipient[];
}

export interface ProtectedHeader {
  enc: "xchacha20poly1305_ietf";
  typ: "JWM/1.0";
  alg: "Authcrypt" | "Anoncrypt";
  recipients: JweRecipient[];
}

export interface JweRecipient {
  /** base64url of the CEK: crypto_box (authcrypt) or crypto_box_seal (anoncrypt) to the recipient. */
  encrypted_key: string;
  header: {
    /** The recipient's base58 Ed25519 verkey. */
    kid: string;
    /** Authcrypt only: base64url of crypto_box_seal(the sender's base58 verkey *as UTF-8 text*). */
    sender?: string;
    /** Authcrypt only: base64url of the 24-byte crypto_box nonce. */
    iv?: string;
  };
}

export const ENVELOPE_ENC = "xchacha20poly1305_ietf";
export const ENVELOPE_TYP = "JWM/1.0";
export const DIDCOMM_ENVELOPE_MEDIA_TYPE = "application/didcomm-envelope-enc";
