"""Sign-up to deletion through the API, against Cognito and DynamoDB in moto."""
from __future__ import annotations

import pytest


def test_signup_creates_company_and_owner(api):
    response = api.signup("ada@acme.example", company="Acme Bikes")
    assert response.status_code == 201
    assert response.data["confirmation_required"] is True
    assert response.data["role"] == "owner"

    unconfirmed = api.call("POST", "/auth/login", {"email": "ada@acme.example", "password": "Correct-Horse-9!"})
    assert unconfirmed.status_code == 403
    assert unconfirmed.data["error"]["code"] == "not_confirmed"

    assert api.call("POST", "/auth/confirm", {"email": "ada@acme.example", "code": "123456"}).status_code == 200
    token = api.login("ada@acme.example")
    me = api.call("GET", "/me", token=token)
    assert me.status_code == 200
    assert me.data["tenant"]["name"] == "Acme Bikes"
    assert me.data["role"] == "owner"
    assert "tenant:delete" in me.data["permissions"]


def test_signup_rejects_weak_password_and_duplicate_email(api):
    weak = api.signup("bob@acme.example", password="short")
    assert weak.status_code == 400
    assert weak.data["error"]["code"] == "invalid_password"
    assert api.signup("bob@acme.example").status_code == 201
    again = api.signup("bob@acme.example")
    assert again.status_code == 409
    assert again.data["error"]["code"] == "email_taken"


def test_signup_field_errors_name_the_field(api):
    response = api.call("POST", "/auth/signup", {"name": "", "email": "not-an-email", "password": "x"})
    assert response.status_code == 400
    fields = {d["field"] for d in response.data["error"]["details"]}
    assert {"name", "email"} <= fields


def test_signup_without_company_or_invitation_is_refused(api):
    response = api.signup("carol@acme.example", company=None)
    assert response.status_code == 400
    assert response.data["error"]["details"][0]["field"] == "company"


def test_wrong_password_is_401_and_audited(api):
    token = api.register("ada@acme.example")
    bad = api.call("POST", "/auth/login", {"email": "ada@acme.example", "password": "Wrong-Password-1!"})
    assert bad.status_code == 401
    assert bad.data["error"]["code"] == "not_authorized"
    unknown = api.call("POST", "/auth/login", {"email": "nobody@acme.example", "password": "Wrong-Password-1!"})
    assert unknown.status_code == 401
    assert unknown.data["error"]["message"] == bad.data["error"]["message"]  # no account enumeration
    events = [e["event"] for e in api.call("GET", "/audit", token=token).data["events"]]
    assert "login_failed" in events and "login" in events and "signup" in events


def test_refresh_issues_new_tokens(api):
    api.register("ada@acme.example")
    tokens = api.call("POST", "/auth/login", {"email": "ada@acme.example", "password": "Correct-Horse-9!"}).data
    refreshed = api.call("POST", "/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert api.call("GET", "/me", token=refreshed.data["access_token"]).status_code == 200
    bad = api.call("POST", "/auth/refresh", {"refresh_token": "not-a-token"})
    assert bad.status_code == 401


@pytest.mark.parametrize("token_age", [0.0, 0.5, 1.0])
def test_logout_revokes_every_token_issued_before_it_even_in_the_same_second(api, token_age):
    import time

    api.register("ada@acme.example")
    token = api.login("ada@acme.example")
    other_device = api.login("ada@acme.example")
    time.sleep(token_age)
    assert api.call("POST", "/auth/logout", token=token).status_code == 204
    for revoked in (token, other_device):
        after = api.call("GET", "/me", token=revoked)
        assert after.status_code == 401
        assert after.data["error"]["code"] == "unauthorized"
    fresh = api.login("ada@acme.example")  # signing in right after signing out works at once
    assert api.call("GET", "/me", token=fresh).status_code == 200
    assert api.call("GET", "/me", token=token).status_code == 401


def test_forgot_and_reset_password(api):
    api.register("ada@acme.example")
    known = api.call("POST", "/auth/forgot-password", {"email": "ada@acme.example"})
    unknown = api.call("POST", "/auth/forgot-password", {"email": "ann@acme.example"})  # no account
    assert known.status_code == unknown.status_code == 202
    assert known.data == unknown.data  # the answer does not tell who has an account
    reset = api.call("POST", "/auth/reset-password",
                     {"email": "ada@acme.example", "code": "123456", "password": "New-Secret-Pass-7?"})
    assert reset.status_code == 200
    assert api.login("ada@acme.example", "New-Secret-Pass-7?")


def test_change_password_checks_the_old_one(api):
    token = api.register("ada@acme.example")
    wrong = api.call("POST", "/auth/change-password",
                     {"old_password": "Nope-Nope-Nope-1!", "new_password": "Another-Pass-8#"}, token=token)
    assert wrong.status_code == 400
    assert wrong.data["error"]["details"][0]["field"] == "old_password"
    ok = api.call("POST", "/auth/change-password",
                  {"old_password": "Correct-Horse-9!", "new_password": "Another-Pass-8#"}, token=token)
    assert ok.status_code == 200
    assert api.login("ada@acme.example", "Another-Pass-8#")


def test_update_profile_name(api):
    token = api.register("ada@acme.example")
    response = api.call("PATCH", "/me", {"name": "Ada Lovelace"}, token=token)
    assert response.status_code == 200
    assert response.data["name"] == "Ada Lovelace"
    assert api.call("PATCH", "/me", {}, token=token).status_code == 400


def test_delete_account_of_only_member_deletes_company(api, aws_env):
    from chalicelib import services

    token = api.register("ada@acme.example")
    tenant_id = api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
    assert api.call("DELETE", "/me", {"password": "wrong-wrong-1A!"}, token=token).status_code == 400
    assert api.call("DELETE", "/me", {"password": "Correct-Horse-9!"}, token=token).status_code == 204
    assert services.tenancy().store.get_tenant(tenant_id) is None
    assert api.call("POST", "/auth/login", {"email": "ada@acme.example",
                                            "password": "Correct-Horse-9!"}).status_code == 401
