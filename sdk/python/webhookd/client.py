"""An idiomatic client over webhookd's generated gRPC stubs."""

from __future__ import annotations

import collections
import datetime
import ipaddress
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Tuple, TypeVar, Union

import grpc
from google.protobuf import field_mask_pb2, struct_pb2, timestamp_pb2

from webhookd._gen.webhooks.v1 import (
    admin_service_pb2 as admin_pb,
    admin_service_pb2_grpc as admin_grpc,
    resources_pb2 as res,
    webhook_service_pb2 as svc,
    webhook_service_pb2_grpc as svc_grpc,
)
from webhookd._version import __version__
from webhookd.errors import WebhookdError, from_rpc_error

__all__ = ["Client", "RetryPolicy"]

T = TypeVar("T")
Data = Union[Mapping[str, Any], struct_pb2.Struct]
Time = Union[datetime.datetime, timestamp_pb2.Timestamp]


@dataclass(frozen=True)
class RetryPolicy:
    """How :class:`Client` retries a call that failed with ``UNAVAILABLE`` or
    ``RESOURCE_EXHAUSTED``.

    ``RESOURCE_EXHAUSTED`` (over the rate limit) is retried for every call,
    after the delay the server's ``google.rpc.RetryInfo`` names: the call was
    refused before it ran. ``UNAVAILABLE`` may come after the server acted, so
    it is retried only for calls that are safe to repeat — reads, deletes,
    enable/disable, and publishing (its idempotency key makes a repeat return
    the first event) — after an exponential backoff with jitter. Other calls
    (creating an endpoint, retrying a delivery, …) raise at once.
    """

    #: Attempts in all, the first included; 1 turns retries off.
    max_attempts: int = 5
    #: Backoff before the second attempt, in seconds, when the server named no delay.
    initial_backoff: float = 0.2
    #: Longest backoff, in seconds.
    max_backoff: float = 5.0
    multiplier: float = 2.0
    #: The longest RetryInfo delay honoured, in seconds: a server asking to
    #: wait longer gets its error raised instead.
    max_retry_delay: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.max_retry_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")
        if self.multiplier < 1:
            raise ValueError("RetryPolicy.multiplier must be at least 1")

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0 for the first), with
        jitter so that many clients do not come back at once."""
        ceiling = min(self.max_backoff, self.initial_backoff * self.multiplier**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    pass


class _AuthInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the API key and the User-Agent to every call.

    Metadata rather than call credentials, because gRPC sends call credentials
    only over TLS and a loopback webhookd is plaintext.
    """

    def __init__(self, api_key: str) -> None:
        self._metadata = (("authorization", f"Bearer {api_key}"),)

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(d.metadata or ()) + list(self._metadata)
        return _CallDetails(
            d.method, d.timeout, metadata, d.credentials, getattr(d, "wait_for_ready", None),
            getattr(d, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details), request_iterator)


def is_loopback(target: str) -> bool:
    """Whether a gRPC target names this machine (so plaintext is safe)."""
    t = target
    if t.startswith("unix:") or t.startswith("unix-abstract:"):
        return True
    for scheme in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if t.startswith(scheme):
            t = t[len(scheme):]
            break
    if t.startswith("["):
        host = t[1:].split("]", 1)[0]
    elif t.count(":") > 1:
        host = t  # a bare IPv6 address without a port
    else:
        host = t.rsplit(":", 1)[0] if ":" in t else t
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _struct(data: Optional[Data]) -> Optional[struct_pb2.Struct]:
    if data is None:
        return None
    if isinstance(data, struct_pb2.Struct):
        return data
    s = struct_pb2.Struct()
    s.update(dict(data))
    return s


def _timestamp(t: Optional[Time]) -> Optional[timestamp_pb2.Timestamp]:
    if t is None or isinstance(t, timestamp_pb2.Timestamp):
        return t
    if t.tzinfo is None:
        raise ValueError("naive datetime: give it a tzinfo (datetime.timezone.utc)")
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t.astimezone(datetime.timezone.utc))
    return ts


