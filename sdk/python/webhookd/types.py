"""webhookd's API messages, generated from proto/webhooks/v1.

The resources the client returns (``Endpoint``, ``Event``, ``Delivery``,
``Attempt``, …) and their enums, for type hints and comparisons::

    from webhookd.types import Delivery
    if delivery.status == Delivery.SUCCEEDED: ...
"""

from webhookd._gen.webhooks.v1.resources_pb2 import (
    Account,
    ApiKey,
    Attempt,
    Delivery,
    Endpoint,
    EndpointSecret,
    Event,
    EventType,
)
from webhookd._gen.webhooks.v1.webhook_service_pb2 import SendTestEventResponse

__all__ = [
    "Account",
    "ApiKey",
    "Attempt",
    "Delivery",
    "Endpoint",
    "EndpointSecret",
    "Event",
    "EventType",
    "SendTestEventResponse",
]
