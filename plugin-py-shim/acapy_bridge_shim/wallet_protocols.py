"""What the shim's DIDComm protocols for mediated wallets (Message Pickup, push device info) share.

Their messages are ACA-Py AgentMessages declared the same way (`message_meta`, `LenientSchema`),
and their handlers find the process's BridgeRuntime and the wallet the same way: the wallet is the
authcrypt sender, whose connection key is the key its mailbox, route and device are kept under.
"""

from acapy_agent.messaging.agent_message import AgentMessageSchema
from acapy_agent.messaging.base_handler import BaseResponder, HandlerException, RequestContext
from marshmallow import EXCLUDE


def message_meta(handlers_module: str, name: str, message_type: str, handler: str | None = None):
    """The `Meta` of an AgentMessage `name`: its type, `{name}Schema`, and its handler if it has one."""
    attributes = {"message_type": message_type, "schema_class": f"{name}Schema"}
    if handler:
        attributes["handler_class"] = f"{handlers_module}.{handler}"
    return type("Meta", (), attributes)


class LenientSchema(AgentMessageSchema):
    """Fields a newer version of the protocol adds are ignored, not refused."""

    class Meta:
        unknown = EXCLUDE


async def connected_runtime(context: RequestContext):
    """The process's BridgeRuntime, connected to Redis."""
    from acapy_bridge_shim.runtime import BridgeRuntime

    runtime = context.inject_or(BridgeRuntime)
    if runtime is None:
        raise HandlerException("acapy-bridge: no BridgeRuntime (is --plugin acapy_bridge_shim loaded?)")
    await runtime.connect()
    return runtime


def sender_wallet_key(context: RequestContext, purpose: str) -> str:
    """The wallet that sent the message (authcrypt sender key); `purpose` completes the error."""
    sender = context.message_receipt.sender_verkey if context.message_receipt else None
    if not sender:
        raise HandlerException(f"{context.message._type}: not authcrypted; no wallet to {purpose}")
    return sender


async def reply_in_thread(context: RequestContext, responder: BaseResponder, reply) -> None:
    """Answers the message being handled, in its thread."""
    reply.assign_thread_from(context.message)
    await responder.send_reply(reply)
