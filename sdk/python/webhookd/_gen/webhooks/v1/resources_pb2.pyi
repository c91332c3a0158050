from webhookd._gen.google.api import field_behavior_pb2 as _field_behavior_pb2
from webhookd._gen.google.api import resource_pb2 as _resource_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Account(_message.Message):
    __slots__ = ["create_time", "display_name", "name"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    display_name: str
    name: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ["account", "create_time", "display_name", "internal", "name", "revoke_time", "token"]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    account: str
    create_time: _timestamp_pb2.Timestamp
    display_name: str
    internal: bool
    name: str
    revoke_time: _timestamp_pb2.Timestamp
    token: str
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., internal: bool = ..., display_name: _Optional[str] = ..., token: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Attempt(_message.Message):
    __slots__ = ["duration", "error_message", "id", "number", "response_body", "response_status_code", "start_time", "trigger"]
    class Trigger(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    DURATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INITIAL: Attempt.Trigger
    MANUAL: Attempt.Trigger
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_BODY_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    RETRY: Attempt.Trigger
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    TEST: Attempt.Trigger
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_UNSPECIFIED: Attempt.Trigger
    duration: _duration_pb2.Duration
    error_message: str
    id: str
    number: int
    response_body: str
    response_status_code: int
    start_time: _timestamp_pb2.Timestamp
    trigger: Attempt.Trigger
    def __init__(self, id: _Optional[str] = ..., number: _Optional[int] = ..., trigger: _Optional[_Union[Attempt.Trigger, str]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., response_status_code: _Optional[int] = ..., response_body: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ["account", "attempt_count", "attempts", "body", "create_time", "endpoint", "event", "event_type", "last_error", "last_response_status_code", "name", "next_attempt_time", "status", "update_time"]
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FAILED: Delivery.Status
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_RESPONSE_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    PENDING: Delivery.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_UNSPECIFIED: Delivery.Status
    SUCCEEDED: Delivery.Status
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    account: str
    attempt_count: int
    attempts: _containers.RepeatedCompositeFieldContainer[Attempt]
    body: str
    create_time: _timestamp_pb2.Timestamp
    endpoint: str
    event: str
    event_type: str
    last_error: str
    last_response_status_code: int
    name: str
    next_attempt_time: _timestamp_pb2.Timestamp
    status: Delivery.Status
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., event: _Optional[str] = ..., endpoint: _Optional[str] = ..., event_type: _Optional[str] = ..., status: _Optional[_Union[Delivery.Status, str]] = ..., attempt_count: _Optional[int] = ..., next_attempt_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., last_response_status_code: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[_Iterable[_Union[Attempt, _Mapping]]] = ..., body: _Optional[str] = ...) -> None: ...

class Endpoint(_message.Message):
    __slots__ = ["account", "create_time", "description", "development", "disable_time", "disabled_reason", "etag", "event_types", "failing_since_time", "headers", "name", "secret", "state", "stats", "update_time", "url"]
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    class HeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DEVELOPMENT_FIELD_NUMBER: _ClassVar[int]
    DISABLED: Endpoint.State
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    DISABLE_TIME_FIELD_NUMBER: _ClassVar[int]
    ENABLED: Endpoint.State
    ETAG_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_TIME_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_UNSPECIFIED: Endpoint.State
    STATS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    account: str
    create_time: _timestamp_pb2.Timestamp
    description: str
    development: bool
    disable_time: _timestamp_pb2.Timestamp
    disabled_reason: str
    etag: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    failing_since_time: _timestamp_pb2.Timestamp
    headers: _containers.ScalarMap[str, str]
    name: str
    secret: str
    state: Endpoint.State
    stats: EndpointStats
    update_time: _timestamp_pb2.Timestamp
    url: str
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., url: _Optional[str] = ..., description: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ..., headers: _Optional[_Mapping[str, str]] = ..., state: _Optional[_Union[Endpoint.State, str]] = ..., disabled_reason: _Optional[str] = ..., secret: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., disable_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., failing_since_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., development: bool = ..., stats: _Optional[_Union[EndpointStats, _Mapping]] = ...) -> None: ...

class EndpointSecret(_message.Message):
    __slots__ = ["name", "previous_secret", "previous_secret_expire_time", "secret"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SECRET_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SECRET_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    name: str
    previous_secret: str
    previous_secret_expire_time: _timestamp_pb2.Timestamp
    secret: str
    def __init__(self, name: _Optional[str] = ..., secret: _Optional[str] = ..., previous_secret: _Optional[str] = ..., previous_secret_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EndpointStats(_message.Message):
    __slots__ = ["failed_24h", "last_error", "last_error_time", "succeeded_24h"]
    FAILED_24H_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_TIME_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_24H_FIELD_NUMBER: _ClassVar[int]
    failed_24h: int
    last_error: str
    last_error_time: _timestamp_pb2.Timestamp
    succeeded_24h: int
    def __init__(self, succeeded_24h: _Optional[int] = ..., failed_24h: _Optional[int] = ..., last_error: _Optional[str] = ..., last_error_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ["account", "create_time", "data", "idempotency_key", "name", "test", "type"]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TEST_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    account: str
    create_time: _timestamp_pb2.Timestamp
    data: _struct_pb2.Struct
    idempotency_key: str
    name: str
    test: bool
    type: str
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., type: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., test: bool = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EventType(_message.Message):
    __slots__ = ["description", "example", "name", "type"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    description: str
    example: _struct_pb2.Struct
    name: str
    type: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ..., example: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PortalSession(_message.Message):
    __slots__ = ["account", "create_time", "expire_time", "name", "revoke_time", "token", "ttl", "url"]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    account: str
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    name: str
    revoke_time: _timestamp_pb2.Timestamp
    token: str
    ttl: _duration_pb2.Duration
    url: str
    def __init__(self, name: _Optional[str] = ..., account: _Optional[str] = ..., ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., token: _Optional[str] = ..., url: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
