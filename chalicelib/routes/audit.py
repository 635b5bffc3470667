"""/audit: the company's security log, newest first, for owners and admins."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.http import query_int
from chalicelib.routes.guard import endpoint, jwt_authorizer

bp = Blueprint(__name__)


@bp.route("/audit", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "audit:read")
def read_audit(ctx: TenantContext) -> dict[str, Any]:
    request = bp.current_request
    limit = query_int(request, "limit", 50, 1, 200)
    return services.tenancy().audit.page(ctx.tenant_id, limit, (request.query_params or {}).get("next"))
