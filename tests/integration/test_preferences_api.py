"""GET/PUT /me/preferences: defaults, save and read back, field errors, one member's own, gone with the member."""
from __future__ import annotations

from typing import Any

import boto3
import pytest

from chalicelib.query.explore_model import PRESETS
from chalicelib.tenancy.preferences import OVERVIEW_CARDS

DEFAULT_CARDS = [{"card": card, "hidden": False, "pinned": False} for card in OVERVIEW_CARDS]
DEFAULTS = {"timezone": "UTC", "date_format": "long", "number_locale": "auto", "week_start": "monday",
            "default_range": "last_90_days", "currency_display": "symbol", "overview_cards": DEFAULT_CARDS}
MINE = {"timezone": "Europe/Berlin", "date_format": "dmy", "number_locale": "de-DE", "week_start": "sunday",
        "default_range": "last_30_days", "currency_display": "code",
        "overview_cards": [{"card": "orders", "hidden": False, "pinned": True},
                           {"card": "revenue", "hidden": True, "pinned": False},
                           *[{"card": c, "hidden": False, "pinned": False} for c in OVERVIEW_CARDS
                             if c not in ("orders", "revenue")]]}


def _prefs_items(table: str, tenant_id: str) -> list[dict[str, Any]]:
    """Every preferences item of the company, read straight from the table."""
    items = boto3.client("dynamodb").query(
        TableName=table, KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":sk": {"S": "PREFS#"}})["Items"]
    return items


def _tenant_id(api: Any, token: str) -> str:
    return api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]


def test_the_default_range_is_an_explore_preset() -> None:
    assert DEFAULTS["default_range"] in PRESETS


def test_first_read_gives_the_defaults(api: Any) -> None:
    token = api.register("ada@acme.example")
    response = api.call("GET", "/me/preferences", token=token)
    assert response.status_code == 200, response.data
    assert response.data == DEFAULTS


def test_save_and_read_back(api: Any) -> None:
    token = api.register("ada@acme.example")
    saved = api.call("PUT", "/me/preferences", MINE, token=token)
    assert saved.status_code == 200, saved.data
    assert saved.data == MINE
    assert api.call("GET", "/me/preferences", token=token).data == MINE
    again = api.call("PUT", "/me/preferences", DEFAULTS, token=token)  # a whole object replaces the last one
    assert again.status_code == 200 and api.call("GET", "/me/preferences", token=token).data == DEFAULTS


def test_saved_values_are_normalised(api: Any) -> None:
    token = api.register("ada@acme.example")
    body = {"timezone": " america/new_york ", "number_locale": "EN-us", "week_start": "Sunday",
            "overview_cards": [{"card": "units", "pinned": True}]}
    saved = api.call("PUT", "/me/preferences", body, token=token)
    assert saved.status_code == 200, saved.data
    assert saved.data["timezone"] == "America/New_York"
    assert saved.data["number_locale"] == "en-US" and saved.data["week_start"] == "sunday"
    assert saved.data["date_format"] == "long"  # left out: the default
    cards = saved.data["overview_cards"]  # cards left out follow, in the default order, shown
    assert cards[0] == {"card": "units", "hidden": False, "pinned": True}
    assert [c["card"] for c in cards[1:]] == [c for c in OVERVIEW_CARDS if c != "units"]
    assert api.call("GET", "/me/preferences", token=token).data == saved.data


