"""Which wallet session (relay, socket, epoch) an inbound message came on, for the pickup handlers.

The inbound transport records it right after `session.receive()` returns, before anything awaits,
so before ACA-Py's dispatcher runs the handler (the dispatch is a task created inside receive).
The handler finds it by the message's receipt, the object ACA-Py hands it as
`context.message_receipt`. Weak keys: a receipt nobody holds any more takes its entry with it.
"""

import weakref

from acapy_bridge.v1 import envelopes_pb2 as pb

_SESSIONS: "weakref.WeakKeyDictionary[object, pb.WalletRoute]" = weakref.WeakKeyDictionary()


def remember_session(receipt, relay_id: str, socket_id: str, epoch: int) -> None:
    if receipt is None or not socket_id:
        return
    try:
        _SESSIONS[receipt] = pb.WalletRoute(relay_id=relay_id, socket_id=socket_id, epoch=epoch)
    except TypeError:  # a receipt that cannot be weakly referenced: the handler sees no session
        pass


def session_of(receipt) -> pb.WalletRoute | None:
    """The WebSocket session the message came on; None for HTTP or another transport."""
    if receipt is None:
        return None
    try:
        return _SESSIONS.get(receipt)
    except TypeError:
        return None
