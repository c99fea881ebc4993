from acapy_bridge.v1 import envelopes_pb2 as _envelopes_pb2
from acapy_bridge.v1 import keyspace_options_pb2 as _keyspace_options_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WalletCount(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WALLET_COUNT_UNSPECIFIED: _ClassVar[WalletCount]
    WALLET_COUNT_MAILBOX_IN: _ClassVar[WalletCount]
    WALLET_COUNT_MAILBOX_OUT: _ClassVar[WalletCount]
    WALLET_COUNT_ROUTE_REGISTERED: _ClassVar[WalletCount]
    WALLET_COUNT_ROUTE_REPLACED: _ClassVar[WalletCount]
    WALLET_COUNT_ROUTE_CLEARED: _ClassVar[WalletCount]

class Liveness(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIVENESS_UNSPECIFIED: _ClassVar[Liveness]
    LIVENESS_HEARTBEAT_MS: _ClassVar[Liveness]
    LIVENESS_DEAD_AFTER_MS: _ClassVar[Liveness]

class MailboxDrain(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MAILBOX_DRAIN_UNSPECIFIED: _ClassVar[MailboxDrain]
    MAILBOX_DRAIN_BATCH: _ClassVar[MailboxDrain]
WALLET_COUNT_UNSPECIFIED: WalletCount
WALLET_COUNT_MAILBOX_IN: WalletCount
WALLET_COUNT_MAILBOX_OUT: WalletCount
WALLET_COUNT_ROUTE_REGISTERED: WalletCount
WALLET_COUNT_ROUTE_REPLACED: WalletCount
WALLET_COUNT_ROUTE_CLEARED: WalletCount
LIVENESS_UNSPECIFIED: Liveness
LIVENESS_HEARTBEAT_MS: Liveness
LIVENESS_DEAD_AFTER_MS: Liveness
MAILBOX_DRAIN_UNSPECIFIED: MailboxDrain
MAILBOX_DRAIN_BATCH: MailboxDrain

class Marker(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Text(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Keyspace(_message.Message):
    __slots__ = ("inbound_queue", "inbound_seen", "inbound_recipient_count", "inbound_dead_letters", "outbound_queue", "outbound_seen", "outbound_lease", "outbound_parked", "outbound_retry_schedule", "outbound_dead_letters", "events", "events_lease", "admin_requests", "admin_claims", "admin_replies", "relay_inbox", "relay_signals", "wallet_route", "wallet_mailbox", "wallet_dead_letter_counts", "wallet_mailbox_and_route_counts", "wallet_pickup", "wallet_pickup_sent", "wallet_push_device", "wallet_push_window", "members", "instance", "topology", "janitor_lease")
    INBOUND_QUEUE_FIELD_NUMBER: _ClassVar[int]
    INBOUND_SEEN_FIELD_NUMBER: _ClassVar[int]
    INBOUND_RECIPIENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    INBOUND_DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_QUEUE_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_SEEN_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_LEASE_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_PARKED_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_RETRY_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_LEASE_FIELD_NUMBER: _ClassVar[int]
    ADMIN_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_CLAIMS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_REPLIES_FIELD_NUMBER: _ClassVar[int]
    RELAY_INBOX_FIELD_NUMBER: _ClassVar[int]
    RELAY_SIGNALS_FIELD_NUMBER: _ClassVar[int]
    WALLET_ROUTE_FIELD_NUMBER: _ClassVar[int]
    WALLET_MAILBOX_FIELD_NUMBER: _ClassVar[int]
    WALLET_DEAD_LETTER_COUNTS_FIELD_NUMBER: _ClassVar[int]
    WALLET_MAILBOX_AND_ROUTE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    WALLET_PICKUP_FIELD_NUMBER: _ClassVar[int]
    WALLET_PICKUP_SENT_FIELD_NUMBER: _ClassVar[int]
    WALLET_PUSH_DEVICE_FIELD_NUMBER: _ClassVar[int]
    WALLET_PUSH_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    TOPOLOGY_FIELD_NUMBER: _ClassVar[int]
    JANITOR_LEASE_FIELD_NUMBER: _ClassVar[int]
    inbound_queue: _envelopes_pb2.AgentMessage
    inbound_seen: Marker
    inbound_recipient_count: Text
    inbound_dead_letters: _envelopes_pb2.DeadLetter
    outbound_queue: _envelopes_pb2.OutboundJob
    outbound_seen: Marker
    outbound_lease: Text
    outbound_parked: _envelopes_pb2.ParkedJob
    outbound_retry_schedule: Text
    outbound_dead_letters: _envelopes_pb2.DeadLetter
    events: _envelopes_pb2.AgentEvent
    events_lease: Text
    admin_requests: _envelopes_pb2.AdminRequest
    admin_claims: Text
    admin_replies: _envelopes_pb2.AdminResponse
    relay_inbox: _envelopes_pb2.RelayCommand
    relay_signals: _envelopes_pb2.RelayCommand
    wallet_route: _envelopes_pb2.WalletRoute
    wallet_mailbox: _envelopes_pb2.WalletMessage
    wallet_dead_letter_counts: Text
    wallet_mailbox_and_route_counts: Text
    wallet_pickup: _envelopes_pb2.WalletPickup
    wallet_pickup_sent: Text
    wallet_push_device: _envelopes_pb2.WalletPushDevice
    wallet_push_window: Marker
    members: Text
    instance: _envelopes_pb2.InstanceInfo
    topology: _envelopes_pb2.Topology
    janitor_lease: Text
    def __init__(self, inbound_queue: _Optional[_Union[_envelopes_pb2.AgentMessage, _Mapping]] = ..., inbound_seen: _Optional[_Union[Marker, _Mapping]] = ..., inbound_recipient_count: _Optional[_Union[Text, _Mapping]] = ..., inbound_dead_letters: _Optional[_Union[_envelopes_pb2.DeadLetter, _Mapping]] = ..., outbound_queue: _Optional[_Union[_envelopes_pb2.OutboundJob, _Mapping]] = ..., outbound_seen: _Optional[_Union[Marker, _Mapping]] = ..., outbound_lease: _Optional[_Union[Text, _Mapping]] = ..., outbound_parked: _Optional[_Union[_envelopes_pb2.ParkedJob, _Mapping]] = ..., outbound_retry_schedule: _Optional[_Union[Text, _Mapping]] = ..., outbound_dead_letters: _Optional[_Union[_envelopes_pb2.DeadLetter, _Mapping]] = ..., events: _Optional[_Union[_envelopes_pb2.AgentEvent, _Mapping]] = ..., events_lease: _Optional[_Union[Text, _Mapping]] = ..., admin_requests: _Optional[_Union[_envelopes_pb2.AdminRequest, _Mapping]] = ..., admin_claims: _Optional[_Union[Text, _Mapping]] = ..., admin_replies: _Optional[_Union[_envelopes_pb2.AdminResponse, _Mapping]] = ..., relay_inbox: _Optional[_Union[_envelopes_pb2.RelayCommand, _Mapping]] = ..., relay_signals: _Optional[_Union[_envelopes_pb2.RelayCommand, _Mapping]] = ..., wallet_route: _Optional[_Union[_envelopes_pb2.WalletRoute, _Mapping]] = ..., wallet_mailbox: _Optional[_Union[_envelopes_pb2.WalletMessage, _Mapping]] = ..., wallet_dead_letter_counts: _Optional[_Union[Text, _Mapping]] = ..., wallet_mailbox_and_route_counts: _Optional[_Union[Text, _Mapping]] = ..., wallet_pickup: _Optional[_Union[_envelopes_pb2.WalletPickup, _Mapping]] = ..., wallet_pickup_sent: _Optional[_Union[Text, _Mapping]] = ..., wallet_push_device: _Optional[_Union[_envelopes_pb2.WalletPushDevice, _Mapping]] = ..., wallet_push_window: _Optional[_Union[Marker, _Mapping]] = ..., members: _Optional[_Union[Text, _Mapping]] = ..., instance: _Optional[_Union[_envelopes_pb2.InstanceInfo, _Mapping]] = ..., topology: _Optional[_Union[_envelopes_pb2.Topology, _Mapping]] = ..., janitor_lease: _Optional[_Union[Text, _Mapping]] = ...) -> None: ...
