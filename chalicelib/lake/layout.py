"""The one place that builds S3 keys; every function needs the tenant's context."""
from __future__ import annotations

from chalicelib.auth.permissions import TenantContext


def tenant_prefixes(ctx: TenantContext) -> list[str]:
    """Every prefix that holds this tenant's data: raw uploads, its S3 inbox, lake, results, exports."""
    return [f"raw/{ctx.tenant_id}/", f"drop/{ctx.tenant_id}/", f"tenants/{ctx.tenant_id}/"]


def exports_prefix(ctx: TenantContext) -> str:
    return f"tenants/{ctx.tenant_id}/exports/"


def export_key(ctx: TenantContext, export_id: str) -> str:
    return f"{exports_prefix(ctx)}{export_id}.zip"