@pytest.mark.parametrize(("change", "field"), [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "Europe/" + "x" * 80}, "timezone"),
    ({"timezone": 5}, "timezone"),
    ({"date_format": "ymd"}, "date_format"),
    ({"number_locale": "xx-XX"}, "number_locale"),
    ({"week_start": "friday"}, "week_start"),
    ({"default_range": "last_2_days"}, "default_range"),
    ({"currency_display": "emoji"}, "currency_display"),
    ({"overview_cards": [{"card": "profit"}]}, "overview_cards.0.card"),
    ({"overview_cards": [{"card": "orders"}, {"card": "orders"}]}, "overview_cards"),
    ({"overview_cards": [{"card": "orders"}] * 21}, "overview_cards"),
    ({"overview_cards": [{"card": "orders", "hidden": "maybe"}]}, "overview_cards.0.hidden"),
    ({"overview_cards": [{"card": "orders", "colour": "red"}]}, "overview_cards.0.colour"),
    ({"overview_cards": "revenue"}, "overview_cards"),
    ({"theme": "dark"}, "theme"),
], ids=lambda value: value if isinstance(value, str) else next(iter(value)))
def test_every_invalid_field_is_a_400_naming_it(api: Any, change: dict[str, Any], field: str) -> None:
    token = api.register("ada@acme.example")
    assert api.call("PUT", "/me/preferences", MINE, token=token).status_code == 200
    response = api.call("PUT", "/me/preferences", {**MINE, **change}, token=token)
    assert response.status_code == 400, response.data
    assert response.data["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in response.data["error"]["details"]], response.data
    assert api.call("GET", "/me/preferences", token=token).data == MINE  # nothing half-saved


def test_a_wrong_time_zone_says_what_to_send(api: Any) -> None:
    token = api.register("ada@acme.example")
    response = api.call("PUT", "/me/preferences", {"timezone": "Mars/Olympus_Mons"}, token=token)
    detail = response.data["error"]["details"][0]
    assert detail["field"] == "timezone"
    assert "Mars/Olympus_Mons" in detail["problem"] and "Europe/Berlin" in detail["problem"]


def test_a_body_that_is_not_an_object_is_refused(api: Any) -> None:
    token = api.register("ada@acme.example")
    assert api.call("PUT", "/me/preferences", raw=b"[1, 2]", token=token).status_code == 400
    assert api.call("PUT", "/me/preferences", raw=b"{not json", token=token).data["error"]["code"] == "bad_json"


def test_signed_out_is_401(api: Any) -> None:
    assert api.call("GET", "/me/preferences").status_code == 401
    assert api.call("PUT", "/me/preferences", MINE).status_code == 401


def test_each_member_has_their_own(api: Any) -> None:
    owner = api.register("ada@acme.example")
    _, viewer = api.join(owner, "vic@acme.example", "viewer")
    assert api.call("PUT", "/me/preferences", MINE, token=owner).status_code == 200
    assert api.call("GET", "/me/preferences", token=viewer).data == DEFAULTS  # any role, and not the owner's
    theirs = {**DEFAULTS, "timezone": "Asia/Tokyo", "number_locale": "ja-JP"}
    assert api.call("PUT", "/me/preferences", theirs, token=viewer).status_code == 200
    assert api.call("GET", "/me/preferences", token=viewer).data == theirs
    assert api.call("GET", "/me/preferences", token=owner).data == MINE


def test_removing_a_member_removes_their_preferences(api: Any, aws_env: dict[str, str]) -> None:
    table = aws_env["SL_TABLE_NAME"]
    owner = api.register("ada@acme.example")
    tenant_id = _tenant_id(api, owner)
    ann_id, ann = api.join(owner, "ann@acme.example", "analyst")
    bob_id, bob = api.join(owner, "bob@acme.example", "viewer")
    for token in (owner, ann, bob):
        assert api.call("PUT", "/me/preferences", MINE, token=token).status_code == 200
    assert len(_prefs_items(table, tenant_id)) == 3

    assert api.call("DELETE", f"/members/{ann_id}", token=owner).status_code == 204
    assert api.call("DELETE", "/me", {"password": "Correct-Horse-9!"}, token=bob).status_code == 204
    left = _prefs_items(table, tenant_id)
    assert [i["user_id"]["S"] for i in left] == [api.call("GET", "/me", token=owner).data["user_id"]]
    assert {ann_id, bob_id}.isdisjoint(i["sk"]["S"].split("#")[1] for i in left)
    assert api.call("GET", "/me/preferences", token=owner).data == MINE


def test_deleting_the_company_removes_every_members_preferences(api: Any, aws_env: dict[str, str]) -> None:
    table = aws_env["SL_TABLE_NAME"]
    owner = api.register("ada@acme.example", company="Acme Bikes")
    _, ann = api.join(owner, "ann@acme.example", "analyst")
    other = api.register("gus@globex.example", company="Globex Cars")
    acme_id, globex_id = _tenant_id(api, owner), _tenant_id(api, other)
    for token in (owner, ann, other):
        assert api.call("PUT", "/me/preferences", MINE, token=token).status_code == 200

    assert api.call("DELETE", "/tenant", {"confirm": "Acme Bikes"}, token=owner).status_code == 204
    assert _prefs_items(table, acme_id) == []
    assert len(_prefs_items(table, globex_id)) == 1  # another company keeps its own
    assert api.call("GET", "/me/preferences", token=other).data == MINE


def test_the_last_member_leaving_takes_the_preferences_with_the_company(api: Any, aws_env: dict[str, str]) -> None:
    owner = api.register("ada@acme.example")
    tenant_id = _tenant_id(api, owner)
    assert api.call("PUT", "/me/preferences", MINE, token=owner).status_code == 200
    assert api.call("DELETE", "/me", {"password": "Correct-Horse-9!"}, token=owner).status_code == 204
    assert _prefs_items(aws_env["SL_TABLE_NAME"], tenant_id) == []
