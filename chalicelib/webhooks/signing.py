"""Webhook signatures: SalesLens's own ``v1`` scheme and Shopify's native HMAC. Pure: no I/O, no clock.

SalesLens scheme (every route but Shopify's)::

    X-SalesLens-Key-Id:    whk_...
    X-SalesLens-Timestamp: 1717171717                      (unix seconds, within 5 minutes of our clock)
    X-SalesLens-Signature: v1=<hex HMAC-SHA256(secret, b"<timestamp>." + raw_body)>

Signing the timestamp with the body stops a captured request from being replayed later; within the
5 minutes, a replay is recognised by its signed content (``idempotency.content_key``), whatever
``Idempotency-Key`` it carries, since that header is not signed. During a rotation's grace period the
header may carry one ``v1=`` entry per secret, separated by commas.

Shopify signs only the raw body (``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256) and cannot add
headers, so the key id travels as the query parameter ``?key=<key_id>`` of the webhook URL.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.errors import BadSignature

KEY_ID_HEADER = "X-SalesLens-Key-Id"
TIMESTAMP_HEADER = "X-SalesLens-Timestamp"
SIGNATURE_HEADER = "X-SalesLens-Signature"
SHOPIFY_HMAC_HEADER = "X-Shopify-Hmac-Sha256"
SHOPIFY_KEY_PARAM = "key"
TOLERANCE_SECONDS = 300
SCHEME = "v1"

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class SignedHeaders:
    """What a SalesLens-signed request claims: its key, its time and one or more signatures."""

    key_id: str
    timestamp: int
    signatures: tuple[str, ...]


def signed_string(timestamp: int, body: bytes) -> bytes:
    """Exactly what a ``v1`` signature covers: ``b"<timestamp>." + raw_body``. Idempotency derives from it too."""
    return f"{timestamp}.".encode() + body


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def sign(secret: str, body: bytes | str, timestamp: int) -> str:
    """The ``X-SalesLens-Signature`` value for ``body`` sent at ``timestamp`` (senders and tests use it)."""
    digest = hmac.new(secret.encode(), signed_string(int(timestamp), _as_bytes(body)), hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def sign_shopify(secret: str, body: bytes | str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify would send for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), _as_bytes(body), hashlib.sha256).digest()).decode()


def header(headers: Mapping[str, str], name: str) -> str:
    """A header value, whatever case the sender used (Chalice's mapping is case-insensitive; a dict is not)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return (value or "").strip()


def read_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """Parse the three SalesLens headers, saying exactly which one is missing or malformed."""
    values = {name: header(headers, name) for name in (KEY_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise BadSignature(f"Missing header {', '.join(missing)}. Sign each request as described in the "
                           "API docs (key id, unix timestamp and v1 HMAC-SHA256 signature).")
    try:
        timestamp = int(values[TIMESTAMP_HEADER])
    except ValueError:
        raise BadSignature(f"{TIMESTAMP_HEADER} must be unix time in whole seconds, "
                           f"not {values[TIMESTAMP_HEADER][:40]!r}.") from None
    signatures = tuple(part.strip()[len(SCHEME) + 1:] for part in values[SIGNATURE_HEADER].split(",")
                       if part.strip().startswith(f"{SCHEME}="))
    if not signatures or not all(_HEX_DIGEST.fullmatch(s) for s in signatures):
        raise BadSignature(f"{SIGNATURE_HEADER} must look like 'v1=<64 hex digits>' "
                           "(the hex HMAC-SHA256 of '<timestamp>.<raw body>').")
    return SignedHeaders(values[KEY_ID_HEADER], timestamp, signatures)


def check_timestamp(timestamp: int, now: float, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Refuse a timestamp more than ``tolerance`` seconds away from ``now``, in either direction."""
    drift = int(now) - timestamp
    if drift > tolerance:
        raise BadSignature(f"{TIMESTAMP_HEADER} is {drift} seconds old; it must be within {tolerance // 60} minutes "
                           "of the current time. Sign each delivery (and each retry) with the current time.")
    if -drift > tolerance:
        raise BadSignature(f"{TIMESTAMP_HEADER} is {-drift} seconds in the future; it must be within "
                           f"{tolerance // 60} minutes of the current time. Check the sender's clock.")


def verify(signed: SignedHeaders, body: bytes, secrets: Iterable[str]) -> None:
    """Accept when any signature matches any live secret (current, or previous during a rotation's grace)."""
    matched = False
    for secret in secrets:
        expected = sign(secret, body, signed.timestamp)[len(SCHEME) + 1:]
        for given in signed.signatures:
            # compare every pair, constant-time each, so timing says nothing about which came close
            matched |= hmac.compare_digest(expected, given.lower())
    if not matched:
        raise BadSignature("Signature mismatch: the v1 signature does not match this key's secret for this body "
                           "and timestamp. Sign the exact raw bytes you send, as '<timestamp>.<body>'.")


def verify_shopify(given: str, body: bytes, secrets: Iterable[str]) -> None:
    """Check Shopify's base64 body HMAC against any live secret."""
    if not given:
        raise BadSignature(f"Missing header {SHOPIFY_HMAC_HEADER}. This route accepts Shopify's signed "
                           "webhooks only.")
    try:
        raw = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature(f"{SHOPIFY_HMAC_HEADER} is not base64.") from None
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(hmac.new(secret.encode(), body, hashlib.sha256).digest(), raw)
    if not matched:
        raise BadSignature("Signature mismatch: X-Shopify-Hmac-Sha256 does not match this key's secret. Store "
                           "Shopify's webhook signing secret in this key (see the API docs) and check the "
                           "?key= parameter of the webhook URL.")
