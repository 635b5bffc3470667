"""/members and /invitations: the team of a company and how people join it."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.http import parse_body
from chalicelib.routes import schemas
from chalicelib.routes.guard import endpoint, jwt_authorizer
from chalicelib.tenancy import service

bp = Blueprint(__name__)


@bp.route("/members", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "members:read")
def list_members(ctx: TenantContext) -> dict[str, Any]:
    members = sorted(services.tenancy().store.list_members(ctx.tenant_id), key=lambda m: m.joined_at)
    return {"members": [m.public() for m in members]}


@bp.route("/members/{user_id}", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "members:read")
def get_member(ctx: TenantContext, user_id: str) -> dict[str, Any]:
    return service.get_member(services.tenancy(), ctx, user_id).public()


@bp.route("/members/{user_id}", methods=["PATCH"], authorizer=jwt_authorizer)
@endpoint(bp, "members:change_role")
def change_role(ctx: TenantContext, user_id: str) -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.RoleChange)
    return service.change_role(services.tenancy(), ctx, user_id, body.role).public()


@bp.route("/members/{user_id}", methods=["DELETE"], authorizer=jwt_authorizer)
@endpoint(bp, "members:remove")
def remove_member(ctx: TenantContext, user_id: str) -> Response:
    leaving = services.tenancy().store.get_member(ctx.tenant_id, user_id)
    service.remove_member(services.tenancy(), ctx, user_id)
    if leaving is not None:
        services.reports().forget_member(ctx.tenant_id, leaving.email)
    return Response(body="", status_code=204)


@bp.route("/invitations", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "members:invite")
def invite(ctx: TenantContext) -> Response:
    body = parse_body(bp.current_request, schemas.Invite)
    return Response(body=service.invite(services.tenancy(), ctx, str(body.email), body.role), status_code=201)


@bp.route("/invitations", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "members:invite")
def list_invitations(ctx: TenantContext) -> dict[str, Any]:
    return {"invitations": [i.public() for i in services.tenancy().store.list_invitations(ctx.tenant_id)]}


@bp.route("/invitations/{invitation_id}", methods=["DELETE"], authorizer=jwt_authorizer)
@endpoint(bp, "members:invite")
def revoke_invitation(ctx: TenantContext, invitation_id: str) -> Response:
    service.revoke_invitation(services.tenancy(), ctx, invitation_id)
    return Response(body="", status_code=204)
