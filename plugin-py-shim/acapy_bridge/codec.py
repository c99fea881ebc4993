"""Encoding and decoding of envelopes, with a typed error for bad bytes."""

from google.protobuf.message import DecodeError, Message

from acapy_bridge.v1 import envelopes_pb2


class EnvelopeDecodeError(Exception):
    """An envelope read from Redis could not be decoded: truncated, garbage or incomplete."""

    def __init__(self, type_name: str, byte_length: int, reason: str):
        super().__init__(f"cannot decode {type_name} ({byte_length} bytes): {reason}")
        self.type_name = type_name
        self.byte_length = byte_length
        self.reason = reason


def _has_mid(m) -> bool:
    return bool(m.mid)


# Random bytes can parse as a protobuf full of unknown fields, so an envelope
# is only accepted when the field that identifies it is present.
_IDENTITY_CHECKS = {
    envelopes_pb2.AgentMessage.DESCRIPTOR.full_name: _has_mid,
    envelopes_pb2.DirectReply.DESCRIPTOR.full_name: _has_mid,
    envelopes_pb2.WalletMessage.DESCRIPTOR.full_name: _has_mid,
    envelopes_pb2.OutboundJob.DESCRIPTOR.full_name: _has_mid,
    envelopes_pb2.AgentEvent.DESCRIPTOR.full_name: _has_mid,
    envelopes_pb2.AdminRequest.DESCRIPTOR.full_name: _has_mid,
    envelopes_pb2.AdminResponse.DESCRIPTOR.full_name: _has_mid,
    envelopes_pb2.DeadLetter.DESCRIPTOR.full_name: _has_mid,
    envelopes_pb2.ParkedJob.DESCRIPTOR.full_name: lambda m: bool(m.job.mid),
    envelopes_pb2.RelayCommand.DESCRIPTOR.full_name: lambda m: m.WhichOneof("command") is not None,
    envelopes_pb2.WalletRoute.DESCRIPTOR.full_name: lambda m: bool(m.relay_id and m.socket_id),
}


def encode_envelope(message: Message) -> bytes:
    return message.SerializeToString()


def decode_envelope[M: Message](message_type: type[M], data: bytes) -> M:
    """Decodes an envelope or raises EnvelopeDecodeError; never returns a half-valid message."""
    message = message_type()
    type_name = message_type.DESCRIPTOR.full_name
    try:
        message.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as error:
        raise EnvelopeDecodeError(type_name, len(data), str(error)) from error
    message.DiscardUnknownFields()
    check = _IDENTITY_CHECKS.get(type_name)
    if check is not None and not check(message):
        raise EnvelopeDecodeError(type_name, len(data), "identifying field missing")
    return message
