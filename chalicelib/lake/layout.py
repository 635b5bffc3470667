"""The one place that builds S3 keys; every function needs the tenant's context.

Ids that become key segments are validated here, so a crafted id (``../other``, ``a/b``) can never
point a key into another tenant's prefix.
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from chalicelib.auth.permissions import TenantContext
from chalicelib.ingest.schema import TABLES

_TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.=-]{0,127}")


def _tenant(ctx: TenantContext) -> str:
    if not _TENANT_ID.fullmatch(ctx.tenant_id or ""):
        raise ValueError(f"not a valid tenant id: {ctx.tenant_id!r}")
    return ctx.tenant_id


def _segment(value: str, what: str) -> str:
    if not _SEGMENT.fullmatch(value or "") or ".." in value:
        raise ValueError(f"not a valid {what}: {value!r}")
    return value


def _dataset(dataset: str) -> str:
    if dataset not in TABLES:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(TABLES)}")
    return dataset


def tenant_prefixes(ctx: TenantContext) -> list[str]:
    """Every prefix that holds this tenant's data: raw uploads, its S3 inbox, lake, results, exports."""
    tenant = _tenant(ctx)
    return [f"raw/{tenant}/", f"drop/{tenant}/", f"tenants/{tenant}/"]


def exports_prefix(ctx: TenantContext) -> str:
    return f"tenants/{_tenant(ctx)}/exports/"


def export_key(ctx: TenantContext, export_id: str) -> str:
    return f"{exports_prefix(ctx)}{_segment(export_id, 'export id')}.zip"


def raw_key(ctx: TenantContext, upload_id: str, filename: str) -> str:
    """Where an upload is kept as received; only the base name of ``filename`` is used (browsers send paths)."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    if name in ("", ".", "..") or "\x00" in name:
        raise ValueError(f"not a valid file name: {filename!r}")
    return f"raw/{_tenant(ctx)}/{_segment(upload_id, 'upload id')}/{name}"


def drop_prefix(ctx: TenantContext) -> str:
    return f"drop/{_tenant(ctx)}/"


def dataset_prefix(ctx: TenantContext, dataset: str) -> str:
    return f"tenants/{_tenant(ctx)}/lake/{_dataset(dataset)}/"


def lake_version_key(ctx: TenantContext) -> str:
    """Rewritten after every commit or deletion of a batch: its ETag names the state of the tenant's lake."""
    return f"tenants/{_tenant(ctx)}/lake/_version"


def batch_prefix(ctx: TenantContext, dataset: str, batch_id: str) -> str:
    return f"{dataset_prefix(ctx, dataset)}batch={_segment(batch_id, 'batch id')}/"


def part_key(ctx: TenantContext, dataset: str, batch_id: str, n: int) -> str:
    if n < 0:
        raise ValueError(f"part number must not be negative: {n}")
    return f"{batch_prefix(ctx, dataset, batch_id)}part-{n:05d}.parquet"


def manifest_prefix(ctx: TenantContext, dataset: str) -> str:
    """Athena's table location: every object here is read as a symlink manifest, so nothing else goes here."""
    return f"{dataset_prefix(ctx, dataset)}_manifests/"


def manifest_key(ctx: TenantContext, dataset: str, batch_id: str) -> str:
    return f"{manifest_prefix(ctx, dataset)}{_segment(batch_id, 'batch id')}.manifest"


def batch_info_prefix(ctx: TenantContext, dataset: str) -> str:
    """Batch metadata lives beside, not inside, ``_manifests/`` (Athena would parse it as a manifest)."""
    return f"{dataset_prefix(ctx, dataset)}_batches/"


def batch_info_key(ctx: TenantContext, dataset: str, batch_id: str) -> str:
    return f"{batch_info_prefix(ctx, dataset)}{_segment(batch_id, 'batch id')}.json"


def rejects_key(ctx: TenantContext, upload_id: str) -> str:
    return f"tenants/{_tenant(ctx)}/rejects/{_segment(upload_id, 'upload id')}.csv"


def results_key(ctx: TenantContext, run_id: str, artifact: str) -> str:
    return f"tenants/{_tenant(ctx)}/results/{_segment(run_id, 'run id')}/{_segment(artifact, 'artifact')}.parquet.enc"


def report_key(ctx: TenantContext, report_id: str, part: str) -> str:
    """A rendered report (``report.html`` or ``report.pdf``), sealed like the artifacts beside it."""
    return f"tenants/{_tenant(ctx)}/results/reports/{_segment(report_id, 'report id')}/{_segment(part, 'part')}.enc"


def report_download_key(ctx: TenantContext, report_id: str, token: str) -> str:
    """A short-lived decrypted copy of a report's PDF for a presigned download (tagged: the bucket expires it)."""
    return f"{exports_prefix(ctx)}reports/{_segment(report_id, 'report id')}-{_segment(token, 'token')}.pdf"


def tenant_of_key(key: str) -> str | None:
    """The tenant whose upload (``raw/<t>/<upload>/<file>``) or inbox file (``drop/<t>/...``) ``key`` is.

    ``None`` for any other key, a folder marker, or a malformed one. S3 event keys arrive URL-encoded:
    unquote them (``urllib.parse.unquote_plus``) before calling.
    """
    parts = key.split("/")
    if len(parts) < 3 or parts[0] not in ("raw", "drop") or not _TENANT_ID.fullmatch(parts[1]):
        return None
    rest = parts[2:]
    if not rest[-1] or any(segment in ("", ".", "..") for segment in rest):
        return None
    if parts[0] == "raw" and (len(rest) != 2 or not _SEGMENT.fullmatch(rest[0])):
        return None
    return parts[1]


def webhook_buffer_prefix(ctx: TenantContext) -> str:
    """Where accepted webhook deliveries wait, one JSON-lines object per call, until a flush loads them."""
    return f"tenants/{_tenant(ctx)}/buffer/webhooks/"
