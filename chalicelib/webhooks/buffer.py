"""The micro-batch buffer: webhook rows wait in S3 and reach the lake in batches, not one file per call.

Each accepted call becomes one JSON-lines object under ``layout.webhook_buffer_prefix``; a counter
item ``TENANT#<tid> / WEBHOOKBUFFER`` (also in gsi1 as ``WEBHOOKBUFFER / <tid>`` while anything is
pending) holds the pending row and object counts and the oldest pending time. A flush hands all
pending rows to the sink once, and deletes them only after the sink returned: a failing sink
leaves everything pending for the next flush, so nothing a sender delivered is lost.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from chalicelib import logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.lake import layout, objects
from chalicelib.tenancy.store import from_item, is_conditional_failure, tenant_pk, to_item
from chalicelib.webhooks.adapters import frame
from chalicelib.webhooks.clock import Clock

Sink = Callable[[TenantContext, pd.DataFrame, str], dict[str, Any]]

COUNTER_SK = "WEBHOOKBUFFER"
FLUSH_ROWS = 5000
FLUSH_AGE_SECONDS = 60
FLUSH_LEASE_SECONDS = 300
MAX_OBJECTS_PER_FLUSH = 500
_STAMP = "%Y%m%d%H%M%S"


def buffer_context(tenant_id: str) -> TenantContext:
    """Who loads buffered rows: the webhook door acting for the tenant, with upload rights only."""
    return TenantContext(tenant_id, "webhook", "analyst", "webhook")


def _stamp_of(key: str) -> float | None:
    try:
        return datetime.strptime(key.rsplit("/", 1)[-1][:14], _STAMP).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


class WebhookBuffer:
    def __init__(self, s3: Any, bucket: str, kms_key_id: str, dynamodb: Any, table_name: str, clock: Clock,
                 flush_rows: int = FLUSH_ROWS, flush_age_seconds: int = FLUSH_AGE_SECONDS) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._kms_key_id = kms_key_id
        self._db = dynamodb
        self._table = table_name
        self._clock = clock
        self.flush_rows = flush_rows
        self.flush_age_seconds = flush_age_seconds

    # -- writing ---------------------------------------------------------------------------------
    def append(self, ctx: TenantContext, rows: pd.DataFrame) -> str:
        """Store one call's rows as one object, then count them; the object goes if counting fails."""
        now = self._clock()
        key = f"{layout.webhook_buffer_prefix(ctx)}{time.strftime(_STAMP, time.gmtime(now))}-{uuid.uuid4().hex}.jsonl"
        body = "".join(json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n"
                       for row in rows.to_dict("records"))
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body.encode(), ContentType="application/x-ndjson",
                            ServerSideEncryption="aws:kms", SSEKMSKeyId=self._kms_key_id)
        try:
            self._update(ctx.tenant_id, "ADD pending_rows :n, pending_objects :one SET oldest_at = "
                         "if_not_exists(oldest_at, :now), gsi1pk = :g, gsi1sk = :t, tenant_id = :t",
                         {":n": len(rows), ":one": 1, ":now": int(now), ":g": COUNTER_SK, ":t": ctx.tenant_id})
        except Exception:
            self._s3.delete_object(Bucket=self._bucket, Key=key)  # uncounted rows would wait unseen
            raise
        return key

    def pending(self, tenant_id: str) -> dict[str, int]:
        item = self._counter(tenant_id) or {}
        return {"rows": int(item.get("pending_rows", 0)), "objects": int(item.get("pending_objects", 0)),
                "oldest_at": int(item.get("oldest_at", 0))}

    def is_due(self, counter: dict[str, Any], now: float) -> bool:
        if int(counter.get("pending_objects", 0)) <= 0:
            return False
        oldest = counter.get("oldest_at")
        return int(counter.get("pending_rows", 0)) >= self.flush_rows or (
            oldest is not None and now - float(oldest) >= self.flush_age_seconds)

    # -- flushing --------------------------------------------------------------------------------
    def flush(self, ctx: TenantContext, sink: Sink, force: bool = False) -> dict[str, Any]:
        """Load the tenant's pending rows through ``sink`` once, when due (or ``force``); see the module doc."""
        counter, now = self._counter(ctx.tenant_id) or {}, self._clock()
        if not force and not self.is_due(counter, now):
            return {"flushed": False, "reason": "not due", "pending_rows": int(counter.get("pending_rows", 0))}
        if not self._lock(ctx.tenant_id, now):
            return {"flushed": False, "reason": "another flush is running"}
        try:
            keys = sorted(obj["Key"] for obj in objects.iter_keys(self._s3, self._bucket,
                                                                  layout.webhook_buffer_prefix(ctx)))
            taken, left = keys[:MAX_OBJECTS_PER_FLUSH], keys[MAX_OBJECTS_PER_FLUSH:]
            if not taken:  # counted before we listed, yet nothing there: the counter drifted; repair it
                self._settle(ctx.tenant_id, int(counter.get("pending_rows", 0)),
                             int(counter.get("pending_objects", 0)), now)
                return {"flushed": False, "reason": "nothing pending"}
            rows = [row for key in taken for row in self._read(key)]
            result = sink(ctx, frame(rows), source="webhook")
        except Exception:
            self._update(ctx.tenant_id, "REMOVE flushing_until", {})
            raise
        self._delete(taken)
        self._settle(ctx.tenant_id, len(rows), len(taken), min(now, _stamp_of(left[0]) or now) if left else now)
        logs.logger.info("webhook buffer flushed", extra={"tenant_id": ctx.tenant_id, "rows": len(rows),
                                                          "objects": len(taken)})
        return {"flushed": True, "rows": len(rows), "objects": len(taken), "result": result}

    def flush_due(self, sink: Sink) -> list[dict[str, Any]]:
        """Flush every tenant whose buffer is due; one tenant's failure does not stop the others."""
        now, results = self._clock(), []
        for counter in self._pending_counters():
            if not self.is_due(counter, now):
                continue
            tenant_id = counter["gsi1sk"]
            try:
                results.append({"tenant_id": tenant_id, **self.flush(buffer_context(tenant_id), sink)})
            except Exception as exc:
                logs.logger.exception("webhook buffer flush failed; rows stay pending", extra={"tenant_id": tenant_id})
                results.append({"tenant_id": tenant_id, "flushed": False, "error": type(exc).__name__})
        return results

    # -- plumbing -------------------------------------------------------------------------------
    def _read(self, key: str) -> Iterator[dict[str, str]]:
        body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read().decode()
        return (json.loads(line) for line in body.splitlines() if line.strip())

    def _delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            response = self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                raise RuntimeError(f"could not delete {len(response['Errors'])} flushed webhook buffer objects")

    def _settle(self, tenant_id: str, rows: int, count: int, oldest_left: float) -> None:
        """Take the flushed rows off the counter and release the lock; leave the index when nothing is left."""
        new = self._update(tenant_id, "ADD pending_rows :r, pending_objects :o SET last_flush_at = :now "
                           "REMOVE flushing_until", {":r": -rows, ":o": -count, ":now": int(self._clock())})
        if int(new.get("pending_objects", 0)) > 0:
            self._update(tenant_id, "SET oldest_at = :t", {":t": int(oldest_left)})
            return
        try:  # fails only when an append arrived meanwhile; its counts stand then
            self._update(tenant_id, "SET pending_rows = :z, pending_objects = :z REMOVE oldest_at, gsi1pk, gsi1sk",
                         {":z": 0}, condition="pending_objects <= :z")
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    def _lock(self, tenant_id: str, now: float) -> bool:
        try:
            self._update(tenant_id, "SET flushing_until = :until", {":until": int(now) + FLUSH_LEASE_SECONDS,
                                                                     ":now": int(now)},
                         condition="attribute_not_exists(flushing_until) OR flushing_until < :now")
            return True
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise

    def _update(self, tenant_id: str, expression: str, values: dict[str, Any],
                condition: str | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"TableName": self._table, "UpdateExpression": expression,
                                  "Key": to_item({"pk": tenant_pk(tenant_id), "sk": COUNTER_SK}),
                                  "ReturnValues": "ALL_NEW"}
        if values:
            kwargs["ExpressionAttributeValues"] = to_item(values)
        if condition:
            kwargs["ConditionExpression"] = condition
        return from_item(self._db.update_item(**kwargs).get("Attributes") or {})

    def _counter(self, tenant_id: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self._table, ConsistentRead=True,
                                 Key=to_item({"pk": tenant_pk(tenant_id), "sk": COUNTER_SK})).get("Item")
        return from_item(item) if item else None

    def _pending_counters(self) -> Iterator[dict[str, Any]]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues=to_item({":g": COUNTER_SK}))
        for page in pages:
            for item in page.get("Items", []):
                yield from_item(item)


def flush_due_buffers() -> list[dict[str, Any]]:
    """Entry point for the schedule / local event pump: flush every due tenant into the lake."""
    from chalicelib import services  # lazily: services imports this module's siblings

    return services.webhooks().buffer.flush_due(services.ingestion().ingest_records)
