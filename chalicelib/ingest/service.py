"""Ingestion: from a file in S3 (or records from a webhook or a form) to a committed lake batch.

Every door ends in ``_load``: read chunks → rename by the confirmed mapping → clean and validate →
write accepted rows to a batch, rejected rows to the rejects file → commit → ask for an analysis.
Memory stays bounded: one chunk at a time, parts spooled to disk, the raw file downloaded to a
temporary file rather than held in memory.
"""
from __future__ import annotations

import json
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from chalicelib import errors, logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.explore.cache import AnswerCache
from chalicelib.ingest import limits
from chalicelib.ingest import uploads as status
from chalicelib.ingest.clean import Cleaner
from chalicelib.ingest.filenames import display_name, key_name
from chalicelib.ingest.mapping import ColumnMapping, header_signature, propose_mapping
from chalicelib.ingest.prefetch import prefetched
from chalicelib.ingest.quality import quality_report
from chalicelib.ingest.readers import TableStream, open_table
from chalicelib.ingest.schema import DATASETS
from chalicelib.ingest.uploads import Upload, UploadStore
from chalicelib.lake import batches, layout
from chalicelib.lake.batches import BatchWriter
from chalicelib.query.engine import QueryEngine

ALLOWED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".ndjson", ".json", ".parquet", ".gz", ".zip")
_MAX_REJECTS_IN_MEMORY = 50_000


def new_id(prefix: str) -> str:
    """Time-ordered ids, so newest-first listings need no index."""
    return f"{prefix}{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}{secrets.token_hex(4)}"


