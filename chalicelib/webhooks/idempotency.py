"""Idempotent deliveries: a retried webhook gets the first answer back instead of being counted twice.

Two claims per delivery, both kept 48 hours: the client's ``Idempotency-Key`` (a retry, signed afresh with
a new timestamp, is still the same delivery) and the signed content itself (``content_key``: a replay of
a captured request under a fresh key is the same delivery too).

Item: ``TENANT#<tid> / IDEMP#<key>`` with the body's hash, a state (``pending`` → ``done``), the
response once done, and ``expires_at`` 48 hours on (the table's TTL removes it). The claim is a
conditional put, so of two concurrent deliveries with the same key exactly one goes ahead. A claim
whose processing failed is released; one whose process died is taken over once its lease lapses.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import errors
from chalicelib.errors import DeliveryInProgress, IdempotencyConflict, MissingIdempotencyKey
from chalicelib.tenancy.store import from_item, is_conditional_failure, tenant_pk, to_item
from chalicelib.webhooks.clock import Clock

TTL_SECONDS = 48 * 3600
LEASE_SECONDS = 60
REPLAY_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII: UUIDs, ULIDs, Shopify webhook ids, order-123-try-1


@dataclass(frozen=True)
class Stored:
    """The response given to the first delivery with a key."""

    status: int
    body: dict[str, Any]


def body_hash(route: str, body: bytes) -> str:
    """What 'the same delivery' means: the same route and byte-identical body."""
    return hashlib.sha256(route.encode() + b"\n" + body).hexdigest()


def content_key(route: str, signed: bytes) -> str:
    """The idempotency key of a signed request's content (``b"<timestamp>." + body``; Shopify: the body).

    A replay of a captured delivery carries the same signed content whatever ``Idempotency-Key`` it was given,
    so it meets this key. The space keeps it apart from every client key, which ``check_key`` never lets
    contain one.
    """
    return "signed " + hashlib.sha256(route.encode() + b"\n" + signed).hexdigest()


def check_key(key: str, header: str) -> str:
    key = (key or "").strip()
    if not key:
        raise MissingIdempotencyKey(f"Send a {header} header: a unique id per delivery, reused unchanged on "
                                    "retries, so a retried delivery is never counted twice.")
    if not _KEY.fullmatch(key):
        raise errors.ValidationFailed(f"{header} must be 1 to 255 visible ASCII characters (no spaces).",
                                      [{"field": header, "problem": "not a usable idempotency key"}])
    return key


class IdempotencyStore:
    def __init__(self, dynamodb: Any, table_name: str, clock: Clock) -> None:
        self._db = dynamodb
        self._table = table_name
        self._clock = clock

    def claim(self, tenant_id: str, key: str, digest: str, retry: bool = True) -> Stored | None:
        """``None`` when this delivery is the first (go ahead); the stored response when it is a retry."""
        now = int(self._clock())
        item = {"pk": tenant_pk(tenant_id), "sk": f"IDEMP#{key}", "body_hash": digest, "state": "pending",
                "lease_until": now + LEASE_SECONDS, "expires_at": now + TTL_SECONDS}
        try:
            self._db.put_item(
                TableName=self._table, Item=to_item(item),
                # free, expired (TTL deletes lazily), or abandoned by a process that died mid-way
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR "
                                    "(#state = :pending AND lease_until < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item({":now": now, ":pending": "pending"}))
            return None
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
        existing = self._get(tenant_id, key)
        if existing is None:  # released between our put and our read: try once more
            if retry:
                return self.claim(tenant_id, key, digest, retry=False)
            raise DeliveryInProgress()
        if existing["body_hash"] != digest:
            raise IdempotencyConflict(f"The idempotency key '{key[:80]}' was already used with a different body. "
                                      "Use a new key for a new delivery; reuse a key only to retry the same body.")
        if existing.get("state") != "done":
            raise DeliveryInProgress()
        response = json.loads(existing["response"])
        return Stored(int(response["status"]), response["body"])

    def complete(self, tenant_id: str, key: str, status: int, body: dict[str, Any]) -> None:
        self._db.update_item(
            TableName=self._table, Key=to_item({"pk": tenant_pk(tenant_id), "sk": f"IDEMP#{key}"}),
            UpdateExpression="SET #state = :done, #response = :response REMOVE lease_until",
            ExpressionAttributeNames={"#state": "state", "#response": "response"},
            ExpressionAttributeValues=to_item({":done": "done",
                                               ":response": json.dumps({"status": status, "body": body})}))

    def release(self, tenant_id: str, key: str) -> None:
        """Forget a claim whose delivery was refused or failed, so the sender's retry is processed afresh."""
        try:
            self._db.delete_item(TableName=self._table,
                                 Key=to_item({"pk": tenant_pk(tenant_id), "sk": f"IDEMP#{key}"}),
                                 ConditionExpression="#state = :pending", ExpressionAttributeNames={"#state": "state"},
                                 ExpressionAttributeValues=to_item({":pending": "pending"}))
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    def _get(self, tenant_id: str, key: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self._table, ConsistentRead=True,
                                 Key=to_item({"pk": tenant_pk(tenant_id), "sk": f"IDEMP#{key}"})).get("Item")
        return from_item(item) if item else None
