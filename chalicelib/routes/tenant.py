"""/tenant: the company itself — rename, export everything, delete everything."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import errors, services
from chalicelib.auth.permissions import TenantContext
from chalicelib.http import parse_body
from chalicelib.routes import schemas
from chalicelib.routes.guard import endpoint, jwt_authorizer
from chalicelib.tenancy import lifecycle

bp = Blueprint(__name__)


def _tenant(ctx: TenantContext) -> dict[str, Any]:
    t = services.tenancy()
    tenant = t.store.get_tenant(ctx.tenant_id)
    if tenant is None:
        raise errors.NotFound("Your company no longer exists.")
    return {"tenant_id": tenant.tenant_id, "name": tenant.name, "created_at": tenant.created_at,
            "member_count": len(t.store.list_members(ctx.tenant_id))}


@bp.route("/tenant", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:read")
def get_tenant(ctx: TenantContext) -> dict[str, Any]:
    return _tenant(ctx)


@bp.route("/tenant", methods=["PATCH"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:update")
def rename_tenant(ctx: TenantContext) -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.TenantName)
    t = services.tenancy()
    t.store.rename_tenant(ctx.tenant_id, body.name)
    t.audit.record(ctx.tenant_id, "tenant_renamed", ctx.email, details={"name": body.name})
    return _tenant(ctx)


@bp.route("/tenant/export", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:export")
def export_tenant(ctx: TenantContext) -> dict[str, Any]:
    return lifecycle.export_tenant(services.tenancy(), services.storage(), ctx)


@bp.route("/tenant", methods=["DELETE"], authorizer=jwt_authorizer)
@endpoint(bp, "tenant:delete")
def delete_tenant(ctx: TenantContext) -> Response:
    body = parse_body(bp.current_request, schemas.DeleteTenant)
    name = _tenant(ctx)["name"]
    if body.confirm != name:
        raise errors.ValidationFailed("Type the company name exactly to confirm deletion.",
                                      [{"field": "confirm", "problem": "does not match the company name"}])
    lifecycle.delete_tenant(services.tenancy(), services.storage(), ctx)
    return Response(body="", status_code=204)
