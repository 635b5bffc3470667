"""/me/preferences: how the portal shows dates, numbers and the overview to the signed-in member."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.http import parse_body
from chalicelib.routes.guard import endpoint, jwt_authorizer
from chalicelib.tenancy import preferences

bp = Blueprint(__name__)


@bp.route("/me/preferences", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, None)
def get_preferences(ctx: TenantContext) -> dict[str, Any]:
    """The caller's preferences, defaults filled in when never saved."""
    return preferences.read(services.tenancy().store, ctx).model_dump(mode="json")


@bp.route("/me/preferences", methods=["PUT"], authorizer=jwt_authorizer)
@endpoint(bp, None)
def put_preferences(ctx: TenantContext) -> dict[str, Any]:
    """Replace the caller's preferences; fields left out take their defaults."""
    body = parse_body(bp.current_request, preferences.Preferences)
    return preferences.save(services.tenancy().store, ctx, body).model_dump(mode="json")
