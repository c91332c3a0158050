from webhookd._gen.google.api import annotations_pb2 as _annotations_pb2
from webhookd._gen.google.api import field_behavior_pb2 as _field_behavior_pb2
from webhookd._gen.google.api import resource_pb2 as _resource_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from webhookd._gen.protoc_gen_openapiv2.options import annotations_pb2 as _annotations_pb2_1
from webhookd._gen.webhooks.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BatchPublishEventsRequest(_message.Message):
    __slots__ = ["account", "requests"]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    account: str
    requests: _containers.RepeatedCompositeFieldContainer[PublishEventRequest]
    def __init__(self, account: _Optional[str] = ..., requests: _Optional[_Iterable[_Union[PublishEventRequest, _Mapping]]] = ...) -> None: ...

class BatchPublishEventsResponse(_message.Message):
    __slots__ = ["results"]
    class Error(_message.Message):
        __slots__ = ["code", "field", "message"]
        CODE_FIELD_NUMBER: _ClassVar[int]
        FIELD_FIELD_NUMBER: _ClassVar[int]
        MESSAGE_FIELD_NUMBER: _ClassVar[int]
        code: int
        field: str
        message: str
        def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., field: _Optional[str] = ...) -> None: ...
    class Result(_message.Message):
        __slots__ = ["error", "event"]
        ERROR_FIELD_NUMBER: _ClassVar[int]
        EVENT_FIELD_NUMBER: _ClassVar[int]
        error: BatchPublishEventsResponse.Error
        event: _resources_pb2.Event
        def __init__(self, event: _Optional[_Union[_resources_pb2.Event, _Mapping]] = ..., error: _Optional[_Union[BatchPublishEventsResponse.Error, _Mapping]] = ...) -> None: ...
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchPublishEventsResponse.Result]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchPublishEventsResponse.Result, _Mapping]]] = ...) -> None: ...

class CreateEndpointRequest(_message.Message):
    __slots__ = ["account", "endpoint"]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    account: str
    endpoint: _resources_pb2.Endpoint
    def __init__(self, account: _Optional[str] = ..., endpoint: _Optional[_Union[_resources_pb2.Endpoint, _Mapping]] = ...) -> None: ...

class DeleteEndpointRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DisableEndpointRequest(_message.Message):
    __slots__ = ["name", "reason"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class EnableEndpointRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetDeliveryRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEndpointRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEndpointSecretRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEventTypeRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ["create_time_after", "create_time_before", "event_types", "page_size", "page_token", "parent", "statuses"]
    CREATE_TIME_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    create_time_after: _timestamp_pb2.Timestamp
    create_time_before: _timestamp_pb2.Timestamp
    event_types: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    parent: str
    statuses: _containers.RepeatedScalarFieldContainer[_resources_pb2.Delivery.Status]
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_resources_pb2.Delivery.Status, str]]] = ..., event_types: _Optional[_Iterable[str]] = ..., create_time_after: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., create_time_before: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ["deliveries", "next_page_token"]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Delivery]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[_resources_pb2.Delivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListEndpointsRequest(_message.Message):
    __slots__ = ["account", "page_size", "page_token"]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account: str
    page_size: int
    page_token: str
    def __init__(self, account: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEndpointsResponse(_message.Message):
    __slots__ = ["endpoints", "next_page_token"]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    endpoints: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Endpoint]
    next_page_token: str
    def __init__(self, endpoints: _Optional[_Iterable[_Union[_resources_pb2.Endpoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListEventTypesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListEventTypesResponse(_message.Message):
    __slots__ = ["event_types"]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    event_types: _containers.RepeatedCompositeFieldContainer[_resources_pb2.EventType]
    def __init__(self, event_types: _Optional[_Iterable[_Union[_resources_pb2.EventType, _Mapping]]] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ["account", "after_event", "create_time_after", "create_time_before", "event_types", "page_size", "page_token"]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AFTER_EVENT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account: str
    after_event: str
    create_time_after: _timestamp_pb2.Timestamp
    create_time_before: _timestamp_pb2.Timestamp
    event_types: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    def __init__(self, account: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ..., create_time_after: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., create_time_before: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., after_event: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ["events", "next_page_token"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Event]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[_resources_pb2.Event, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListenEndpointDeliveriesRequest(_message.Message):
    __slots__ = ["result", "start"]
    class Result(_message.Message):
        __slots__ = ["attempt", "body_excerpt", "duration", "error", "status_code"]
        ATTEMPT_FIELD_NUMBER: _ClassVar[int]
        BODY_EXCERPT_FIELD_NUMBER: _ClassVar[int]
        DURATION_FIELD_NUMBER: _ClassVar[int]
        ERROR_FIELD_NUMBER: _ClassVar[int]
        STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
        attempt: str
        body_excerpt: str
        duration: _duration_pb2.Duration
        error: str
        status_code: int
        def __init__(self, attempt: _Optional[str] = ..., status_code: _Optional[int] = ..., duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., body_excerpt: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...
    class Start(_message.Message):
        __slots__ = ["endpoint", "event_types"]
        ENDPOINT_FIELD_NUMBER: _ClassVar[int]
        EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
        endpoint: str
        event_types: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, endpoint: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ...) -> None: ...
    RESULT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    result: ListenEndpointDeliveriesRequest.Result
    start: ListenEndpointDeliveriesRequest.Start
    def __init__(self, start: _Optional[_Union[ListenEndpointDeliveriesRequest.Start, _Mapping]] = ..., result: _Optional[_Union[ListenEndpointDeliveriesRequest.Result, _Mapping]] = ...) -> None: ...

class ListenEndpointDeliveriesResponse(_message.Message):
    __slots__ = ["forward", "ready"]
    class Forward(_message.Message):
        __slots__ = ["attempt", "attempt_number", "body", "delivery", "event", "event_type", "headers"]
        class HeadersEntry(_message.Message):
            __slots__ = ["key", "value"]
            KEY_FIELD_NUMBER: _ClassVar[int]
            VALUE_FIELD_NUMBER: _ClassVar[int]
            key: str
            value: str
            def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
        ATTEMPT_FIELD_NUMBER: _ClassVar[int]
        ATTEMPT_NUMBER_FIELD_NUMBER: _ClassVar[int]
        BODY_FIELD_NUMBER: _ClassVar[int]
        DELIVERY_FIELD_NUMBER: _ClassVar[int]
        EVENT_FIELD_NUMBER: _ClassVar[int]
        EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
        HEADERS_FIELD_NUMBER: _ClassVar[int]
        attempt: str
        attempt_number: int
        body: bytes
        delivery: str
        event: str
        event_type: str
        headers: _containers.ScalarMap[str, str]
        def __init__(self, attempt: _Optional[str] = ..., delivery: _Optional[str] = ..., event: _Optional[str] = ..., event_type: _Optional[str] = ..., attempt_number: _Optional[int] = ..., headers: _Optional[_Mapping[str, str]] = ..., body: _Optional[bytes] = ...) -> None: ...
    class Ready(_message.Message):
        __slots__ = ["endpoint"]
        ENDPOINT_FIELD_NUMBER: _ClassVar[int]
        endpoint: _resources_pb2.Endpoint
        def __init__(self, endpoint: _Optional[_Union[_resources_pb2.Endpoint, _Mapping]] = ...) -> None: ...
    FORWARD_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    forward: ListenEndpointDeliveriesResponse.Forward
    ready: ListenEndpointDeliveriesResponse.Ready
    def __init__(self, ready: _Optional[_Union[ListenEndpointDeliveriesResponse.Ready, _Mapping]] = ..., forward: _Optional[_Union[ListenEndpointDeliveriesResponse.Forward, _Mapping]] = ...) -> None: ...

class ListenEndpointRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListenEndpointResponse(_message.Message):
    __slots__ = ["body", "delivery", "headers"]
    class HeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BODY_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    delivery: str
    headers: _containers.ScalarMap[str, str]
    def __init__(self, delivery: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., body: _Optional[bytes] = ...) -> None: ...

class PublishEventRequest(_message.Message):
    __slots__ = ["account", "event", "idempotency_key"]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    account: str
    event: _resources_pb2.Event
    idempotency_key: str
    def __init__(self, account: _Optional[str] = ..., event: _Optional[_Union[_resources_pb2.Event, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class RecoverEndpointRequest(_message.Message):
    __slots__ = ["name", "since"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    since: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecoverEndpointResponse(_message.Message):
    __slots__ = ["delivery_count"]
    DELIVERY_COUNT_FIELD_NUMBER: _ClassVar[int]
    delivery_count: int
    def __init__(self, delivery_count: _Optional[int] = ...) -> None: ...

class RetryDeliveryRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RevokeCurrentSessionRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RotateEndpointSecretRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SendTestEventRequest(_message.Message):
    __slots__ = ["data", "endpoint", "event_type", "wait"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    data: _struct_pb2.Struct
    endpoint: str
    event_type: str
    wait: bool
    def __init__(self, endpoint: _Optional[str] = ..., event_type: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., wait: bool = ...) -> None: ...

class SendTestEventResponse(_message.Message):
    __slots__ = ["attempt", "delivery", "event"]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    attempt: _resources_pb2.Attempt
    delivery: _resources_pb2.Delivery
    event: _resources_pb2.Event
    def __init__(self, event: _Optional[_Union[_resources_pb2.Event, _Mapping]] = ..., delivery: _Optional[_Union[_resources_pb2.Delivery, _Mapping]] = ..., attempt: _Optional[_Union[_resources_pb2.Attempt, _Mapping]] = ...) -> None: ...

class UpdateEndpointRequest(_message.Message):
    __slots__ = ["endpoint", "update_mask"]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    endpoint: _resources_pb2.Endpoint
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, endpoint: _Optional[_Union[_resources_pb2.Endpoint, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
