"""Writes askar-envelopes.json: envelopes packed by ACA-Py's own askar code path.

Run with ACA-Py's Python, from the repo root: .venv/bin/python packages/didcomm-test-agent/test-fixtures/make-askar-envelopes.py
The TypeScript unit tests unpack these without needing a running ACA-Py.
"""

import json
from pathlib import Path

from aries_askar import Key, KeyAlg

from acapy_agent.askar.didcomm.v1 import pack_message
from acapy_agent.wallet.util import bytes_to_b58

SENDER_SEED = b"00000000000000000000000000Sender"
RECIPIENT_SEED = b"000000000000000000000Recipient01"
OTHER_SEED = b"0000000000000000000000000Other01"


def key(seed: bytes) -> Key:
    # ACA-Py seeds Ed25519 keys as raw secret bytes (Key.from_seed would derive a different key).
    return Key.from_secret_bytes(KeyAlg.ED25519, seed)


sender, recipient, other = key(SENDER_SEED), key(RECIPIENT_SEED), key(OTHER_SEED)
vk = lambda k: bytes_to_b58(k.get_public_bytes())  # noqa: E731
message = json.dumps(
    {"@type": "https://didcomm.org/basicmessage/1.0/message", "@id": "fixture-1", "content": "héllo from askar"}
).encode()

fixture = {
    "seeds": {"sender": SENDER_SEED.decode(), "recipient": RECIPIENT_SEED.decode(), "other": OTHER_SEED.decode()},
    "verkeys": {"sender": vk(sender), "recipient": vk(recipient), "other": vk(other)},
    "message": message.decode(),
    "authcrypt": pack_message([vk(other), vk(recipient)], sender, message).decode(),
    "anoncrypt": pack_message([vk(recipient)], None, message).decode(),
}
Path(__file__).with_name("askar-envelopes.json").write_text(json.dumps(fixture, indent=2) + "\n")
