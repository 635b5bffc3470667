"""Reports on record: one DynamoDB item per report (status, progress, what was asked, what came out) and the
rendered HTML and PDF sealed under the tenant's results, like the analysis artifacts.

Item layout: ``TENANT#<tid> / REPORT#<report_id>``; report ids sort by creation time (``p2026...``), so the newest
come first. ``request``, ``error`` and ``headlines`` are JSON text (they hold nested values DynamoDB would type).
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib import errors
from chalicelib.auth.permissions import TenantContext
from chalicelib.lake import layout
from chalicelib.results.artifacts import ArtifactStore
from chalicelib.results.runs import iso, new_run_id
from chalicelib.tenancy import paging
from chalicelib.tenancy.store import get_item, tenant_pk, to_item

QUEUED, RUNNING, READY, FAILED = "queued", "running", "ready", "failed"
PARTS = {"html": ("report.html", "text/html; charset=utf-8"), "pdf": ("report.pdf", "application/pdf")}
_PREFIX = "REPORT#"
_JSON_FIELDS = ("request", "error", "headlines", "period")
_INT_FIELDS = ("progress", "html_bytes", "pdf_bytes", "pages", "attempts")


def new_report_id() -> str:
    return new_run_id(prefix="p")


@dataclass
class Report:
    report_id: str
    status: str
    title: str
    request: dict[str, Any]                   # period, filters, sections, title as asked (JSON)
    created_by: str
    created_at: str = field(default_factory=lambda: iso(time.time()))
    schedule_id: str = ""
    step: str = ""
    progress: int = 0
    finished_at: str = ""
    error: dict[str, Any] = field(default_factory=dict)
    headlines: list[str] = field(default_factory=list)
    period_label: str = ""
    period: dict[str, str] = field(default_factory=dict)  # {"from", "to"}: the days covered, as resolved
    run_id: str = ""                          # the analysis run whose results the report shows
    html_bytes: int = 0
    pdf_bytes: int = 0
    pages: int = 0
    seconds: float = 0.0
    attempts: int = 0
    emailed: bool = False

    def public(self) -> dict[str, Any]:
        return asdict(self)


def _report(item: dict[str, Any]) -> Report:
    values = {name: item[name] for name in Report.__dataclass_fields__ if name in item}
    for name in _JSON_FIELDS:
        if isinstance(values.get(name), str):
            values[name] = json.loads(values[name])
    for name in _INT_FIELDS:
        values[name] = int(values.get(name, 0))
    values["seconds"] = float(values.get("seconds", 0))
    return Report(**values)


class ReportStore:
    """Report items in the tenant's partition; deleted with the company like everything there."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db, self._table = dynamodb, table_name

    def create(self, tenant_id: str, report: Report) -> Report:
        self._db.put_item(TableName=self._table, Item=to_item(self._item(tenant_id, report)),
                          ConditionExpression="attribute_not_exists(pk)")
        return report

    def get(self, tenant_id: str, report_id: str) -> Report | None:
        if not report_id.startswith("p") or len(report_id) > 40:
            return None
        item = get_item(self._db, self._table, tenant_pk(tenant_id), f"{_PREFIX}{report_id}")
        return _report(item) if item else None

    def save(self, tenant_id: str, report: Report) -> None:
        """Write the whole record (one worker owns a report while it builds it)."""
        self._db.put_item(TableName=self._table, Item=to_item(self._item(tenant_id, report)))

    def page(self, tenant_id: str, limit: int = 20, next_token: str | None = None) -> dict[str, Any]:
        items, following = paging.newest_first(self._db, self._table, tenant_id, _PREFIX, limit, next_token,
                                               consistent=True)
        return {"reports": [_report(item).public() for item in items], "next": following}

    def _item(self, tenant_id: str, report: Report) -> dict[str, Any]:
        values = asdict(report)
        for name in _JSON_FIELDS:
            values[name] = json.dumps(values[name])
        values["seconds"] = str(round(report.seconds, 3))
        return {"pk": tenant_pk(tenant_id), "sk": f"{_PREFIX}{report.report_id}", "tenant_id": tenant_id, **values}


class ReportFiles:
    """The rendered report, sealed with the artifacts' envelope encryption; the PDF leaves through a presigned URL
    to a short-lived decrypted copy (the bucket's lifecycle rule expires objects tagged ``kind=export``)."""

    def __init__(self, sealer: ArtifactStore, s3: Any, bucket: str, url_ttl_seconds: int = 300) -> None:
        self._sealer, self._s3, self._bucket, self.url_ttl_seconds = sealer, s3, bucket, url_ttl_seconds

    def put(self, ctx: TenantContext, report_id: str, part: str, data: bytes) -> int:
        name, _ = PARTS[part]
        return self._sealer.put_sealed(layout.report_key(ctx, report_id, name), data,
                                       _context(ctx, report_id, name))

    def get(self, ctx: TenantContext, report_id: str, part: str) -> bytes:
        name, _ = PARTS[part]
        missing = errors.NotFound(f"Report '{report_id}' has no {part.upper()} yet.")
        try:
            key = layout.report_key(ctx, report_id, name)
        except ValueError:
            raise missing from None
        return self._sealer.get_sealed(key, _context(ctx, report_id, name), missing)

    def download_url(self, ctx: TenantContext, report: Report) -> dict[str, Any]:
        """A presigned GET for the PDF, valid ``url_ttl_seconds``; the file name says what and when."""
        data = self.get(ctx, report.report_id, "pdf")
        key = layout.report_download_key(ctx, report.report_id, secrets.token_hex(8))
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="application/pdf",
                            ServerSideEncryption="aws:kms", Tagging="kind=export")
        filename = f"saleslens-report-{report.created_at[:10]}-{report.report_id[-8:]}.pdf"
        url = self._s3.generate_presigned_url("get_object", ExpiresIn=self.url_ttl_seconds, Params={
            "Bucket": self._bucket, "Key": key, "ResponseContentType": "application/pdf",
            "ResponseContentDisposition": f'attachment; filename="{filename}"'})
        return {"url": url, "expires_in": self.url_ttl_seconds, "filename": filename}


def _context(ctx: TenantContext, report_id: str, part: str) -> dict[str, str]:
    return {"tenant_id": ctx.tenant_id, "report_id": report_id, "artifact": part}
