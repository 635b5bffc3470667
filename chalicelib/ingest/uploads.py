"""Upload records and saved column mappings in DynamoDB, in the tenant's partition.

Item layout (pk / sk):
  TENANT#<tid> / UPLOAD#<upload_id>                    one file through the ingestion steps
  TENANT#<tid> / MAPPING#<dataset>#<header signature>  the mapping a user confirmed for files shaped like this

Nested values (mapping, summary, quality report) are stored as JSON text: they hold floats, which
DynamoDB's type serializer refuses. Every field is bounded (``limits``) so a record always fits one item.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.ingest import limits
from chalicelib.tenancy.store import get_item, query_items, tenant_pk, to_item

# The steps an upload goes through; the portal shows them as a progress line.
WAITING_FOR_FILE = "waiting_for_file"   # presigned form handed out, nothing in S3 yet
NEEDS_MAPPING = "needs_mapping"         # file read, columns proposed; a person must confirm
QUEUED = "queued"                       # mapping confirmed, waiting for the ingest worker
INGESTING = "ingesting"
LOADED = "loaded"                       # batch committed; summary and quality report available
FAILED = "failed"                       # could not be used; ``error`` says why and what to do
STATUSES = (WAITING_FOR_FILE, NEEDS_MAPPING, QUEUED, INGESTING, LOADED, FAILED)
_JSON_FIELDS = ("headers", "proposal", "mapping", "summary", "quality", "error", "preview")
# A worker killed mid-load (a Lambda timeout, 900 s) raises nothing: SQS redelivers after its visibility timeout
# (960 s) up to 3 times, each attempt rewriting the record, then parks the message on the dead-letter queue. An
# upload queued or loading with no change for longer than all of that will not finish on its own.
STALLED_AFTER = timedelta(hours=1)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Upload:
    tenant_id: str
    upload_id: str
    dataset: str
    filename: str
    source: str                      # upload | drop | manual | webhook
    key: str                         # the raw object in S3
    status: str = WAITING_FOR_FILE
    size: int = 0
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    created_by: str = ""
    format: str = ""
    headers: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    proposal: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] = field(default_factory=dict)
    batch_id: str = ""
    rejects_key: str = ""

    def public(self, now: datetime | None = None) -> dict[str, Any]:
        """What the API shows: everything but S3 keys, and a load that can no longer finish as failed."""
        shown = {k: v for k, v in asdict(self).items() if k not in ("tenant_id", "key", "rejects_key")}
        if self.stalled(now):
            shown["status"] = FAILED
            shown["error"] = {"code": "ingest_stalled", "message": (
                "Loading this file stopped without finishing (no progress for an hour). Upload it again; if that "
                f"happens again, tell support the reference {self.upload_id}.")}
        shown["has_rejects"] = bool(self.rejects_key)
        return shown

    def stalled(self, now: datetime | None = None) -> bool:
        """Queued or loading with no change past ``STALLED_AFTER``: it will not finish on its own. Only what the
        API shows changes (the worker still loads a late redelivery, and a success overwrites the record)."""
        idle = (now or datetime.now(UTC)) - datetime.fromisoformat(self.updated_at)
        return self.status in (QUEUED, INGESTING) and idle >= STALLED_AFTER


class UploadStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db, self._table = dynamodb, table_name

    def put(self, upload: Upload) -> Upload:
        """Store the upload, its shown fields cut to their bounds first (in place, so what is returned is what
        is stored); a record that would still not fit one item raises ``limits.RecordTooLarge``."""
        upload.updated_at = now_iso()
        limits.bound_upload(upload)
        values = asdict(upload)
        for name in _JSON_FIELDS:
            values[name] = json.dumps(values[name])
        item = {"pk": tenant_pk(upload.tenant_id), "sk": f"UPLOAD#{upload.upload_id}", **values}
        limits.check_record(item)
        self._db.put_item(TableName=self._table, Item=to_item(item))
        return upload

    def get(self, tenant_id: str, upload_id: str) -> Upload | None:
        item = get_item(self._db, self._table, tenant_pk(tenant_id), f"UPLOAD#{upload_id}")
        return _upload(item) if item else None

    def list(self, tenant_id: str, limit: int = 50) -> list[Upload]:
        """Newest first (upload ids sort by time)."""
        items = query_items(self._db, self._table, tenant_pk(tenant_id), "UPLOAD#", newest_first=True, limit=limit)
        return [_upload(item) for item in items]

    def save_mapping(self, tenant_id: str, dataset: str, signature: str, mapping: dict[str, Any], by: str) -> None:
        item = {"pk": tenant_pk(tenant_id), "sk": f"MAPPING#{dataset}#{signature}", "dataset": dataset,
                "signature": signature, "mapping": json.dumps(mapping), "saved_by": by, "saved_at": now_iso()}
        self._db.put_item(TableName=self._table, Item=to_item(item))

    def saved_mapping(self, tenant_id: str, dataset: str, signature: str) -> dict[str, Any] | None:
        item = get_item(self._db, self._table, tenant_pk(tenant_id), f"MAPPING#{dataset}#{signature}")
        return json.loads(item["mapping"]) if item else None


def _upload(item: dict[str, Any]) -> Upload:
    values = {name: item[name] for name in Upload.__dataclass_fields__ if name in item}
    for name in _JSON_FIELDS:
        if isinstance(values.get(name), str):
            values[name] = json.loads(values[name])
    values["size"] = int(values.get("size", 0))
    return Upload(**values)