@dataclass
class IngestionService:
    s3: Any
    sqs: Any
    bucket: str
    kms_key_id: str
    uploads: UploadStore
    engine: QueryEngine
    ingest_queue_url: str
    jobs_queue_url: str
    max_bytes: int
    url_ttl_seconds: int
    overviews: AnswerCache = field(default_factory=lambda: AnswerCache(max_entries=1000))  # per tenant + lake version
    read_bounds: limits.ReadBounds = field(default_factory=limits.ReadBounds)  # archive expansion, line length

    # -- the portal door --------------------------------------------------------------------
    def create_upload(self, ctx: TenantContext, filename: str, size: int, dataset: str) -> dict[str, Any]:
        """An upload record plus a presigned POST whose policy enforces the size limit and encryption."""
        if dataset not in DATASETS:
            raise errors.ValidationFailed(f"Unknown dataset '{dataset}'. Use one of: {', '.join(DATASETS)}.")
        name = display_name(filename)
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            raise errors.UnsupportedFile()
        if size > self.max_bytes:
            raise errors.FileTooLarge(f"The file is {size:,} bytes; the limit is {self.max_bytes:,}. "
                                      "Split it, or compress it as .gz or .zip.")
        upload_id = new_id("u")
        key = layout.raw_key(ctx, upload_id, key_name(name))
        record = self.uploads.put(Upload(tenant_id=ctx.tenant_id, upload_id=upload_id, dataset=dataset,
                                         filename=name, source="upload", key=key, size=size,
                                         created_by=ctx.email))
        fields = {"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id":
                  self.kms_key_id}
        conditions: list[Any] = [["content-length-range", 1, self.max_bytes],
                                 {"x-amz-server-side-encryption": "aws:kms"},
                                 {"x-amz-server-side-encryption-aws-kms-key-id": self.kms_key_id}]
        form = self.s3.generate_presigned_post(self.bucket, key, Fields=fields, Conditions=conditions,
                                               ExpiresIn=self.url_ttl_seconds)
        return {"upload": record.public(), "form": form}

    def confirm_mapping(self, ctx: TenantContext, upload_id: str, columns: dict[str, str]) -> Upload:
        """Save the mapping for files shaped like this one and queue the load."""
        upload = self.get(ctx, upload_id)
        if upload.status not in (status.NEEDS_MAPPING, status.FAILED) or not upload.headers:
            raise errors.Conflict(f"This upload is '{upload.status}'; a mapping can be confirmed only once the "
                                  "file has been read and before it is loaded.")
        mapping = ColumnMapping.from_dict({**upload.proposal, "columns": columns, "dataset": upload.dataset})
        problems = mapping.problems(upload.headers)
        if problems:
            raise errors.ValidationFailed("The column mapping is not usable yet; see details.",
                                          [{"problem": p} for p in problems])
        self.uploads.save_mapping(ctx.tenant_id, upload.dataset, header_signature(upload.headers),
                                  mapping.to_dict(), ctx.email)
        upload.mapping, upload.status, upload.error = mapping.to_dict(), status.QUEUED, {}
        self.uploads.put(upload)
        self._send(self.ingest_queue_url, {"kind": "ingest_upload", "tenant_id": ctx.tenant_id,
                                           "upload_id": upload_id})
        return upload

    def get(self, ctx: TenantContext, upload_id: str) -> Upload:
        upload = self.uploads.get(ctx.tenant_id, upload_id)
        if upload is None:
            raise errors.NotFound("No such upload in your company.")
        return upload

    def rejects_url(self, ctx: TenantContext, upload_id: str) -> str:
        upload = self.get(ctx, upload_id)
        if not upload.rejects_key:
            raise errors.NotFound("This upload has no rejected rows.")
        return self.s3.generate_presigned_url(
            "get_object", ExpiresIn=900, Params={
                "Bucket": self.bucket, "Key": upload.rejects_key,
                "ResponseContentDisposition": f'attachment; filename="rejects-{upload.upload_id}.csv"'})

    # -- S3 events: a file arrived under raw/ (portal) or drop/ (the tenant's inbox) ---------------
    def object_created(self, key: str, size: int) -> Upload | None:
        """Read the new file's header, propose a mapping; load at once when a drop matches a saved mapping."""
        tenant_id = layout.tenant_of_key(key)
        if tenant_id is None:
            logs.logger.warning("object outside tenant prefixes ignored", extra={"key": key})
            return None
        ctx = TenantContext(tenant_id, "system", "analyst", "s3-event")
        upload = self._upload_for_key(ctx, key, size)
        if upload is None:
            return None
        try:
            return self._read(upload)
        except Exception as exc:
            return self._fail_unexpectedly(upload, exc)

    def _read(self, upload: Upload) -> Upload:
        try:
            with self._download(upload.key) as file:
                stream = open_table(file, upload.filename, bounds=self.read_bounds)
                self._describe(upload, stream)
        except errors.SalesLensError as exc:
            return self._fail(upload, exc)
        tenant_id = upload.tenant_id
        saved = self.uploads.saved_mapping(tenant_id, upload.dataset, header_signature(upload.headers))
        if saved:
            upload.proposal = {**saved, "saved": True}
        ready = ColumnMapping.from_dict(upload.proposal)
        upload.status = status.NEEDS_MAPPING
        if upload.source == "drop" and not ready.problems(upload.headers):
            upload.mapping, upload.status = ready.to_dict(), status.QUEUED
            self.uploads.put(upload)
            return self.ingest_upload(tenant_id, upload.upload_id)
        return self.uploads.put(upload)

    def _upload_for_key(self, ctx: TenantContext, key: str, size: int) -> Upload | None:
        if key.startswith("raw/"):
            upload_id = key.split("/")[2]
            upload = self.uploads.get(ctx.tenant_id, upload_id)
            if upload is None or upload.key != key or upload.status != status.WAITING_FOR_FILE:
                logs.logger.warning("raw object without a waiting upload ignored", extra={"key": key})
                return None
            upload.size = size
            return upload
        filename = display_name(key.rsplit("/", 1)[-1])
        upload_id = new_id("d")
        return Upload(tenant_id=ctx.tenant_id, upload_id=upload_id, dataset=_dataset_of_drop(key), filename=filename,
                      source="drop", key=key, size=size, created_by="s3 inbox")

    def _describe(self, upload: Upload, stream: TableStream) -> None:
        limits.check_headers(list(stream.columns))
        sample = stream.sample(1000)
        limits.check_values(sample)
        upload.format, upload.headers = stream.format, list(stream.columns)
        head = sample.head(limits.PREVIEW_ROWS)
        upload.preview = limits.preview(head.astype(object).where(head.notna(), None).to_dict("records"))
        upload.proposal = propose_mapping(upload.headers, sample, upload.dataset).to_dict()

    # -- the load ---------------------------------------------------------------------------
    def ingest_upload(self, tenant_id: str, upload_id: str) -> Upload:
        """Load a confirmed upload. Any failure marks it failed with a message; the mapping can be confirmed again."""
        upload = self.uploads.get(tenant_id, upload_id)
        if upload is None or upload.status not in (status.QUEUED, status.INGESTING):
            logs.logger.info("nothing to ingest", extra={"upload_id": upload_id})
            return upload  # type: ignore[return-value]
        try:
            return self._ingest(upload)
        except Exception as exc:
            return self._fail_unexpectedly(upload, exc)

    def _ingest(self, upload: Upload) -> Upload:
        ctx = TenantContext(upload.tenant_id, "system", "analyst", "ingest")
        upload.status = status.INGESTING
        self.uploads.put(upload)
        try:
            mapping = ColumnMapping.from_dict(upload.mapping)
            with self._download(upload.key) as file:
                stream = open_table(file, upload.filename, bounds=self.read_bounds)
                result = self._load(ctx, upload.dataset, stream, mapping, upload.source, upload.upload_id)
        except errors.SalesLensError as exc:
            return self._fail(upload, exc)
        upload.status, upload.summary, upload.quality = status.LOADED, result["summary"], result["quality"]
        upload.batch_id, upload.rejects_key = result["batch_id"], result["rejects_key"]
        return self.uploads.put(upload)

    def ingest_records(self, ctx: TenantContext, frame: pd.DataFrame, source: str,
                       dataset: str = "transactions") -> dict[str, Any]:
        """Load rows that arrive as records (webhooks, manual entry): columns are already canonical names."""
        stream = TableStream(columns=list(frame.columns), format="records", details={},
                             chunks=iter([frame.reset_index(drop=True)]))
        identity = ColumnMapping(dataset=dataset, columns={c: c for c in frame.columns if c in _canonical(dataset)},
                                 confidence={}, extras=[c for c in frame.columns if c not in _canonical(dataset)])
        return self._load(ctx, dataset, stream, identity, source, new_id("r"))

    def _load(self, ctx: TenantContext, dataset: str, stream: TableStream, mapping: ColumnMapping, source: str,
              upload_id: str) -> dict[str, Any]:
        renames = _renames(mapping)
        sample = stream.sample(1000).rename(columns=renames)
        cleaner = Cleaner(dataset, sample, known_fingerprints=self._known_fingerprints(ctx, dataset))
        batch_id = new_id("b")
        rejects = RejectsFile()
        cleaned = cleaner.clean_all(chunk.rename(columns=renames) for chunk in stream.chunks)
        with BatchWriter(self.s3, self.bucket, self.kms_key_id, ctx, dataset, batch_id) as writer:
            for result in prefetched(cleaned):
                rejects.add(result.rejects)
                if len(result.accepted):
                    accepted = result.accepted.assign(source=source, batch_id=batch_id)
                    writer.write(accepted)
            rejects.add(pd.DataFrame(stream.malformed or [], columns=["row", "text", "reason"]).rename(
                columns={"text": "value"}))
            summary = cleaner.summary()
            summary["rows_malformed"] = len(stream.malformed or [])
            rejects_key = ""
            if rejects.count:
                rejects_key = layout.rejects_key(ctx, upload_id)
                rejects.upload(self.s3, self.bucket, rejects_key, self.kms_key_id)
            committed = writer.commit({"source": source, "upload_id": upload_id, "rows": summary.get("rows_accepted")})
        if dataset == "transactions" and committed.get("manifest"):
            self._rollup(ctx, batch_id)
        report = quality_report(summary)
        logs.logger.info("batch committed", extra={"batch_id": batch_id, "dataset": dataset,
                                                   "rows": summary.get("rows_accepted"), "source": source})
        if summary.get("rows_accepted"):
            self._send(self.jobs_queue_url, {"kind": "analyze_tenant", "tenant_id": ctx.tenant_id,
                                             "reason": f"{dataset} batch {batch_id}", "batch_id": batch_id})
        return {"batch_id": batch_id if committed.get("rows") else "", "summary": summary, "quality": report,
                "rejects_key": rejects_key, "rejects": rejects.first}

    def _rollup(self, ctx: TenantContext, batch_id: str) -> None:
        """The batch's Explore rollup. A failure here loses nothing: Explore rebuilds missing rollups itself."""
        from chalicelib.explore.rollups import Rollups

        try:
            Rollups(self.s3, self.bucket, self.kms_key_id, self.engine).build(ctx, batch_id)
        except Exception:
            logs.logger.exception("rollup not written; Explore will build it", extra={"batch_id": batch_id})

    def _known_fingerprints(self, ctx: TenantContext, dataset: str) -> np.ndarray:
        """Fingerprints of rows already in the lake, so an overlapping export is never counted twice."""
        frame = self.engine.query(ctx, f"SELECT row_fingerprint FROM {dataset}")
        return np.sort(frame["row_fingerprint"].dropna().to_numpy(dtype=np.int64))

    def datasets(self, ctx: TenantContext) -> list[dict[str, Any]]:
        """What the tenant has loaded, per dataset. Counted through the query engine once per lake version (every
        commit and deletion rewrites the version marker), so a busy Data page costs one HEAD per request."""
        version = batches.lake_version(self.s3, self.bucket, ctx)
        if version is None:  # a lake from before version markers: count every time
            return self._count_datasets(ctx)
        key = AnswerCache.key(ctx.tenant_id, version, "datasets", None)
        overview = self.overviews.get(key)
        if overview is None:
            overview = self._count_datasets(ctx)
            self.overviews.put(key, overview)
        return overview

    def _count_datasets(self, ctx: TenantContext) -> list[dict[str, Any]]:
        overview = []
        for name, dataset in DATASETS.items():
            if name == "transactions":
                sql = ("SELECT count(*) AS rows, min(ts) AS date_from, max(ts) AS date_to, "
                       "count(DISTINCT customer_id) AS customers, count(DISTINCT coalesce(product_id, product_name)) "
                       "AS products, sum(CASE WHEN is_return THEN 0 ELSE amount END) AS revenue FROM transactions")
            else:
                sql = f"SELECT count(*) AS rows FROM {name}"
            row = self.engine.query(ctx, sql).iloc[0].to_dict()
            facts = {k: (None if pd.isna(v) else v.isoformat() if hasattr(v, "isoformat") else
                         int(v) if k != "revenue" else round(float(v), 2)) for k, v in row.items()}
            if name == "transactions" and facts["rows"]:
                facts["currencies"] = self._currencies(ctx)
            overview.append({"dataset": name, "title": dataset.title, **facts})
        return overview

    def _currencies(self, ctx: TenantContext) -> list[str]:
        """The currencies the sales are recorded in, most rows first, so totals can say what they are in (and
        the portal can warn when amounts in several currencies are being added up)."""
        frame = self.engine.query(ctx, "SELECT currency, count(*) AS line_count FROM transactions WHERE currency "
                                       "IS NOT NULL GROUP BY currency ORDER BY line_count DESC, currency")
        return [str(code) for code in frame["currency"]]

    # -- plumbing -----------------------------------------------------------------------------
    def _download(self, key: str) -> BinaryIO:
        """The raw object as a seekable temporary file (readers sniff and rewind; memory stays flat)."""
        file = tempfile.TemporaryFile()
        self.s3.download_fileobj(self.bucket, key, file)
        file.seek(0)
        return file

    def _fail(self, upload: Upload, exc: errors.SalesLensError) -> Upload:
        upload.status = status.FAILED
        upload.error = limits.error_record(exc)
        logs.logger.info("upload failed", extra={"upload_id": upload.upload_id, "code": exc.code})
        return self.uploads.put(upload)

    def _fail_unexpectedly(self, upload: Upload, exc: Exception) -> Upload:
        """Any other failure (a bug, an AWS error, a record that will not store): the upload ends ``failed`` with
        a reference to the log line, so it never waits for ever. Only if even that cannot be stored does the
        exception reach the queue, which retries the message and then parks it on the dead-letter queue."""
        reference = logs.correlation_id() or logs.new_correlation_id()
        logs.logger.error("upload failed unexpectedly", exc_info=exc, extra={
            "upload_id": upload.upload_id, "reference": reference, "upload_status": upload.status})
        upload.status, upload.error = status.FAILED, _unexpected(reference, read=bool(upload.headers))
        try:
            return self.uploads.put(upload)
        except Exception:
            logs.logger.exception("failed upload not recorded in full; recording its state only",
                                  extra={"upload_id": upload.upload_id, "reference": reference})
        bare = Upload(tenant_id=upload.tenant_id, upload_id=upload.upload_id, dataset=upload.dataset,
                      filename=upload.filename, source=upload.source, key=upload.key, status=status.FAILED,
                      size=upload.size, created_at=upload.created_at, created_by=upload.created_by,
                      error=_unexpected(reference, read=False))
        return self.uploads.put(bare)

    def _send(self, queue_url: str, message: dict[str, Any]) -> None:
        message = {**message, "correlation_id": logs.correlation_id() or logs.new_correlation_id()}
        self.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))


