"""/auth/...: sign-up, confirmation, sign-in, tokens and passwords through Cognito."""
from __future__ import annotations

import time
from typing import Any

from chalice import Blueprint, Response

from chalicelib import errors, services
from chalicelib.auth.authorizer import signed_out_since
from chalicelib.http import parse_body
from chalicelib.routes import schemas
from chalicelib.routes.guard import access_token, caller, jwt_authorizer
from chalicelib.tenancy import service

bp = Blueprint(__name__)
PUBLIC_BODY_BYTES = 16 * 1024  # routes anyone can call get the tightest bound (a refresh token is about 2 KB)


def _audit_for_user(user_id: str, event: str, actor: str, outcome: str = "success") -> None:
    """Record a security event in the user's company log, if the login belongs to one."""
    t = services.tenancy()
    member = t.store.membership(user_id) if user_id else None
    if member:
        t.audit.record(member.tenant_id, event, actor, outcome)


@bp.route("/auth/signup", methods=["POST"])
def sign_up() -> Response:
    body = parse_body(bp.current_request, schemas.SignUp, PUBLIC_BODY_BYTES)
    result = service.sign_up(services.tenancy(), body.name, str(body.email), body.password,
                             body.company, body.invitation)
    return Response(body=result, status_code=201)


@bp.route("/auth/confirm", methods=["POST"])
def confirm() -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.Confirm, PUBLIC_BODY_BYTES)
    services.tenancy().users.confirm(str(body.email), body.code)
    return {"confirmed": True}


@bp.route("/auth/resend-code", methods=["POST"])
def resend_code() -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.EmailOnly, PUBLIC_BODY_BYTES)
    return {"delivery": services.tenancy().users.resend_code(str(body.email))}


@bp.route("/auth/login", methods=["POST"])
def login() -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.Login, PUBLIC_BODY_BYTES)
    users = services.tenancy().users
    email = str(body.email)
    try:
        tokens = users.login(email, body.password)
    except (errors.BadCredentials, errors.TooManyRequests, errors.NotConfirmed):
        _audit_for_user(users.sub_for_email(email) or "", "login_failed", email, "failure")
        raise
    claims = services.verifier().verify(tokens["access_token"])
    member = services.tenancy().store.membership(claims.sub)
    if member and signed_out_since(claims, member.signed_out_at):
        # Signed out earlier in this same second: these tokens would count as revoked. Sign in again once the
        # second has passed, so a sign-out never swallows the sign-in right after it.
        time.sleep(max(0.0, member.signed_out_at + 1 - time.time()) + 0.01)
        tokens = users.login(email, body.password)
        claims = services.verifier().verify(tokens["access_token"])
    _audit_for_user(claims.sub, "login", email)
    return tokens


@bp.route("/auth/refresh", methods=["POST"])
def refresh() -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.Refresh, PUBLIC_BODY_BYTES)
    return services.tenancy().users.refresh(body.refresh_token)


@bp.route("/auth/forgot-password", methods=["POST"])
def forgot_password() -> Response:
    body = parse_body(bp.current_request, schemas.EmailOnly, PUBLIC_BODY_BYTES)
    delivery = services.tenancy().users.forgot_password(str(body.email))
    return Response(body={"delivery": delivery}, status_code=202)


@bp.route("/auth/reset-password", methods=["POST"])
def reset_password() -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.ResetPassword, PUBLIC_BODY_BYTES)
    users = services.tenancy().users
    users.reset_password(str(body.email), body.code, body.password)
    _audit_for_user(users.sub_for_email(str(body.email)) or "", "password_reset", str(body.email))
    return {"reset": True}


@bp.route("/auth/logout", methods=["POST"], authorizer=jwt_authorizer)
def logout() -> Response:
    """Global sign-out in Cognito, and a cut-off time so already-issued access tokens stop working here too."""
    info = caller(bp.current_request)
    t = services.tenancy()
    t.users.global_sign_out(access_token(bp.current_request))
    if info.get("tenant_id"):
        t.store.mark_signed_out(info["tenant_id"], info["user_id"])
        t.audit.record(info["tenant_id"], "logout", info.get("email", ""))
    return Response(body="", status_code=204)


@bp.route("/auth/change-password", methods=["POST"], authorizer=jwt_authorizer)
def change_password() -> dict[str, Any]:
    body = parse_body(bp.current_request, schemas.ChangePassword, PUBLIC_BODY_BYTES)
    info = caller(bp.current_request)
    services.tenancy().users.change_password(access_token(bp.current_request), body.old_password,
                                             body.new_password)
    _audit_for_user(info["user_id"], "password_changed", info.get("email", ""))
    return {"changed": True}
