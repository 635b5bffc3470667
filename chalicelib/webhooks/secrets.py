"""Webhook signing keys: created, listed, rotated with a grace period, revoked; secrets encrypted with KMS.

Item layout (pk / sk):
  TENANT#<tid>     / WEBHOOKKEY#<kid>   name, hint, KMS ciphertext of the secret (and of the previous
                                        one with ``previous_expires_at`` while a rotation is in grace);
                                        ``refused_count`` and the last refused delivery's answer
  WEBHOOKKEY#<kid> / META               ``tenant_id``: lets a signed request name its key, never its tenant

Each request reads both items (two consistent reads), so a revocation or rotation applies to the
very next delivery in every Lambda container; only the KMS decryption is cached, keyed by ciphertext.
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from secrets import token_hex, token_urlsafe
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import errors
from chalicelib.auth.permissions import TenantContext
from chalicelib.errors import TooManyKeys
from chalicelib.tenancy.audit import AuditLog
from chalicelib.tenancy.store import from_item, is_conditional_failure, tenant_pk, to_item
from chalicelib.webhooks.clock import Clock

KEY_ID_PREFIX = "whk_"
SECRET_PREFIX = "whsec_"
GRACE_SECONDS = 24 * 3600
CACHE_SECONDS = 300
MAX_KEYS = 20
_KEY_ID = re.compile(r"whk_[0-9a-f]{20}")
_CACHE_LIMIT = 1024
REFUSAL_MESSAGE_CHARS = 500


def key_pk(key_id: str) -> str:
    return f"WEBHOOKKEY#{key_id}"


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def new_secret() -> str:
    """``whsec_`` + 32 random bytes, URL-safe base64: shown once, then only its last 4 characters."""
    return SECRET_PREFIX + token_urlsafe(32)


@dataclass(frozen=True)
class LiveKey:
    """The secrets a delivery signed with ``key_id`` may use right now, and whose tenant it is."""

    tenant_id: str
    key_id: str
    secrets: tuple[str, ...]


def _public(item: dict[str, Any], now: float) -> dict[str, Any]:
    in_grace = bool(item.get("previous_ct")) and float(item.get("previous_expires_at", 0)) > now
    return {"key_id": item["key_id"], "name": item["name"], "created_at": item["created_at"],
            "created_by": item.get("created_by", ""), "rotated_at": item.get("rotated_at"),
            "secret_hint": f"…{item['hint']}",
            "previous_expires_at": iso(float(item["previous_expires_at"])) if in_grace else None,
            "refusals": _refusals(item)}


def _refusals(item: dict[str, Any]) -> dict[str, Any] | None:
    """How many deliveries signed with this key were refused, and the last one's answer: the owner's view of a
    sender that keeps failing (a wrong secret, a skewed clock, a malformed body)."""
    if not item.get("refused_count"):
        return None
    return {"count": int(item["refused_count"]), "last_at": item.get("last_refused_at"),
            "last_status": int(item.get("last_refused_status", 0)), "last_code": item.get("last_refused_code"),
            "last_message": item.get("last_refused_message")}


def seal_text(kms: Any, kms_key_id: str, context: dict[str, str], text: str) -> str:
    """``text`` KMS-encrypted under ``context``, as base64 text (tenant exports serialise every item as JSON)."""
    blob = kms.encrypt(KeyId=kms_key_id, Plaintext=text.encode(), EncryptionContext=context)["CiphertextBlob"]
    return base64.b64encode(blob).decode()


def open_text(kms: Any, kms_key_id: str, context: dict[str, str], blob: bytes) -> str:
    """KMS checks the encryption context, so a ciphertext copied into another tenant's item will not open."""
    return kms.decrypt(CiphertextBlob=blob, KeyId=kms_key_id, EncryptionContext=context)["Plaintext"].decode()


def _blob(value: str) -> bytes:
    return base64.b64decode(value)


