"""What the API Gateway authorizer decides: a verified token plus the caller's company and role."""
from __future__ import annotations

from typing import Any

from chalicelib.auth.tokens import Claims, InvalidToken, TokenVerifier, bearer_token
from chalicelib.tenancy.store import TenantStore


def signed_out_since(claims: Claims, signed_out_at: int) -> bool:
    """Whether the token predates the member's last sign-out. ``iat`` has whole seconds, so a token issued in the
    sign-out's own second counts as before it; ``/auth/login`` makes sure a new sign-in lands in a later second."""
    return bool(signed_out_at) and claims.issued_at <= signed_out_at


def authorize(header: str | None, verifier: TokenVerifier, store: TenantStore) -> tuple[Claims, dict[str, str]]:
    """Verify the bearer token and build the context handed to every route; raises InvalidToken."""
    claims = verifier.verify(bearer_token(header))
    member = store.membership(claims.sub)
    if member and signed_out_since(claims, member.signed_out_at):
        raise InvalidToken("signed out")
    context: dict[str, Any] = {"user_id": claims.sub,
                               "tenant_id": member.tenant_id if member else "",
                               "role": member.role if member else "",
                               "email": member.email if member else claims.email}
    return claims, context
