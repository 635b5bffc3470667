"""Export everything a tenant owns as one zip, and delete a tenant completely."""
from __future__ import annotations

import json
import shutil
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from chalicelib import logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.lake import layout, objects
from chalicelib.tenancy.service import Tenancy

# Fields never exported: secrets and internal keys.
_PRIVATE_FIELDS = {"secret_hash", "secret_ct", "previous_ct", "pk", "sk", "gsi1pk", "gsi1sk"}


@dataclass(frozen=True)
class Storage:
    s3: Any
    bucket: str
    url_ttl_seconds: int = 900


def export_tenant(t: Tenancy, storage: Storage, ctx: TenantContext) -> dict[str, Any]:
    """Zip the tenant's S3 objects and metadata records, store it under the tenant, return a presigned URL."""
    export_id = uuid.uuid4().hex
    key = layout.export_key(ctx, export_id)
    with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("metadata/records.jsonl", _records_jsonl(t, ctx))
            for prefix in layout.tenant_prefixes(ctx):
                for obj in objects.iter_keys(storage.s3, storage.bucket, prefix):
                    if obj["Key"].startswith(layout.exports_prefix(ctx)):
                        continue  # earlier exports are not data
                    body = storage.s3.get_object(Bucket=storage.bucket, Key=obj["Key"])["Body"]
                    with archive.open(f"files/{obj['Key']}", "w", force_zip64=True) as entry:
                        shutil.copyfileobj(body, entry, 1024 * 1024)
        buffer.seek(0)
        storage.s3.upload_fileobj(buffer, storage.bucket, key,  # tagged: the bucket expires exports after 2 days
                                  ExtraArgs={"ContentType": "application/zip", "Tagging": "kind=export"})
    url = storage.s3.generate_presigned_url(
        "get_object", ExpiresIn=storage.url_ttl_seconds,
        Params={"Bucket": storage.bucket, "Key": key,
                "ResponseContentDisposition": f'attachment; filename="saleslens-export-{export_id[:8]}.zip"'})
    t.audit.record(ctx.tenant_id, "export_created", ctx.email, details={"export_id": export_id})
    return {"export_id": export_id, "url": url, "expires_in": storage.url_ttl_seconds}


def _records_jsonl(t: Tenancy, ctx: TenantContext) -> str:
    lines = []
    for item in t.store.tenant_items(ctx.tenant_id):
        record = {k: v for k, v in item.items() if k not in _PRIVATE_FIELDS}
        record["kind"] = item["sk"].split("#", 1)[0].lower()
        lines.append(json.dumps(record, default=str, sort_keys=True))
    return "\n".join(lines) + "\n"


def delete_tenant(t: Tenancy, storage: Storage, ctx: TenantContext) -> dict[str, int]:
    """Remove every object, record and login of the tenant. Order: data, logins, then records."""
    deleted_objects = sum(objects.purge_prefix(storage.s3, storage.bucket, p) for p in layout.tenant_prefixes(ctx))
    members = t.store.list_members(ctx.tenant_id)
    for member in members:
        t.users.delete_user(member.user_id)
    keys = [(item["pk"], item["sk"]) for item in t.store.tenant_items(ctx.tenant_id)]
    keys += [(f"USER#{m.user_id}", "TENANT") for m in members]
    # Items outside the tenant's partition that point into it: webhook key lookups (pk=WEBHOOKKEY#<id>).
    keys += [(sk, "META") for _, sk in list(keys) if sk.startswith("WEBHOOKKEY#")]
    t.store.delete_keys(keys)
    summary = {"objects": deleted_objects, "records": len(keys), "logins": len(members)}
    # The tenant's own audit log is gone with it; this structured line is the lasting record.
    logs.logger.info("tenant_deleted", extra={"audit": {"event": "tenant_deleted", "tenant_id": ctx.tenant_id,
                                                        "actor": ctx.email, **summary}})
    return summary
