"""The one table that maps roles to permissions, and the tenant context handlers receive."""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("owner", "admin", "analyst", "viewer")

_EVERYONE = {"tenant:read", "members:read", "results:read"}
_ANALYST = _EVERYONE | {"data:upload", "analysis:run", "reports:create"}
_ADMIN = _ANALYST | {"tenant:update", "members:invite", "members:remove", "audit:read", "webhooks:manage",
                     "alerts:manage"}
_OWNER = _ADMIN | {"members:change_role", "tenant:export", "tenant:delete"}

PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(_OWNER),
    "admin": frozenset(_ADMIN),
    "analyst": frozenset(_ANALYST),
    "viewer": frozenset(_EVERYONE),
}


def allows(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def can_manage_role(actor_role: str, target_role: str) -> bool:
    """Admins may manage admins and below; only owners touch owners."""
    return actor_role == "owner" or (actor_role == "admin" and target_role != "owner")


@dataclass(frozen=True)
class TenantContext:
    """Who is calling and for which company; built from the authorizer, never from the body."""

    tenant_id: str
    user_id: str
    role: str
    email: str = ""

    def can(self, permission: str) -> bool:
        return allows(self.role, permission)
