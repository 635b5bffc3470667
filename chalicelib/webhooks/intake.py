"""A webhook delivery from raw bytes to buffered rows: verify, deduplicate, adapt, buffer.

The order matters: the body's size is bounded, then the signature is checked on the exact bytes received,
before anything is parsed; the tenant comes from the key id, never from the body; the idempotency claims
(the signed content, then the client's key) come before any write. A refused delivery that names a live key
is counted on that key, with its answer, for the company's owners to see (``GET /webhook-secrets``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from chalicelib import errors, jsonbody, logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.errors import BadSignature
from chalicelib.webhooks import adapters, signing
from chalicelib.webhooks.buffer import WebhookBuffer
from chalicelib.webhooks.clock import Clock
from chalicelib.webhooks.idempotency import IdempotencyStore, body_hash, check_key, content_key
from chalicelib.webhooks.secrets import LiveKey, WebhookKeys

IDEMPOTENCY_HEADER = "Idempotency-Key"
SHOPIFY_WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
SHOPIFY_TOPIC_HEADER = "X-Shopify-Topic"
MAX_BODY_BYTES = 4 * 1024 * 1024  # 1000 generic records, or one large Shopify order, fit many times over


@dataclass(frozen=True)
class Delivery:
    """The answer to a delivery; ``replayed`` when it is the stored answer to an earlier identical one."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass
class Webhooks:
    keys: WebhookKeys
    idempotency: IdempotencyStore
    buffer: WebhookBuffer
    clock: Clock

    def receive_records(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        """``POST /v1/ingest/records``: SalesLens-signed generic records."""
        key_id = signing.header(headers, signing.KEY_ID_HEADER)
        key = self._lookup(key_id)
        with self._recorded(key):
            _check_size(body)
            signed = signing.read_headers(headers)
            signing.check_timestamp(signed.timestamp, self.clock())
            key = self._known(key, f"{signing.KEY_ID_HEADER} '{key_id[:40]}'")
            signing.verify(signed, body, key.secrets)
            idempotency_key = check_key(signing.header(headers, IDEMPOTENCY_HEADER), IDEMPOTENCY_HEADER)
            return self._accept(key, "records", idempotency_key, signing.signed_string(signed.timestamp, body), body,
                                adapters.generic_records)

    def receive_shopify(self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes) -> Delivery:
        """``POST /v1/ingest/shopify/orders?key=<key_id>``: Shopify's own HMAC over the body."""
        key_id = (query.get(signing.SHOPIFY_KEY_PARAM) or "").strip()
        if not key_id:
            raise BadSignature("Missing query parameter ?key=<key_id>: Shopify cannot send custom headers, so "
                               "the webhook URL must name the SalesLens key, e.g. /v1/ingest/shopify/orders?key=whk_…")
        key = self._lookup(key_id)
        with self._recorded(key):
            _check_size(body)
            key = self._known(key, f"?key= '{key_id[:40]}'")
            signing.verify_shopify(signing.header(headers, signing.SHOPIFY_HMAC_HEADER), body, key.secrets)
            webhook_id = check_key(signing.header(headers, SHOPIFY_WEBHOOK_ID_HEADER), SHOPIFY_WEBHOOK_ID_HEADER)
            topic = signing.header(headers, SHOPIFY_TOPIC_HEADER)
            return self._accept(key, "shopify", webhook_id, body, body,  # Shopify signs the body alone
                                lambda payload: adapters.shopify_order(payload, topic))

    def _lookup(self, key_id: str) -> LiveKey | None:
        key = self.keys.live(key_id) if key_id else None
        if key is not None:
            logs.bind(tenant_id=key.tenant_id)
        return key

    @staticmethod
    def _known(key: LiveKey | None, named: str) -> LiveKey:
        if key is None:
            raise BadSignature(f"Unknown key: {named} is not an active webhook key (never created, or revoked). "
                               "Create one with POST /webhook-secrets.")
        return key

    @contextmanager
    def _recorded(self, key: LiveKey | None) -> Iterator[None]:
        """Record a refusal on the key it names, where its owners see it (``GET /webhook-secrets``).

        A delivery naming no live key has no company to tell; it is in the request log only. Recording never
        changes the answer: if it fails, the sender still gets the refusal.
        """
        try:
            yield
        except errors.SalesLensError as exc:
            if key is not None:
                try:
                    self.keys.record_refusal(key, exc.status, exc.code, exc.message)
                except Exception:
                    logs.logger.exception("webhook refusal not recorded", extra={"key_id": key.key_id})
            raise

    def _accept(self, key: LiveKey, route: str, idempotency_key: str, signed: bytes, body: bytes,
                adapt: Callable[[Any], pd.DataFrame]) -> Delivery:
        """Claim the signed content, then the client's key; process only a delivery new on both counts.

        The content claim comes first: a captured request replayed under a fresh ``Idempotency-Key`` gets
        the first answer back and adds nothing. A retry signed again later (new timestamp, same key and
        body) passes the content claim and meets the key claim; its content then keeps that same answer.
        """
        ctx = TenantContext(key.tenant_id, f"webhook:{key.key_id}", "analyst", f"webhook:{key.key_id}")
        tenant, digest, content = ctx.tenant_id, body_hash(route, body), content_key(route, signed)
        stored = self.idempotency.claim(tenant, content, digest)
        if stored is not None:
            logs.logger.info("webhook delivery seen before", extra={"route": route, "key_id": key.key_id})
            return Delivery(stored.status, stored.body, replayed=True)
        try:
            stored = self.idempotency.claim(tenant, idempotency_key, digest)
        except Exception:
            self.idempotency.release(tenant, content)
            raise
        if stored is not None:
            self.idempotency.complete(tenant, content, stored.status, stored.body)
            return Delivery(stored.status, stored.body, replayed=True)
        claims = (content, idempotency_key)
        buffered = False
        try:
            rows = adapt(parse_json(body))
            if len(rows):
                self.buffer.append(ctx, rows)
            buffered = True
            answer = {"accepted": len(rows), "buffered": True}
            for claim in claims:
                self.idempotency.complete(tenant, claim, 202, answer)
        except Exception:
            if not buffered:  # refused or failed before anything was kept: the sender's retry starts afresh
                for claim in claims:
                    self.idempotency.release(tenant, claim)
            raise
        logs.logger.info("webhook accepted", extra={"route": route, "rows": len(rows), "key_id": key.key_id})
        return Delivery(202, answer)


def parse_json(body: bytes) -> Any:
    """The delivery's JSON, bounded as every JSON body is (:mod:`chalicelib.jsonbody`); ``None`` when blank."""
    return jsonbody.load(body, MAX_BODY_BYTES)


def _check_size(body: bytes) -> None:
    """Refused before any signature work: a body over the limit is never hashed or parsed."""
    if len(body) > MAX_BODY_BYTES:
        raise errors.BodyTooLarge(f"The request body is {len(body):,} bytes; a webhook delivery takes at most "
                                  f"{MAX_BODY_BYTES:,}. Send at most {adapters.MAX_RECORDS:,} records per call, or "
                                  "split the batch.")
