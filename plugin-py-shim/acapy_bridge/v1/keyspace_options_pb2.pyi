from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RedisType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REDIS_TYPE_UNSPECIFIED: _ClassVar[RedisType]
    REDIS_TYPE_STREAM: _ClassVar[RedisType]
    REDIS_TYPE_STRING: _ClassVar[RedisType]
    REDIS_TYPE_LIST: _ClassVar[RedisType]
    REDIS_TYPE_ZSET: _ClassVar[RedisType]
    REDIS_TYPE_HASH: _ClassVar[RedisType]
    REDIS_TYPE_CHANNEL: _ClassVar[RedisType]

class ValueEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_ENCODING_UNSPECIFIED: _ClassVar[ValueEncoding]
    VALUE_ENCODING_PROTOBUF: _ClassVar[ValueEncoding]
    VALUE_ENCODING_TEXT: _ClassVar[ValueEncoding]
    VALUE_ENCODING_MARKER: _ClassVar[ValueEncoding]
REDIS_TYPE_UNSPECIFIED: RedisType
REDIS_TYPE_STREAM: RedisType
REDIS_TYPE_STRING: RedisType
REDIS_TYPE_LIST: RedisType
REDIS_TYPE_ZSET: RedisType
REDIS_TYPE_HASH: RedisType
REDIS_TYPE_CHANNEL: RedisType
VALUE_ENCODING_UNSPECIFIED: ValueEncoding
VALUE_ENCODING_PROTOBUF: ValueEncoding
VALUE_ENCODING_TEXT: ValueEncoding
VALUE_ENCODING_MARKER: ValueEncoding
REDIS_KEY_FIELD_NUMBER: _ClassVar[int]
redis_key: _descriptor.FieldDescriptor

class RedisKey(_message.Message):
    __slots__ = ("template", "type", "encoding", "partition_family", "consumer_group", "entry_field", "default_ttl_ms", "writer", "reader", "max_length")
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FAMILY_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TTL_MS_FIELD_NUMBER: _ClassVar[int]
    WRITER_FIELD_NUMBER: _ClassVar[int]
    READER_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    template: str
    type: RedisType
    encoding: ValueEncoding
    partition_family: str
    consumer_group: str
    entry_field: str
    default_ttl_ms: int
    writer: str
    reader: str
    max_length: int
    def __init__(self, template: _Optional[str] = ..., type: _Optional[_Union[RedisType, str]] = ..., encoding: _Optional[_Union[ValueEncoding, str]] = ..., partition_family: _Optional[str] = ..., consumer_group: _Optional[str] = ..., entry_field: _Optional[str] = ..., default_ttl_ms: _Optional[int] = ..., writer: _Optional[str] = ..., reader: _Optional[str] = ..., max_length: _Optional[int] = ...) -> None: ...
