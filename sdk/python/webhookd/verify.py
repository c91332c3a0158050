"""Verification of the webhooks webhookd sends, in the standard library only.

webhookd signs every request in two schemes at once, from the endpoint's
``whsec_…`` secret:

* the webhooks guide's: ``X-Webhook-Timestamp`` and ``X-Webhook-Signature``,
  the lowercase hex HMAC-SHA256 of ``timestamp + body`` keyed with the UTF-8
  bytes of the whole secret string (``whsec_`` included). Only the current
  secret signs it.
* Standard Webhooks: ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature``, a space-separated list of ``v1,<base64 HMAC-SHA256 of
  id.timestamp.body>``, one per secret (the current one first, then the
  previous one while a rotation's grace period lasts). The key is the base64
  decoding of what follows ``whsec_``; a secret not of that form is keyed with
  its raw UTF-8 bytes.

Both are checked over the raw request body, byte for byte: a body parsed and
serialised again (``json.loads`` then ``json.dumps``) no longer matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Literal, Mapping, Optional, Sequence, Union

__all__ = [
    "SCHEME_GUIDE",
    "SCHEME_STANDARD",
    "DEFAULT_TOLERANCE",
    "Verified",
    "WebhookVerificationError",
    "verify",
]

Scheme = Literal["guide", "standard"]

SCHEME_GUIDE: Scheme = "guide"
SCHEME_STANDARD: Scheme = "standard"

#: Seconds a request's timestamp may be off the receiver's clock, either way,
#: before it is refused as a replay (Standard Webhooks' default).
DEFAULT_TOLERANCE = 300.0

_SECRET_PREFIX = "whsec_"


class WebhookVerificationError(Exception):
    """The request is not a webhook signed with the given secret(s).

    Answer it with 400 or 401 and do not act on the body.
    """


@dataclass(frozen=True)
class Verified:
    """A request whose signature matched."""

    #: The event id (``webhook-id`` / ``X-Webhook-Id``), the same on every
    #: attempt of a delivery: deduplicate on it.
    id: str
    #: When this attempt was signed, in Unix seconds.
    timestamp: int
    #: Which scheme was checked: ``"standard"`` or ``"guide"``.
    scheme: Scheme


def verify(
    secret: Union[str, Sequence[str]],
    headers: Mapping[str, str],
    body: Union[bytes, bytearray, memoryview, str],
    *,
    tolerance: Optional[float] = DEFAULT_TOLERANCE,
    scheme: Optional[Scheme] = None,
    now: Optional[float] = None,
) -> Verified:
    """Checks that a request was signed by webhookd, and returns its id.

    ``secret`` is the endpoint's ``whsec_…`` secret, or several (say the new
    and the old one while you switch over): any of them may match.
    ``headers`` is the request's headers, looked up without regard to case
    (Flask's ``request.headers``, Django's ``request.headers``, or a plain
    dict). ``body`` is the raw body (Flask: ``request.get_data()``, Django:
    ``request.body``). ``tolerance`` is how far, in seconds, the timestamp may
    be from ``now`` (default: the current time); ``None`` turns the check off.

    ``scheme`` chooses the headers to check; by default Standard Webhooks when
    the request has ``webhook-signature`` (it carries a signature per secret
    through a rotation), else the guide's ``X-Webhook-Signature``.

    Raises :class:`WebhookVerificationError` when nothing matches.
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or any(not isinstance(s, str) or not s for s in secrets):
        raise ValueError("verify: secret must be a non-empty string or a list of them")
    if isinstance(body, str):
        body = body.encode("utf-8")
    body = bytes(body)
    get = _header_getter(headers)

    if scheme is None:
        scheme = SCHEME_STANDARD if get("webhook-signature") is not None else SCHEME_GUIDE
    if scheme == SCHEME_STANDARD:
        msg_id = _required(get, "webhook-id")
        ts_text = _required(get, "webhook-timestamp")
        signatures = _required(get, "webhook-signature")
    elif scheme == SCHEME_GUIDE:
        msg_id = get("x-webhook-id") or ""
        ts_text = _required(get, "x-webhook-timestamp")
        signatures = _required(get, "x-webhook-signature")
    else:
        raise ValueError(f"verify: unknown scheme {scheme!r} (want 'standard' or 'guide')")

    timestamp = _timestamp(ts_text)
    if tolerance is not None:
        current = time.time() if now is None else now
        if abs(current - timestamp) > tolerance:
            raise WebhookVerificationError(
                f"timestamp {timestamp} is more than {tolerance:g}s from now ({int(current)}): "
                "a replay, or a clock that is off"
            )

    if scheme == SCHEME_STANDARD:
        ok = _match_standard(secrets, msg_id, ts_text, body, signatures.split(" "))
    else:
        ok = _match_guide(secrets, ts_text, body, signatures.strip())
    if not ok:
        raise WebhookVerificationError(
            f"no {'webhook-signature' if scheme == SCHEME_STANDARD else 'X-Webhook-Signature'} "
            "matches the secret: a wrong secret, or a body that is not the raw one sent"
        )
    return Verified(id=msg_id, timestamp=timestamp, scheme=scheme)


def _match_guide(secrets: Iterable[str], ts_text: str, body: bytes, signature: str) -> bool:
    got = signature.encode("ascii", "replace")
    matched = False
    for s in secrets:
        want = hmac.new(s.encode("utf-8"), ts_text.encode("utf-8") + body, hashlib.sha256).hexdigest()
        # Every secret is tried, so that the time taken does not tell which matched.
        matched |= hmac.compare_digest(want.encode("ascii"), got)
    return matched


def _match_standard(
    secrets: Iterable[str], msg_id: str, ts_text: str, body: bytes, signatures: Sequence[str]
) -> bool:
    got = []
    for sig in signatures:
        version, sep, value = sig.partition(",")
        if sep and version == "v1":
            got.append(value.encode("ascii", "replace"))
    if not got:
        return False
    signed = msg_id.encode("utf-8") + b"." + ts_text.encode("utf-8") + b"." + body
    matched = False
    for s in secrets:
        want = base64.b64encode(hmac.new(standard_key(s), signed, hashlib.sha256).digest())
        for g in got:
            matched |= hmac.compare_digest(want, g)
    return matched


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks HMAC key of ``secret``, as webhookd derives it.

    The base64 decoding of what follows ``whsec_``; the raw UTF-8 bytes of a
    secret that is not of that form (webhookd never makes one).
    """
    if secret.startswith(_SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(_SECRET_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if key:
            return key
    return secret.encode("utf-8")


_Getter = Callable[[str], Optional[str]]


def _header_getter(headers: Mapping[str, str]) -> _Getter:
    lowered: Optional[Dict[str, str]] = None

    def get(name: str) -> Optional[str]:
        nonlocal lowered
        # Flask's and Django's headers are case-insensitive already; a plain
        # dict is searched without regard to case.
        value = headers.get(name)
        if value is None:
            if lowered is None:
                lowered = {str(k).lower(): v for k, v in headers.items()}
            value = lowered.get(name.lower())
        return value

    return get


def _required(get: _Getter, name: str) -> str:
    value = get(name)
    if value is None or value == "":
        raise WebhookVerificationError(f"missing {name} header")
    return value


def _timestamp(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise WebhookVerificationError(f"timestamp {text!r} is not Unix seconds")
    return int(text)
