"""The role table: each role is a superset of the one below it; owners alone hold the dangerous ones."""
from __future__ import annotations

from chalicelib.auth.permissions import PERMISSIONS, ROLES, TenantContext, allows, can_manage_role


def test_roles_are_nested():
    for higher, lower in zip(ROLES, ROLES[1:]):
        assert PERMISSIONS[lower] < PERMISSIONS[higher]


def test_only_owner_can_delete_export_and_change_roles():
    for permission in ("tenant:delete", "tenant:export", "members:change_role"):
        assert [r for r in ROLES if allows(r, permission)] == ["owner"]


def test_viewer_reads_only():
    assert PERMISSIONS["viewer"] == {"tenant:read", "members:read", "results:read"}
    assert not allows("nobody", "tenant:read")


def test_admins_cannot_manage_owners():
    assert can_manage_role("owner", "owner")
    assert can_manage_role("admin", "analyst")
    assert not can_manage_role("admin", "owner")
    assert not can_manage_role("analyst", "viewer")


def test_every_guarded_route_declares_a_known_permission():
    from app import app

    known = set().union(*PERMISSIONS.values())
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            declared = getattr(entry.view_function, "permission", None)
            assert declared is None or declared in known, (method, path, declared)
            if path.startswith(("/tenant", "/members", "/invitations", "/audit")):
                assert declared, f"{method} {path} must declare a permission"
                assert entry.authorizer is not None


def test_context_can():
    assert TenantContext("t", "u", "analyst").can("data:upload")
    assert not TenantContext("t", "u", "viewer").can("data:upload")
