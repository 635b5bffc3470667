"""/feedback: any member sends an idea, problem or question; owners and admins read what their company sent."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.http import parse_body, query_int
from chalicelib.routes import schemas
from chalicelib.routes.guard import endpoint, jwt_authorizer
from chalicelib.tenancy import feedback

bp = Blueprint(__name__)


@bp.route("/feedback", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, None)
def send_feedback(ctx: TenantContext) -> Response:
    """Store the feedback and e-mail it to support; ``sent`` is false when the e-mail failed (it is kept)."""
    body = parse_body(bp.current_request, schemas.FeedbackNote)
    note = feedback.submit(services.tenancy(), services.feedback(), ctx, body.kind, body.message, body.page)
    return Response(body={"feedback_id": note.feedback_id, "created_at": note.created_at, "sent": note.sent},
                    status_code=201)


@bp.route("/feedback", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "audit:read")
def list_feedback(ctx: TenantContext) -> dict[str, Any]:
    """The company's feedback, newest first."""
    request = bp.current_request
    limit = query_int(request, "limit", 50, 1, 200)
    return services.feedback().store.page(ctx.tenant_id, limit, (request.query_params or {}).get("next"))
