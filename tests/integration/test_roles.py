"""Roles: invitations, role changes, removal, the last-owner rule, and 403 for what a role lacks."""
from __future__ import annotations


def test_invited_member_joins_with_the_invited_role(api):
    owner = api.register("ada@acme.example")
    _, analyst = api.join(owner, "ann@acme.example", "analyst")
    me = api.call("GET", "/me", token=analyst).data
    assert me["role"] == "analyst" and me["tenant"]["name"] == "Acme Bikes"
    assert [m["email"] for m in api.call("GET", "/members", token=owner).data["members"]] == [
        "ada@acme.example", "ann@acme.example"]
    assert api.call("GET", "/invitations", token=owner).data["invitations"] == []


def test_invitation_must_match_email_and_be_genuine(api):
    owner = api.register("ada@acme.example")
    invite = api.call("POST", "/invitations", {"email": "ann@acme.example", "role": "viewer"}, token=owner).data
    other_email = api.signup("eve@evil.example", company=None, invitation=invite["token"])
    assert other_email.status_code == 400 and other_email.data["error"]["code"] == "invalid_invitation"
    forged = invite["token"].rsplit(".", 1)[0] + ".guessed-secret"
    assert api.signup("ann@acme.example", company=None, invitation=forged).status_code == 400
    assert api.signup("ann@acme.example", company=None, invitation="junk").status_code == 400


def test_viewer_cannot_do_admin_actions_and_denial_is_audited(api):
    owner = api.register("ada@acme.example")
    _, viewer = api.join(owner, "vic@acme.example", "viewer")
    for method, path, body in [("POST", "/invitations", {"email": "x@acme.example", "role": "viewer"}),
                               ("GET", "/audit", None), ("PATCH", "/tenant", {"name": "Hijack"}),
                               ("DELETE", "/tenant", {"confirm": "Acme Bikes"}), ("POST", "/tenant/export", None)]:
        response = api.call(method, path, body, token=viewer)
        assert response.status_code == 403, (method, path)
        assert response.data["error"]["code"] == "forbidden"
    assert api.call("GET", "/members", token=viewer).status_code == 200
    denied = [e for e in api.call("GET", "/audit", token=owner).data["events"]
              if e["event"] == "authorization_denied"]
    assert len(denied) == 5 and denied[0]["outcome"] == "denied"


def test_admin_cannot_touch_owners(api):
    owner = api.register("ada@acme.example")
    owner_id = api.call("GET", "/me", token=owner).data["user_id"]
    _, admin = api.join(owner, "adam@acme.example", "admin")
    invite_owner = api.call("POST", "/invitations", {"email": "o2@acme.example", "role": "owner"}, token=admin)
    assert invite_owner.status_code == 403
    assert api.call("DELETE", f"/members/{owner_id}", token=admin).status_code == 403
    assert api.call("PATCH", f"/members/{owner_id}", {"role": "viewer"}, token=admin).status_code == 403


def test_role_change_applies_on_the_next_call(api):
    owner = api.register("ada@acme.example")
    user_id, member = api.join(owner, "ann@acme.example", "viewer")
    assert api.call("GET", "/audit", token=member).status_code == 403
    changed = api.call("PATCH", f"/members/{user_id}", {"role": "admin"}, token=owner)
    assert changed.status_code == 200 and changed.data["role"] == "admin"
    assert api.call("GET", "/audit", token=member).status_code == 200
    bad_role = api.call("PATCH", f"/members/{user_id}", {"role": "emperor"}, token=owner)
    assert bad_role.status_code == 400


def test_last_owner_cannot_leave_or_be_demoted(api):
    owner = api.register("ada@acme.example")
    owner_id = api.call("GET", "/me", token=owner).data["user_id"]
    api.join(owner, "ann@acme.example", "viewer")
    demote = api.call("PATCH", f"/members/{owner_id}", {"role": "admin"}, token=owner)
    assert demote.status_code == 409 and demote.data["error"]["code"] == "last_owner"
    leave = api.call("DELETE", "/me", {"password": "Correct-Horse-9!"}, token=owner)
    assert leave.status_code == 409 and leave.data["error"]["code"] == "last_owner"
    assert api.call("DELETE", f"/members/{owner_id}", token=owner).status_code == 409


def test_removed_member_loses_access_and_login(api):
    owner = api.register("ada@acme.example")
    user_id, member = api.join(owner, "ann@acme.example", "analyst")
    assert api.call("DELETE", f"/members/{user_id}", token=owner).status_code == 204
    assert api.call("GET", "/me", token=member).status_code in (401, 403)
    assert api.call("POST", "/auth/login", {"email": "ann@acme.example",
                                            "password": "Correct-Horse-9!"}).status_code == 401
    events = [e["event"] for e in api.call("GET", "/audit", token=owner).data["events"]]
    assert "member_removed" in events and "member_invited" in events and "member_joined" in events