class Client:
    """A client of webhookd's gRPC API.

    ``target`` is webhookd's gRPC address (``host:port``), ``api_key`` a
    ``whk_…`` token: a customer key acts in its own account, an internal
    (admin) key in any account named by the calls' ``account`` argument.

    TLS is used unless the target is loopback (``localhost``, ``127.0.0.1``,
    ``[::1]``), where webhookd listens in plaintext by default; ``tls=True``
    or ``False`` overrides that, and ``root_certificates`` (PEM) replaces the
    system's trust roots. ``timeout`` bounds each attempt, in seconds.
    ``on_retry(error, delay)`` is called before each retry (to log it);
    ``sleep`` waits ``delay`` seconds (a test may replace it).

    Failed calls raise :class:`webhookd.WebhookdError` subclasses; see
    :class:`RetryPolicy` for which are retried first. List methods return
    generators that fetch the next page as they go. The raw stubs are
    ``client.webhooks`` and ``client.admin`` (authenticated, not retried).

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        target: str,
        api_key: str,
        *,
        tls: Optional[bool] = None,
        root_certificates: Optional[bytes] = None,
        timeout: Optional[float] = 30.0,
        retry: Optional[RetryPolicy] = None,
        options: Sequence[Tuple[str, Any]] = (),
        on_retry: Optional[Callable[[WebhookdError, float], None]] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not target:
            raise ValueError("Client: target is required (webhookd's gRPC address, host:port)")
        if not api_key:
            raise ValueError("Client: api_key is required (a whk_… token)")
        if tls is None:
            tls = not is_loopback(target)
        opts = [("grpc.primary_user_agent", f"webhookd-python/{__version__}"), *options]
        if tls:
            channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates), opts)
        else:
            channel = grpc.insecure_channel(target, opts)
        self._raw_channel = channel
        self.channel: grpc.Channel = grpc.intercept_channel(channel, _AuthInterceptor(api_key))
        self.webhooks = svc_grpc.WebhookServiceStub(self.channel)
        self.admin = admin_grpc.AdminServiceStub(self.channel)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._on_retry = on_retry

    def close(self) -> None:
        self._raw_channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The one place calls are made, retried and their errors translated.
    def _call(self, rpc: Callable[..., T], request: Any, *, safe: bool) -> T:
        retries = 0
        while True:
            try:
                return rpc(request, timeout=self.timeout)
            except grpc.RpcError as e:
                err = from_rpc_error(e)
            delay = self._retry_delay(err, retries, safe)
            if delay is None:
                raise err
            if self._on_retry is not None:
                self._on_retry(err, delay)
            self._sleep(delay)
            retries += 1

    def _retry_delay(self, err: WebhookdError, retries: int, safe: bool) -> Optional[float]:
        if retries + 1 >= self.retry.max_attempts:
            return None
        if err.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            if err.retry_delay is None:
                # A size limit, not the rate limit: the same call fails again.
                return None
            if err.retry_delay > self.retry.max_retry_delay:
                return None
            # At least what the server asked, and a little more so that
            # clients told the same delay do not return all at once.
            return err.retry_delay * (1 + random.uniform(0, 0.1))
        if err.code == grpc.StatusCode.UNAVAILABLE and safe:
            return self.retry.backoff(retries)
        return None

    def _pages(self, rpc: Callable[..., Any], request: Any, field: str) -> Iterator[Any]:
        while True:
            resp = self._call(rpc, request, safe=True)
            yield from getattr(resp, field)
            if not resp.next_page_token:
                return
            request.page_token = resp.next_page_token

    # Event types.

    def list_event_types(self) -> list[res.EventType]:
        """The catalog of event types, ordered by name."""
        return list(self._call(self.webhooks.ListEventTypes, svc.ListEventTypesRequest(), safe=True).event_types)

    def get_event_type(self, name: str) -> res.EventType:
        """``eventTypes/property.created`` (or just ``property.created``)."""
        if not name.startswith("eventTypes/"):
            name = "eventTypes/" + name
        return self._call(self.webhooks.GetEventType, svc.GetEventTypeRequest(name=name), safe=True)

    # Endpoints.

    def create_endpoint(
        self,
        url: str,
        event_types: Iterable[str],
        *,
        description: str = "",
        headers: Optional[Mapping[str, str]] = None,
        account: str = "",
    ) -> res.Endpoint:
        """Registers an endpoint; its ``secret`` (``whsec_…``) is in the result."""
        ep = res.Endpoint(url=url, event_types=list(event_types), description=description, headers=dict(headers or {}))
        req = svc.CreateEndpointRequest(account=account, endpoint=ep)
        return self._call(self.webhooks.CreateEndpoint, req, safe=False)

    def get_endpoint(self, name: str) -> res.Endpoint:
        return self._call(self.webhooks.GetEndpoint, svc.GetEndpointRequest(name=name), safe=True)

    def endpoints(self, *, account: str = "", page_size: int = 0) -> Iterator[res.Endpoint]:
        """Every endpoint of the account, page by page."""
        req = svc.ListEndpointsRequest(account=account, page_size=page_size)
        return self._pages(self.webhooks.ListEndpoints, req, "endpoints")

    def update_endpoint(self, endpoint: res.Endpoint, update_mask: Sequence[str] = ()) -> res.Endpoint:
        """Updates the fields named in ``update_mask`` (all when empty); an
        ``etag`` on ``endpoint`` makes it fail with ABORTED if another change
        came first."""
        req = svc.UpdateEndpointRequest(endpoint=endpoint)
        if update_mask:
            req.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=list(update_mask)))
        return self._call(self.webhooks.UpdateEndpoint, req, safe=bool(endpoint.etag))

    def delete_endpoint(self, name: str) -> None:
        self._call(self.webhooks.DeleteEndpoint, svc.DeleteEndpointRequest(name=name), safe=True)

    def enable_endpoint(self, name: str) -> res.Endpoint:
        return self._call(self.webhooks.EnableEndpoint, svc.EnableEndpointRequest(name=name), safe=True)

    def disable_endpoint(self, name: str, reason: str = "") -> res.Endpoint:
        req = svc.DisableEndpointRequest(name=name, reason=reason)
        return self._call(self.webhooks.DisableEndpoint, req, safe=True)

    def get_endpoint_secret(self, endpoint: str) -> res.EndpointSecret:
        """The signing secret of ``endpoints/…`` (and the previous one during a rotation)."""
        req = svc.GetEndpointSecretRequest(name=_secret_name(endpoint))
        return self._call(self.webhooks.GetEndpointSecret, req, safe=True)

    def rotate_endpoint_secret(self, endpoint: str) -> res.EndpointSecret:
        """A new signing secret; the old one keeps signing (Standard Webhooks
        headers) for the grace period."""
        req = svc.RotateEndpointSecretRequest(name=_secret_name(endpoint))
        return self._call(self.webhooks.RotateEndpointSecret, req, safe=False)

    def send_test_event(
        self, endpoint: str, event_type: str, data: Optional[Data] = None, *, wait: bool = False
    ) -> svc.SendTestEventResponse:
        req = svc.SendTestEventRequest(endpoint=endpoint, event_type=event_type, wait=wait, data=_struct(data))
        return self._call(self.webhooks.SendTestEvent, req, safe=False)

    def recover_endpoint(self, endpoint: str, since: Time) -> int:
        """Retries the endpoint's failed deliveries since ``since``; returns how many."""
        req = svc.RecoverEndpointRequest(name=endpoint, since=_timestamp(since))
        return int(self._call(self.webhooks.RecoverEndpoint, req, safe=False).delivery_count)

    # Events.

    def publish(
        self, type: str, data: Data, *, account: str = "", idempotency_key: Optional[str] = None
    ) -> res.Event:
        """Publishes an event to every subscribed endpoint of the account.

        Every publish carries an idempotency key — a random one unless given —
        that stays the same across the client's retries, so a retry after a
        lost answer returns the first event instead of publishing twice. Pass
        your own (at most 255 bytes) to make your own retries safe too.
        """
        key = idempotency_key if idempotency_key is not None else f"py-{uuid.uuid4()}"
        req = svc.PublishEventRequest(
            account=account, event=res.Event(type=type, data=_struct(data)), idempotency_key=key
        )
        return self._call(self.webhooks.PublishEvent, req, safe=True)

    def get_event(self, name: str) -> res.Event:
        return self._call(self.webhooks.GetEvent, svc.GetEventRequest(name=name), safe=True)

    def events(
        self,
        *,
        account: str = "",
        event_types: Iterable[str] = (),
        create_time_after: Optional[Time] = None,
        create_time_before: Optional[Time] = None,
        after_event: str = "",
        page_size: int = 0,
    ) -> Iterator[res.Event]:
        """The account's events, newest first, page by page."""
        req = svc.ListEventsRequest(
            account=account,
            page_size=page_size,
            event_types=list(event_types),
            create_time_after=_timestamp(create_time_after),
            create_time_before=_timestamp(create_time_before),
            after_event=after_event,
        )
        return self._pages(self.webhooks.ListEvents, req, "events")

    # Deliveries.

    def get_delivery(self, name: str) -> res.Delivery:
        """A delivery with its attempts and the exact body sent."""
        return self._call(self.webhooks.GetDelivery, svc.GetDeliveryRequest(name=name), safe=True)

    def deliveries(
        self,
        parent: str,
        *,
        statuses: Iterable["res.Delivery.Status"] = (),
        event_types: Iterable[str] = (),
        create_time_after: Optional[Time] = None,
        create_time_before: Optional[Time] = None,
        page_size: int = 0,
    ) -> Iterator[res.Delivery]:
        """The deliveries of ``endpoints/…`` or ``events/…``, page by page."""
        req = svc.ListDeliveriesRequest(
            parent=parent,
            page_size=page_size,
            statuses=list(statuses),
            event_types=list(event_types),
            create_time_after=_timestamp(create_time_after),
            create_time_before=_timestamp(create_time_before),
        )
        return self._pages(self.webhooks.ListDeliveries, req, "deliveries")

    def retry_delivery(self, name: str) -> res.Delivery:
        """Attempts a delivery again now (trigger ``MANUAL``), whatever its status."""
        return self._call(self.webhooks.RetryDelivery, svc.RetryDeliveryRequest(name=name), safe=False)

    # Accounts and API keys (internal keys only).

    def create_account(self, display_name: str) -> res.Account:
        req = admin_pb.CreateAccountRequest(account=res.Account(display_name=display_name))
        return self._call(self.admin.CreateAccount, req, safe=False)

    def get_account(self, name: str) -> res.Account:
        return self._call(self.admin.GetAccount, admin_pb.GetAccountRequest(name=name), safe=True)

    def accounts(self, *, page_size: int = 0) -> Iterator[res.Account]:
        return self._pages(self.admin.ListAccounts, admin_pb.ListAccountsRequest(page_size=page_size), "accounts")

    def create_api_key(self, account: str = "", display_name: str = "", *, internal: bool = False) -> res.ApiKey:
        """A customer key of ``account``, or with ``internal=True`` (and no
        account) an internal key; its ``token`` is in this result only."""
        key = res.ApiKey(account=account, display_name=display_name, internal=internal)
        req = admin_pb.CreateApiKeyRequest(api_key=key)
        return self._call(self.admin.CreateApiKey, req, safe=False)

    def get_api_key(self, name: str) -> res.ApiKey:
        return self._call(self.admin.GetApiKey, admin_pb.GetApiKeyRequest(name=name), safe=True)

    def api_keys(self, *, account: str = "", page_size: int = 0) -> Iterator[res.ApiKey]:
        req = admin_pb.ListApiKeysRequest(account=account, page_size=page_size)
        return self._pages(self.admin.ListApiKeys, req, "api_keys")

    def revoke_api_key(self, name: str) -> res.ApiKey:
        return self._call(self.admin.RevokeApiKey, admin_pb.RevokeApiKeyRequest(name=name), safe=True)


def _secret_name(endpoint: str) -> str:
    return endpoint if endpoint.endswith("/secret") else endpoint.rstrip("/") + "/secret"
