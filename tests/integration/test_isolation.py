"""One company can never see or change another's members, invitations or audit log."""
from __future__ import annotations


def test_other_tenants_member_is_404(api):
    acme = api.register("ada@acme.example", company="Acme Bikes")
    globex = api.register("gus@globex.example", company="Globex Cars")
    globex_id = api.call("GET", "/me", token=globex).data["user_id"]
    for method, body in [("GET", None), ("PATCH", {"role": "viewer"}), ("DELETE", None)]:
        response = api.call(method, f"/members/{globex_id}", body, token=acme)
        assert response.status_code == 404, method
        assert response.data["error"]["code"] == "not_found"
    assert api.call("GET", "/me", token=globex).data["role"] == "owner"


def test_audit_logs_are_per_tenant(api):
    acme = api.register("ada@acme.example", company="Acme Bikes")
    globex = api.register("gus@globex.example", company="Globex Cars")
    acme_events = api.call("GET", "/audit", token=acme).data["events"]
    globex_events = api.call("GET", "/audit", token=globex).data["events"]
    assert {e["actor"] for e in acme_events} == {"ada@acme.example"}
    assert {e["actor"] for e in globex_events} == {"gus@globex.example"}


def test_audit_paging_token_cannot_reach_another_tenant(api):
    import base64

    acme = api.register("ada@acme.example")
    first = api.call("GET", "/audit?limit=1", token=acme)
    assert first.status_code == 200 and len(first.data["events"]) == 1 and first.data["next"]
    second = api.call("GET", f"/audit?limit=1&next={first.data['next']}", token=acme)
    assert second.status_code == 200 and second.data["events"] != first.data["events"]
    junk = base64.urlsafe_b64encode(b"MEMBER#x").decode()
    assert api.call("GET", f"/audit?next={junk}", token=acme).status_code == 400
    assert api.call("GET", "/audit?limit=5000", token=acme).status_code == 400


def test_other_tenants_invitation_cannot_be_revoked(api):
    acme = api.register("ada@acme.example", company="Acme Bikes")
    globex = api.register("gus@globex.example", company="Globex Cars")
    invite = api.call("POST", "/invitations", {"email": "new@globex.example", "role": "viewer"}, token=globex).data
    assert api.call("DELETE", f"/invitations/{invite['invitation_id']}", token=acme).status_code == 404
    assert len(api.call("GET", "/invitations", token=globex).data["invitations"]) == 1
