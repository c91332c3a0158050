"""webhookd's Python SDK: a gRPC client and a webhook verifier.

    from webhookd import Client, verify

The client needs grpcio and protobuf (Debian: python3-grpcio,
python3-protobuf); :func:`verify` only the standard library.
"""

from typing import Any

from webhookd._version import __version__
from webhookd.verify import (
    DEFAULT_TOLERANCE,
    SCHEME_GUIDE,
    SCHEME_STANDARD,
    Verified,
    WebhookVerificationError,
    verify,
)

__all__ = [
    "__version__",
    "Client",
    "RetryPolicy",
    "verify",
    "Verified",
    "WebhookVerificationError",
    "DEFAULT_TOLERANCE",
    "SCHEME_GUIDE",
    "SCHEME_STANDARD",
    "WebhookdError",
    "FieldViolation",
]


def __getattr__(name: str) -> Any:
    # The client and its errors import grpcio and protobuf only when used, so
    # that a receiver that only verifies webhooks needs neither.
    if name in ("Client", "RetryPolicy"):
        from webhookd import client

        return getattr(client, name)
    if name in ("WebhookdError", "FieldViolation"):
        from webhookd import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'webhookd' has no attribute {name!r}")
