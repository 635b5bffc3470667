"""/me and /roles: the signed-in user, their company and what their role allows."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import errors, services
from chalicelib.auth.permissions import PERMISSIONS, TenantContext
from chalicelib.http import parse_body
from chalicelib.routes import schemas
from chalicelib.routes.guard import access_token, endpoint, jwt_authorizer
from chalicelib.tenancy import lifecycle, service

bp = Blueprint(__name__)


def _profile(ctx: TenantContext) -> dict[str, Any]:
    t = services.tenancy()
    member = service.get_member(t, ctx, ctx.user_id)
    tenant = t.store.get_tenant(ctx.tenant_id)
    return {**member.public(), "permissions": sorted(PERMISSIONS[member.role]),
            "tenant": {"tenant_id": ctx.tenant_id, "name": tenant.name if tenant else ""}}


@bp.route("/me", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, None)
def me(ctx: TenantContext) -> dict[str, Any]:
    return _profile(ctx)


@bp.route("/me", methods=["PATCH"], authorizer=jwt_authorizer)
@endpoint(bp, None)
def update_me(ctx: TenantContext) -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.Profile)
    changes = {k: str(v) for k, v in body.model_dump(exclude_none=True).items()}
    if not changes:
        raise errors.ValidationFailed("Send a new name or email.", [{"field": "body", "problem": "no changes"}])
    t = services.tenancy()
    t.users.update_attributes(access_token(bp.current_request), changes)
    t.store.update_member(ctx.tenant_id, ctx.user_id, **changes)
    t.audit.record(ctx.tenant_id, "profile_updated", ctx.email, details={"fields": sorted(changes)})
    return _profile(ctx)


@bp.route("/me", methods=["DELETE"], authorizer=jwt_authorizer)
@endpoint(bp, None)
def delete_me(ctx: TenantContext) -> Response:
    """Delete the caller's login; the only member's company (and all its data) goes with it."""
    body = parse_body(bp.current_request, schemas.PasswordOnly)
    t = services.tenancy()
    t.users.check_password(ctx.email, body.password)
    if service.leave_or_close(t, ctx):
        lifecycle.delete_tenant(t, services.storage(), ctx)
    else:
        services.reports().forget_member(ctx.tenant_id, ctx.email)
    return Response(body="", status_code=204)


@bp.route("/roles", methods=["GET"], authorizer=jwt_authorizer)
def roles() -> dict[str, Any]:
    return {"roles": {role: sorted(perms) for role, perms in PERMISSIONS.items()}}
