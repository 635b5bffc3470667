"""The built-in JWT authorizer and the decorator through which each route declares its permission."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Blueprint

from chalicelib import errors, logs, services
from chalicelib.auth.authorizer import authorize
from chalicelib.auth.permissions import TenantContext
from chalicelib.auth.tokens import InvalidToken

bp = Blueprint(__name__)


class Unauthorized(Exception):
    """API Gateway answers 401 when a Lambda authorizer fails with exactly this message."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@bp.authorizer(ttl_seconds=0)  # no caching: a role change or logout applies to the very next call
def jwt_authorizer(auth_request: Any) -> AuthResponse:
    try:
        claims, context = authorize(auth_request.token, services.verifier(), services.tenancy().store)
    except InvalidToken as exc:
        logs.logger.info("token rejected", extra={"reason": str(exc)})
        raise Unauthorized() from None
    return AuthResponse(routes=["*"], principal_id=claims.sub, context=context)


def caller(request: Any) -> dict[str, str]:
    """The authorizer's context for this request."""
    return dict((request.context or {}).get("authorizer") or {})


def access_token(request: Any) -> str:
    value = request.headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else value.strip()


def endpoint(blueprint: Blueprint, permission: str | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give the view a ``TenantContext`` as first argument after checking ``permission``.

    ``permission=None`` means any signed-in member of a company. Denials are audited.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            info = caller(blueprint.current_request)
            if not info.get("tenant_id"):
                raise errors.NoTenant()
            ctx = TenantContext(info["tenant_id"], info["user_id"], info["role"], info.get("email", ""))
            if permission and not ctx.can(permission):
                services.tenancy().audit.record(ctx.tenant_id, "authorization_denied", ctx.email, "denied",
                                                {"permission": permission, "role": ctx.role,
                                                 "path": blueprint.current_request.path})
                raise errors.Forbidden(f"Your role ({ctx.role}) does not allow '{permission}'. "
                                       "Ask an owner or admin.")
            return view(ctx, *args, **kwargs)

        guarded.permission = permission  # type: ignore[attr-defined]
        return guarded

    return decorate