class RejectsFile:
    """Rejected rows with their reasons, spooled to disk and uploaded as one CSV."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+b")
        self.count = 0
        self.first: list[dict[str, Any]] = []  # a few, to answer small requests (manual entry) inline

    def add(self, rejects: pd.DataFrame) -> None:
        if rejects is None or rejects.empty:
            return
        frame = rejects.reindex(columns=["row", "column", "value", "reason"])
        frame.to_csv(self._file, header=self.count == 0, index=False, encoding="utf-8")
        self.count += len(frame)
        if len(self.first) < 20:
            self.first += frame.head(20 - len(self.first)).astype(object).where(frame.notna(), None).to_dict("records")

    def upload(self, s3: Any, bucket: str, key: str, kms_key_id: str) -> None:
        self._file.seek(0)
        s3.upload_fileobj(self._file, bucket, key, ExtraArgs={
            "ContentType": "text/csv", "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id})


def _unexpected(reference: str, read: bool) -> dict[str, Any]:
    """The error of an upload that failed for a reason of ours: what to do, and the reference of the log line."""
    again = ("Load it again with the same column mapping, or upload the file again" if read
             else "Upload the file again")
    return {"code": "ingest_failed", "details": [], "message": (
        f"SalesLens could not process this file because of a problem on our side (reference {reference}). "
        f"Nothing was loaded from it. {again}; if it fails again, send us the reference through Feedback.")}


def _canonical(dataset: str) -> set[str]:
    return set(DATASETS[dataset].column_names)


def _renames(mapping: ColumnMapping) -> dict[str, str]:
    """Source header → canonical name; an extra column whose name clashes with a canonical one is suffixed."""
    renames = {header: canonical for canonical, header in mapping.columns.items()}
    reserved = {c.name for c in DATASETS[mapping.dataset].columns + DATASETS[mapping.dataset].derived}
    for extra in mapping.extras:
        if extra not in renames and extra in reserved:
            renames[extra] = f"{extra}_original"
    return renames


def _dataset_of_drop(key: str) -> str:
    """``drop/<tenant>/<dataset>/file.csv`` picks the dataset; anything else is transactions."""
    parts = key.split("/")
    return parts[2] if len(parts) > 3 and parts[2] in DATASETS else "transactions"