class WebhookKeys:
    """Per-tenant signing keys; every public method but ``live`` takes the caller's ``TenantContext``."""

    def __init__(self, dynamodb: Any, kms: Any, table_name: str, kms_key_id: str, audit: AuditLog,
                 clock: Clock, cache_seconds: int = CACHE_SECONDS) -> None:
        self._db = dynamodb
        self._kms = kms
        self._table = table_name
        self._kms_key_id = kms_key_id
        self._audit = audit
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._plain: dict[tuple[str, str, bytes], tuple[float, str]] = {}

    # -- management (portal, Cognito-authenticated) ------------------------------------------
    def create(self, ctx: TenantContext, name: str, secret: str | None = None) -> dict[str, Any]:
        if sum(1 for _ in self._keys(ctx.tenant_id)) >= MAX_KEYS:
            raise TooManyKeys(f"Your company already has {MAX_KEYS} webhook keys. Revoke one you no longer use.")
        key_id, secret = KEY_ID_PREFIX + token_hex(10), secret or new_secret()
        now = self._clock()
        item = {"pk": tenant_pk(ctx.tenant_id), "sk": key_pk(key_id), "key_id": key_id, "tenant_id": ctx.tenant_id,
                "name": name, "created_at": iso(now), "created_by": ctx.email, "hint": secret[-4:], "version": 1,
                "secret_ct": self._encrypt(ctx.tenant_id, key_id, secret)}
        pointer = {"pk": key_pk(key_id), "sk": "META", "tenant_id": ctx.tenant_id}
        self._db.transact_write_items(TransactItems=[
            {"Put": {"TableName": self._table, "Item": to_item(entry),
                     "ConditionExpression": "attribute_not_exists(pk)"}} for entry in (item, pointer)])
        self._audit.record(ctx.tenant_id, "webhook_key_created", ctx.email, details={"key_id": key_id, "name": name})
        return {**_public(item, now), "secret": secret}

    def list(self, ctx: TenantContext) -> list[dict[str, Any]]:
        now = self._clock()
        return sorted((_public(item, now) for item in self._keys(ctx.tenant_id)), key=lambda k: k["created_at"])

    def rotate(self, ctx: TenantContext, key_id: str, secret: str | None = None) -> dict[str, Any]:
        """A new current secret; the old one keeps verifying for ``GRACE_SECONDS`` (an older one stops now)."""
        item = self._item(ctx.tenant_id, key_id)
        secret, now = secret or new_secret(), self._clock()
        changes = {":new": self._encrypt(ctx.tenant_id, key_id, secret), ":old": item["secret_ct"],
                   ":until": int(now + GRACE_SECONDS), ":at": iso(now), ":hint": secret[-4:],
                   ":one": 1, ":v": int(item["version"])}
        try:
            result = self._db.update_item(
                TableName=self._table, Key=to_item({"pk": tenant_pk(ctx.tenant_id), "sk": key_pk(key_id)}),
                UpdateExpression="SET secret_ct = :new, previous_ct = :old, previous_expires_at = :until, "
                                 "rotated_at = :at, hint = :hint, version = version + :one",
                ConditionExpression="version = :v", ExpressionAttributeValues=to_item(changes), ReturnValues="ALL_NEW")
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise errors.Conflict("This key was rotated or revoked at the same moment. Reload and try again.",
                                      code="concurrent_change") from None
            raise
        self._audit.record(ctx.tenant_id, "webhook_key_rotated", ctx.email,
                           details={"key_id": key_id, "previous_expires_at": iso(now + GRACE_SECONDS)})
        return {**_public(from_item(result["Attributes"]), now), "secret": secret}

    def revoke(self, ctx: TenantContext, key_id: str) -> None:
        """Delete the key and its pointer together: the next delivery signed with it is refused."""
        if not _KEY_ID.fullmatch(key_id):
            raise self._not_found()
        try:
            self._db.transact_write_items(TransactItems=[
                {"Delete": {"TableName": self._table, "ConditionExpression": "attribute_exists(pk)",
                            "Key": to_item({"pk": tenant_pk(ctx.tenant_id), "sk": key_pk(key_id)})}},
                {"Delete": {"TableName": self._table, "ConditionExpression": "tenant_id = :t",
                            "Key": to_item({"pk": key_pk(key_id), "sk": "META"}),
                            "ExpressionAttributeValues": to_item({":t": ctx.tenant_id})}}])
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise self._not_found() from None
            raise
        self._plain = {k: v for k, v in self._plain.items() if k[1] != key_id}
        self._audit.record(ctx.tenant_id, "webhook_key_revoked", ctx.email, details={"key_id": key_id})

    # -- verification (webhook deliveries, no login) ------------------------------------------
    def live(self, key_id: str) -> LiveKey | None:
        """The tenant and usable secrets of ``key_id``; ``None`` for an unknown or revoked key."""
        if not _KEY_ID.fullmatch(key_id):
            return None
        pointer = self._get(key_pk(key_id), "META")
        item = self._get(tenant_pk(pointer["tenant_id"]), key_pk(key_id)) if pointer else None
        if item is None:
            return None
        tenant_id, now = item["tenant_id"], self._clock()
        found = [self._decrypt(tenant_id, key_id, _blob(item["secret_ct"]))]
        if item.get("previous_ct") and float(item.get("previous_expires_at", 0)) > now:
            found.append(self._decrypt(tenant_id, key_id, _blob(item["previous_ct"])))
        return LiveKey(tenant_id, key_id, tuple(found))

    def record_refusal(self, key: LiveKey, status: int, code: str, message: str) -> None:
        """Count a refused delivery signed with ``key`` and keep its answer (one item per key, never a log per
        delivery: a flood of forged requests costs one write each, not the table). A key revoked meanwhile
        stays gone."""
        values = {":one": 1, ":at": iso(self._clock()), ":status": status, ":code": code[:40],
                  ":message": message[:REFUSAL_MESSAGE_CHARS]}
        try:
            self._db.update_item(
                TableName=self._table, Key=to_item({"pk": tenant_pk(key.tenant_id), "sk": key_pk(key.key_id)}),
                UpdateExpression="ADD refused_count :one SET last_refused_at = :at, last_refused_status = :status, "
                                 "last_refused_code = :code, last_refused_message = :message",
                ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues=to_item(values))
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    # -- plumbing -------------------------------------------------------------------------------
    def _encrypt(self, tenant_id: str, key_id: str, secret: str) -> str:
        return seal_text(self._kms, self._kms_key_id, {"tenant_id": tenant_id, "key_id": key_id}, secret)

    def _decrypt(self, tenant_id: str, key_id: str, blob: bytes) -> str:
        """Cached a while: every signed delivery needs the plaintext."""
        cache_key, now = (tenant_id, key_id, hashlib.sha256(blob).digest()), self._clock()
        hit = self._plain.get(cache_key)
        if hit and hit[0] > now:
            return hit[1]
        plain = open_text(self._kms, self._kms_key_id, {"tenant_id": tenant_id, "key_id": key_id}, blob)
        if len(self._plain) >= _CACHE_LIMIT:
            self._plain.clear()
        self._plain[cache_key] = (now + self._cache_seconds, plain)
        return plain

    def _item(self, tenant_id: str, key_id: str) -> dict[str, Any]:
        item = self._get(tenant_pk(tenant_id), key_pk(key_id)) if _KEY_ID.fullmatch(key_id) else None
        if item is None:
            raise self._not_found()
        return item

    @staticmethod
    def _not_found() -> errors.NotFound:
        return errors.NotFound("No such webhook key in your company. List keys with GET /webhook-secrets.")

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self._table, Key=to_item({"pk": pk, "sk": sk}),
                                 ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def _keys(self, tenant_id: str) -> Iterator[dict[str, Any]]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table, ConsistentRead=True, KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues=to_item({":pk": tenant_pk(tenant_id), ":sk": "WEBHOOKKEY#"}))
        for page in pages:
            for item in page.get("Items", []):
                yield from_item(item)
