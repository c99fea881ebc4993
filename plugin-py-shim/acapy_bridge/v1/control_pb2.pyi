from acapy_bridge.v1 import envelopes_pb2 as _envelopes_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueueFamily(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUEUE_FAMILY_UNSPECIFIED: _ClassVar[QueueFamily]
    QUEUE_FAMILY_INBOUND: _ClassVar[QueueFamily]
    QUEUE_FAMILY_OUTBOUND: _ClassVar[QueueFamily]
QUEUE_FAMILY_UNSPECIFIED: QueueFamily
QUEUE_FAMILY_INBOUND: QueueFamily
QUEUE_FAMILY_OUTBOUND: QueueFamily

class ListPartitionsRequest(_message.Message):
    __slots__ = ("family",)
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    family: QueueFamily
    def __init__(self, family: _Optional[_Union[QueueFamily, str]] = ...) -> None: ...

class PartitionStatus(_message.Message):
    __slots__ = ("family", "partition", "key", "backlog", "pending", "lag", "dead_letters", "parked_recipients", "lease_holder")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    PARKED_RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    LEASE_HOLDER_FIELD_NUMBER: _ClassVar[int]
    family: QueueFamily
    partition: int
    key: str
    backlog: int
    pending: int
    lag: int
    dead_letters: int
    parked_recipients: int
    lease_holder: str
    def __init__(self, family: _Optional[_Union[QueueFamily, str]] = ..., partition: _Optional[int] = ..., key: _Optional[str] = ..., backlog: _Optional[int] = ..., pending: _Optional[int] = ..., lag: _Optional[int] = ..., dead_letters: _Optional[int] = ..., parked_recipients: _Optional[int] = ..., lease_holder: _Optional[str] = ...) -> None: ...

class ListPartitionsResponse(_message.Message):
    __slots__ = ("partitions",)
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    partitions: _containers.RepeatedCompositeFieldContainer[PartitionStatus]
    def __init__(self, partitions: _Optional[_Iterable[_Union[PartitionStatus, _Mapping]]] = ...) -> None: ...

class ListInstancesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListInstancesResponse(_message.Message):
    __slots__ = ("instances", "last_heartbeat_ms")
    class LastHeartbeatMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_MS_FIELD_NUMBER: _ClassVar[int]
    instances: _containers.RepeatedCompositeFieldContainer[_envelopes_pb2.InstanceInfo]
    last_heartbeat_ms: _containers.ScalarMap[str, int]
    def __init__(self, instances: _Optional[_Iterable[_Union[_envelopes_pb2.InstanceInfo, _Mapping]]] = ..., last_heartbeat_ms: _Optional[_Mapping[str, int]] = ...) -> None: ...

class DeadLetterEntry(_message.Message):
    __slots__ = ("entry_id", "partition", "dead_letter")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    partition: int
    dead_letter: _envelopes_pb2.DeadLetter
    def __init__(self, entry_id: _Optional[str] = ..., partition: _Optional[int] = ..., dead_letter: _Optional[_Union[_envelopes_pb2.DeadLetter, _Mapping]] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("family", "limit", "show_secrets")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SHOW_SECRETS_FIELD_NUMBER: _ClassVar[int]
    family: QueueFamily
    limit: int
    show_secrets: bool
    def __init__(self, family: _Optional[_Union[QueueFamily, str]] = ..., limit: _Optional[int] = ..., show_secrets: _Optional[bool] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[DeadLetterEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[DeadLetterEntry, _Mapping]]] = ...) -> None: ...

class DeadLetterRef(_message.Message):
    __slots__ = ("family", "partition", "entry_id")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    family: QueueFamily
    partition: int
    entry_id: str
    def __init__(self, family: _Optional[_Union[QueueFamily, str]] = ..., partition: _Optional[int] = ..., entry_id: _Optional[str] = ...) -> None: ...

class RequeueDeadLettersRequest(_message.Message):
    __slots__ = ("refs",)
    REFS_FIELD_NUMBER: _ClassVar[int]
    refs: _containers.RepeatedCompositeFieldContainer[DeadLetterRef]
    def __init__(self, refs: _Optional[_Iterable[_Union[DeadLetterRef, _Mapping]]] = ...) -> None: ...

class RequeueDeadLettersResponse(_message.Message):
    __slots__ = ("requeued",)
    REQUEUED_FIELD_NUMBER: _ClassVar[int]
    requeued: int
    def __init__(self, requeued: _Optional[int] = ...) -> None: ...

class DropDeadLettersRequest(_message.Message):
    __slots__ = ("refs",)
    REFS_FIELD_NUMBER: _ClassVar[int]
    refs: _containers.RepeatedCompositeFieldContainer[DeadLetterRef]
    def __init__(self, refs: _Optional[_Iterable[_Union[DeadLetterRef, _Mapping]]] = ...) -> None: ...

class DropDeadLettersResponse(_message.Message):
    __slots__ = ("dropped",)
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    dropped: int
    def __init__(self, dropped: _Optional[int] = ...) -> None: ...

class GetWalletRequest(_message.Message):
    __slots__ = ("recipient_key",)
    RECIPIENT_KEY_FIELD_NUMBER: _ClassVar[int]
    recipient_key: str
    def __init__(self, recipient_key: _Optional[str] = ...) -> None: ...

class GetWalletResponse(_message.Message):
    __slots__ = ("route", "relay_alive", "mailbox_depth")
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    RELAY_ALIVE_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    route: _envelopes_pb2.WalletRoute
    relay_alive: bool
    mailbox_depth: int
    def __init__(self, route: _Optional[_Union[_envelopes_pb2.WalletRoute, _Mapping]] = ..., relay_alive: _Optional[bool] = ..., mailbox_depth: _Optional[int] = ...) -> None: ...
