"""Company and team rules: sign-up creates a company or accepts an invitation; roles; the last owner stays."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from chalicelib import errors
from chalicelib.auth.cognito import CognitoUsers
from chalicelib.auth.permissions import ROLES, TenantContext, can_manage_role
from chalicelib.tenancy.audit import AuditLog
from chalicelib.tenancy.store import Invitation, Member, Tenant, TenantStore

INVALID_INVITATION = "This invitation link is not valid or has expired. Ask your admin for a new one."


@dataclass(frozen=True)
class Tenancy:
    """What the tenancy services need; built once by ``chalicelib.services``."""

    store: TenantStore
    users: CognitoUsers
    audit: AuditLog
    portal_url: str
    invitation_ttl_hours: int = 72


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign_up(t: Tenancy, name: str, email: str, password: str, company: str | None,
            invitation_token: str | None) -> dict[str, Any]:
    """Create the login, then either a new company (owner) or membership from an invitation."""
    invitation = _valid_invitation(t, invitation_token, email) if invitation_token else None
    if invitation is None and not company:
        raise errors.ValidationFailed("Enter your company name.", [{"field": "company", "problem": "required"}])
    user_id, delivery = t.users.sign_up(email, password, name)
    try:
        if invitation is not None:
            member = Member(invitation.tenant_id, user_id, email, name, invitation.role, now_iso())
            t.store.add_member(member)
            t.store.delete_invitation(invitation.tenant_id, invitation.invitation_id)
            t.audit.record(member.tenant_id, "member_joined", email, details={"role": member.role})
        else:
            tenant = Tenant(uuid.uuid4().hex, company or "", now_iso(), user_id)
            member = Member(tenant.tenant_id, user_id, email, name, "owner", now_iso())
            t.store.create_tenant_with_owner(tenant, member)
            t.audit.record(tenant.tenant_id, "signup", email, details={"company": tenant.name})
        t.users.set_group(user_id, member.role)
    except Exception:
        t.users.delete_user(user_id)  # no login without a company
        raise
    return {"user_id": user_id, "email": email, "tenant_id": member.tenant_id, "role": member.role,
            "confirmation_required": True, "delivery": delivery}


def _valid_invitation(t: Tenancy, token: str, email: str) -> Invitation:
    parts = token.split(".")
    if len(parts) != 3:
        raise errors.ValidationFailed(INVALID_INVITATION, code="invalid_invitation")
    tenant_id, invitation_id, secret = parts
    invitation = t.store.get_invitation(tenant_id, invitation_id)
    if (invitation is None or not hmac.compare_digest(invitation.secret_hash, _hash(secret))
            or invitation.expires_at < time.time()):
        raise errors.ValidationFailed(INVALID_INVITATION, code="invalid_invitation")
    if invitation.email != email:
        raise errors.ValidationFailed("This invitation was sent to another email address. Sign up with that one.",
                                      [{"field": "email", "problem": "does not match the invitation"}],
                                      code="invalid_invitation")
    return invitation


def invite(t: Tenancy, ctx: TenantContext, email: str, role: str) -> dict[str, Any]:
    _check_role_value(role)
    if not can_manage_role(ctx.role, role):
        raise errors.Forbidden("Only an owner can invite another owner.")
    if any(m.email == email for m in t.store.list_members(ctx.tenant_id)):
        raise errors.Conflict("This person is already a member of your company.", code="already_member")
    if t.users.sub_for_email(email):
        raise errors.Conflict("This email already has a SalesLens login; each login belongs to one company.",
                              code="email_taken")
    secret = secrets.token_urlsafe(24)
    invitation = Invitation(ctx.tenant_id, uuid.uuid4().hex, email, role, _hash(secret), ctx.email, now_iso(),
                            int(time.time()) + t.invitation_ttl_hours * 3600)
    t.store.put_invitation(invitation)
    t.audit.record(ctx.tenant_id, "member_invited", ctx.email, details={"email": email, "role": role})
    token = f"{ctx.tenant_id}.{invitation.invitation_id}.{secret}"
    accept_url = f"{t.portal_url}/signup.html?{urlencode({'invitation': token, 'email': email})}"
    return {**invitation.public(), "token": token, "accept_url": accept_url}


def revoke_invitation(t: Tenancy, ctx: TenantContext, invitation_id: str) -> None:
    invitation = t.store.get_invitation(ctx.tenant_id, invitation_id)
    if invitation is None:
        raise errors.NotFound("No such invitation in your company.")
    if not can_manage_role(ctx.role, invitation.role):
        raise errors.Forbidden("Only an owner can revoke an owner invitation.")
    t.store.delete_invitation(ctx.tenant_id, invitation_id)
    t.audit.record(ctx.tenant_id, "invitation_revoked", ctx.email, details={"email": invitation.email})


def get_member(t: Tenancy, ctx: TenantContext, user_id: str) -> Member:
    member = t.store.get_member(ctx.tenant_id, user_id)
    if member is None:
        raise errors.NotFound("No such member in your company.")
    return member


def change_role(t: Tenancy, ctx: TenantContext, user_id: str, role: str) -> Member:
    _check_role_value(role)
    member = get_member(t, ctx, user_id)
    if member.role == role:
        return member
    if member.role == "owner":
        _keep_an_owner(t, ctx.tenant_id, leaving=user_id)
    t.store.update_member(ctx.tenant_id, user_id, role=role)
    t.users.set_group(user_id, role, previous=member.role)
    t.audit.record(ctx.tenant_id, "role_changed", ctx.email,
                   details={"member": member.email, "from": member.role, "to": role})
    return get_member(t, ctx, user_id)


def remove_member(t: Tenancy, ctx: TenantContext, user_id: str) -> None:
    member = get_member(t, ctx, user_id)
    if not can_manage_role(ctx.role, member.role):
        raise errors.Forbidden("Only an owner can remove an owner.")
    if member.role == "owner":
        _keep_an_owner(t, ctx.tenant_id, leaving=user_id)
    t.store.remove_member(ctx.tenant_id, user_id)
    t.users.delete_user(user_id)
    t.audit.record(ctx.tenant_id, "member_removed", ctx.email, details={"member": member.email})


def leave_or_close(t: Tenancy, ctx: TenantContext) -> bool:
    """Delete the caller's login; returns True when they were the only member (the company must go too)."""
    members = t.store.list_members(ctx.tenant_id)
    if len(members) <= 1:
        return True
    if ctx.role == "owner":
        _keep_an_owner(t, ctx.tenant_id, leaving=ctx.user_id)
    t.store.remove_member(ctx.tenant_id, ctx.user_id)
    t.users.delete_user(ctx.user_id)
    t.audit.record(ctx.tenant_id, "account_deleted", ctx.email)
    return False


def _keep_an_owner(t: Tenancy, tenant_id: str, leaving: str) -> None:
    owners = [m for m in t.store.list_members(tenant_id) if m.role == "owner" and m.user_id != leaving]
    if not owners:
        raise errors.LastOwner()


def _check_role_value(role: str) -> None:
    if role not in ROLES:
        raise errors.ValidationFailed(f"Role must be one of: {', '.join(ROLES)}.",
                                      [{"field": "role", "problem": f"{role!r} is not a role"}])
