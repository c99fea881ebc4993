"""DIDComm v1 pack/unpack with Askar, exactly as ACA-Py does it, for the relay's return-route tests.

python didcomm_pack.py keygen                       -> {"secret": b58, "verkey": b58, "did": b58}
python didcomm_pack.py pack <secret> <their_verkey>  (stdin: plaintext JSON) -> stdout: JWE
python didcomm_pack.py unpack <secret>               (stdin: JWE) -> stdout: plaintext JSON
"""

import json
import sys

from acapy_agent.askar.didcomm.v1 import (
    _extract_payload_key,
    extract_pack_recipients,
    pack_message,
)
from acapy_agent.utils.jwe import JweEnvelope
from acapy_agent.wallet.util import b58_to_bytes, bytes_to_b58
from aries_askar import Key, KeyAlg


def main() -> None:
    command = sys.argv[1]
    if command == "keygen":
        key = Key.generate(KeyAlg.ED25519)
        verkey = key.get_public_bytes()
        print(
            json.dumps(
                {
                    "secret": bytes_to_b58(key.get_secret_bytes()),
                    "verkey": bytes_to_b58(verkey),
                    "did": bytes_to_b58(verkey[:16]),
                }
            )
        )
    elif command == "pack":
        key = Key.from_secret_bytes(KeyAlg.ED25519, b58_to_bytes(sys.argv[2]))
        sys.stdout.buffer.write(
            pack_message([sys.argv[3]], key, sys.stdin.buffer.read())
        )
    elif command == "unpack":
        key = Key.from_secret_bytes(KeyAlg.ED25519, b58_to_bytes(sys.argv[2]))
        wrapper = JweEnvelope.from_json(sys.stdin.buffer.read())
        sender_cek = next(iter(extract_pack_recipients(wrapper.recipients).values()))
        cek, _sender = _extract_payload_key(sender_cek, key)
        content = Key.from_secret_bytes(KeyAlg.C20P, cek).aead_decrypt(
            wrapper.ciphertext,
            nonce=wrapper.iv,
            tag=wrapper.tag,
            aad=wrapper.protected_bytes,
        )
        sys.stdout.buffer.write(bytes(content))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
