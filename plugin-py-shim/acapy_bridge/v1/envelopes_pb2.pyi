from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Transport(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSPORT_UNSPECIFIED: _ClassVar[Transport]
    TRANSPORT_HTTP: _ClassVar[Transport]
    TRANSPORT_WEBSOCKET: _ClassVar[Transport]

class InboundKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INBOUND_KIND_UNSPECIFIED: _ClassVar[InboundKind]
    INBOUND_KIND_AGENT_MESSAGE: _ClassVar[InboundKind]
    INBOUND_KIND_RETURNED_REPLY: _ClassVar[InboundKind]
    INBOUND_KIND_SOCKET_CLOSED: _ClassVar[InboundKind]

class JobKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_KIND_UNSPECIFIED: _ClassVar[JobKind]
    JOB_KIND_DIDCOMM: _ClassVar[JobKind]
    JOB_KIND_WEBHOOK: _ClassVar[JobKind]
    JOB_KIND_PUSH: _ClassVar[JobKind]

class PushPlatform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUSH_PLATFORM_UNSPECIFIED: _ClassVar[PushPlatform]
    PUSH_PLATFORM_FCM: _ClassVar[PushPlatform]
    PUSH_PLATFORM_APNS: _ClassVar[PushPlatform]

class DeadLetterReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAD_LETTER_REASON_UNSPECIFIED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_MALFORMED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_EXPIRED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_REJECTED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_INVALID_ENDPOINT: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_UNSUPPORTED_SCHEME: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_POISON: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_MAILBOX_FULL: _ClassVar[DeadLetterReason]
TRANSPORT_UNSPECIFIED: Transport
TRANSPORT_HTTP: Transport
TRANSPORT_WEBSOCKET: Transport
INBOUND_KIND_UNSPECIFIED: InboundKind
INBOUND_KIND_AGENT_MESSAGE: InboundKind
INBOUND_KIND_RETURNED_REPLY: InboundKind
INBOUND_KIND_SOCKET_CLOSED: InboundKind
JOB_KIND_UNSPECIFIED: JobKind
JOB_KIND_DIDCOMM: JobKind
JOB_KIND_WEBHOOK: JobKind
JOB_KIND_PUSH: JobKind
PUSH_PLATFORM_UNSPECIFIED: PushPlatform
PUSH_PLATFORM_FCM: PushPlatform
PUSH_PLATFORM_APNS: PushPlatform
DEAD_LETTER_REASON_UNSPECIFIED: DeadLetterReason
DEAD_LETTER_REASON_MALFORMED: DeadLetterReason
DEAD_LETTER_REASON_EXPIRED: DeadLetterReason
DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED: DeadLetterReason
DEAD_LETTER_REASON_REJECTED: DeadLetterReason
DEAD_LETTER_REASON_INVALID_ENDPOINT: DeadLetterReason
DEAD_LETTER_REASON_UNSUPPORTED_SCHEME: DeadLetterReason
DEAD_LETTER_REASON_POISON: DeadLetterReason
DEAD_LETTER_REASON_MAILBOX_FULL: DeadLetterReason

class AgentMessage(_message.Message):
    __slots__ = ("mid", "kind", "recipient_key", "content_type", "body", "received_at_ms", "expires_at_ms", "transport", "relay_id", "request_id", "socket_id", "remote_address", "returned_reply", "session_epoch")
    MID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    RELAY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SOCKET_ID_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    RETURNED_REPLY_FIELD_NUMBER: _ClassVar[int]
    SESSION_EPOCH_FIELD_NUMBER: _ClassVar[int]
    mid: str
    kind: InboundKind
    recipient_key: str
    content_type: str
    body: bytes
    received_at_ms: int
    expires_at_ms: int
    transport: Transport
    relay_id: str
    request_id: str
    socket_id: str
    remote_address: str
    returned_reply: DirectReply
    session_epoch: int
    def __init__(self, mid: _Optional[str] = ..., kind: _Optional[_Union[InboundKind, str]] = ..., recipient_key: _Optional[str] = ..., content_type: _Optional[str] = ..., body: _Optional[bytes] = ..., received_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., transport: _Optional[_Union[Transport, str]] = ..., relay_id: _Optional[str] = ..., request_id: _Optional[str] = ..., socket_id: _Optional[str] = ..., remote_address: _Optional[str] = ..., returned_reply: _Optional[_Union[DirectReply, _Mapping]] = ..., session_epoch: _Optional[int] = ...) -> None: ...

class DirectReply(_message.Message):
    __slots__ = ("mid", "request_id", "socket_id", "status", "content_type", "body", "reply_to_verkey", "connection_id", "error", "wallet_id")
    MID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SOCKET_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_VERKEY_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    mid: str
    request_id: str
    socket_id: str
    status: int
    content_type: str
    body: bytes
    reply_to_verkey: str
    connection_id: str
    error: str
    wallet_id: str
    def __init__(self, mid: _Optional[str] = ..., request_id: _Optional[str] = ..., socket_id: _Optional[str] = ..., status: _Optional[int] = ..., content_type: _Optional[str] = ..., body: _Optional[bytes] = ..., reply_to_verkey: _Optional[str] = ..., connection_id: _Optional[str] = ..., error: _Optional[str] = ..., wallet_id: _Optional[str] = ...) -> None: ...

class WalletMessage(_message.Message):
    __slots__ = ("mid", "recipient_key", "content_type", "body", "created_at_ms", "expires_at_ms", "held_in_mailbox")
    MID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    HELD_IN_MAILBOX_FIELD_NUMBER: _ClassVar[int]
    mid: str
    recipient_key: str
    content_type: str
    body: bytes
    created_at_ms: int
    expires_at_ms: int
    held_in_mailbox: bool
    def __init__(self, mid: _Optional[str] = ..., recipient_key: _Optional[str] = ..., content_type: _Optional[str] = ..., body: _Optional[bytes] = ..., created_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., held_in_mailbox: _Optional[bool] = ...) -> None: ...

class SocketPush(_message.Message):
    __slots__ = ("socket_id", "route_epoch", "hop", "message")
    SOCKET_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    HOP_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    socket_id: str
    route_epoch: int
    hop: int
    message: WalletMessage
    def __init__(self, socket_id: _Optional[str] = ..., route_epoch: _Optional[int] = ..., hop: _Optional[int] = ..., message: _Optional[_Union[WalletMessage, _Mapping]] = ...) -> None: ...

class CloseSocket(_message.Message):
    __slots__ = ("socket_id", "code", "reason")
    SOCKET_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    socket_id: str
    code: int
    reason: str
    def __init__(self, socket_id: _Optional[str] = ..., code: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class RelayCommand(_message.Message):
    __slots__ = ("reply", "push", "close")
    REPLY_FIELD_NUMBER: _ClassVar[int]
    PUSH_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    reply: DirectReply
    push: SocketPush
    close: CloseSocket
    def __init__(self, reply: _Optional[_Union[DirectReply, _Mapping]] = ..., push: _Optional[_Union[SocketPush, _Mapping]] = ..., close: _Optional[_Union[CloseSocket, _Mapping]] = ...) -> None: ...

class WalletRoute(_message.Message):
    __slots__ = ("relay_id", "socket_id", "epoch", "registered_at_ms")
    RELAY_ID_FIELD_NUMBER: _ClassVar[int]
    SOCKET_ID_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    relay_id: str
    socket_id: str
    epoch: int
    registered_at_ms: int
    def __init__(self, relay_id: _Optional[str] = ..., socket_id: _Optional[str] = ..., epoch: _Optional[int] = ..., registered_at_ms: _Optional[int] = ...) -> None: ...

class WalletPickup(_message.Message):
    __slots__ = ("version", "live_delivery", "live_session", "updated_at_ms")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIVE_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    LIVE_SESSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    version: int
    live_delivery: bool
    live_session: WalletRoute
    updated_at_ms: int
    def __init__(self, version: _Optional[int] = ..., live_delivery: _Optional[bool] = ..., live_session: _Optional[_Union[WalletRoute, _Mapping]] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class WalletPushDevice(_message.Message):
    __slots__ = ("platform", "token", "device_platform", "connection_id", "set_at_ms")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    DEVICE_PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SET_AT_MS_FIELD_NUMBER: _ClassVar[int]
    platform: PushPlatform
    token: str
    device_platform: str
    connection_id: str
    set_at_ms: int
    def __init__(self, platform: _Optional[_Union[PushPlatform, str]] = ..., token: _Optional[str] = ..., device_platform: _Optional[str] = ..., connection_id: _Optional[str] = ..., set_at_ms: _Optional[int] = ...) -> None: ...

class PushNotification(_message.Message):
    __slots__ = ("wallet_key", "device", "mailbox_depth")
    WALLET_KEY_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    wallet_key: str
    device: bytes
    mailbox_depth: int
    def __init__(self, wallet_key: _Optional[str] = ..., device: _Optional[bytes] = ..., mailbox_depth: _Optional[int] = ...) -> None: ...

class OutboundJob(_message.Message):
    __slots__ = ("mid", "kind", "recipient_key", "endpoint", "content_type", "body", "headers", "created_at_ms", "expires_at_ms", "wallet_id", "connection_id", "recipient_keys", "routing_keys", "producer_id")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_KEY_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_KEYS_FIELD_NUMBER: _ClassVar[int]
    ROUTING_KEYS_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_ID_FIELD_NUMBER: _ClassVar[int]
    mid: str
    kind: JobKind
    recipient_key: str
    endpoint: str
    content_type: str
    body: bytes
    headers: _containers.ScalarMap[str, str]
    created_at_ms: int
    expires_at_ms: int
    wallet_id: str
    connection_id: str
    recipient_keys: _containers.RepeatedScalarFieldContainer[str]
    routing_keys: _containers.RepeatedScalarFieldContainer[str]
    producer_id: str
    def __init__(self, mid: _Optional[str] = ..., kind: _Optional[_Union[JobKind, str]] = ..., recipient_key: _Optional[str] = ..., endpoint: _Optional[str] = ..., content_type: _Optional[str] = ..., body: _Optional[bytes] = ..., headers: _Optional[_Mapping[str, str]] = ..., created_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., wallet_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., recipient_keys: _Optional[_Iterable[str]] = ..., routing_keys: _Optional[_Iterable[str]] = ..., producer_id: _Optional[str] = ...) -> None: ...

class ParkedJob(_message.Message):
    __slots__ = ("attempts", "last_error", "first_attempt_at_ms", "job")
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FIRST_ATTEMPT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    last_error: str
    first_attempt_at_ms: int
    job: OutboundJob
    def __init__(self, attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., first_attempt_at_ms: _Optional[int] = ..., job: _Optional[_Union[OutboundJob, _Mapping]] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("mid", "reason", "detail", "attempts", "dead_at_ms", "source_key", "instance_id", "agent_message", "outbound_job", "wallet_message", "undecodable")
    MID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DEAD_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KEY_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_JOB_FIELD_NUMBER: _ClassVar[int]
    WALLET_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UNDECODABLE_FIELD_NUMBER: _ClassVar[int]
    mid: str
    reason: DeadLetterReason
    detail: str
    attempts: int
    dead_at_ms: int
    source_key: str
    instance_id: str
    agent_message: AgentMessage
    outbound_job: OutboundJob
    wallet_message: WalletMessage
    undecodable: bytes
    def __init__(self, mid: _Optional[str] = ..., reason: _Optional[_Union[DeadLetterReason, str]] = ..., detail: _Optional[str] = ..., attempts: _Optional[int] = ..., dead_at_ms: _Optional[int] = ..., source_key: _Optional[str] = ..., instance_id: _Optional[str] = ..., agent_message: _Optional[_Union[AgentMessage, _Mapping]] = ..., outbound_job: _Optional[_Union[OutboundJob, _Mapping]] = ..., wallet_message: _Optional[_Union[WalletMessage, _Mapping]] = ..., undecodable: _Optional[bytes] = ...) -> None: ...

class AgentEvent(_message.Message):
    __slots__ = ("mid", "topic", "webhook_topic", "wallet_id", "payload_json", "created_at_ms", "ordering_key")
    MID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_TOPIC_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ORDERING_KEY_FIELD_NUMBER: _ClassVar[int]
    mid: str
    topic: str
    webhook_topic: str
    wallet_id: str
    payload_json: bytes
    created_at_ms: int
    ordering_key: str
    def __init__(self, mid: _Optional[str] = ..., topic: _Optional[str] = ..., webhook_topic: _Optional[str] = ..., wallet_id: _Optional[str] = ..., payload_json: _Optional[bytes] = ..., created_at_ms: _Optional[int] = ..., ordering_key: _Optional[str] = ...) -> None: ...

class AdminRequest(_message.Message):
    __slots__ = ("mid", "method", "path", "headers", "body", "wallet_id", "reply_to", "request_id", "expires_at_ms")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    mid: str
    method: str
    path: str
    headers: _containers.ScalarMap[str, str]
    body: bytes
    wallet_id: str
    reply_to: str
    request_id: str
    expires_at_ms: int
    def __init__(self, mid: _Optional[str] = ..., method: _Optional[str] = ..., path: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., body: _Optional[bytes] = ..., wallet_id: _Optional[str] = ..., reply_to: _Optional[str] = ..., request_id: _Optional[str] = ..., expires_at_ms: _Optional[int] = ...) -> None: ...

class AdminHeader(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class AdminResponse(_message.Message):
    __slots__ = ("mid", "request_id", "status", "headers", "body", "instance_id", "duration_ms")
    MID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    mid: str
    request_id: str
    status: int
    headers: _containers.RepeatedCompositeFieldContainer[AdminHeader]
    body: bytes
    instance_id: str
    duration_ms: int
    def __init__(self, mid: _Optional[str] = ..., request_id: _Optional[str] = ..., status: _Optional[int] = ..., headers: _Optional[_Iterable[_Union[AdminHeader, _Mapping]]] = ..., body: _Optional[bytes] = ..., instance_id: _Optional[str] = ..., duration_ms: _Optional[int] = ...) -> None: ...

class InstanceInfo(_message.Message):
    __slots__ = ("instance_id", "role", "hostname", "pid", "started_at_ms", "version", "listeners")
    class ListenersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    role: str
    hostname: str
    pid: int
    started_at_ms: int
    version: str
    listeners: _containers.ScalarMap[str, str]
    def __init__(self, instance_id: _Optional[str] = ..., role: _Optional[str] = ..., hostname: _Optional[str] = ..., pid: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., version: _Optional[str] = ..., listeners: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Topology(_message.Message):
    __slots__ = ("inbound_partitions", "outbound_partitions", "event_partitions", "admin_partitions", "created_at_ms")
    INBOUND_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    EVENT_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    inbound_partitions: int
    outbound_partitions: int
    event_partitions: int
    admin_partitions: int
    created_at_ms: int
    def __init__(self, inbound_partitions: _Optional[int] = ..., outbound_partitions: _Optional[int] = ..., event_partitions: _Optional[int] = ..., admin_partitions: _Optional[int] = ..., created_at_ms: _Optional[int] = ...) -> None: ...
