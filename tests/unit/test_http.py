"""Request parsing and error shapes at the HTTP edge."""
from __future__ import annotations

import pytest
from chalice import Response

from chalicelib import errors, http
from chalicelib.routes import schemas


class FakeRequest:
    def __init__(self, raw: bytes, query: dict | None = None) -> None:
        self.raw_body = raw
        self.query_params = query


def test_parse_body_validates_and_normalises_email():
    body = http.parse_body(FakeRequest(b'{"email": " Ada@Acme.EXAMPLE ", "password": "x"}'), schemas.Login)
    assert body.email == "ada@acme.example"


@pytest.mark.parametrize("raw", [b"{", b"[]", b"null", b"\x00\xff"])
def test_parse_body_bad_json(raw):
    with pytest.raises(errors.BadJson):
        http.parse_body(FakeRequest(raw), schemas.Login)


def test_parse_body_reports_each_field():
    with pytest.raises(errors.ValidationFailed) as caught:
        http.parse_body(FakeRequest(b'{"email": "nope"}'), schemas.Login)
    assert {d["field"] for d in caught.value.details} == {"email", "password"}


def test_query_int_bounds():
    assert http.query_int(FakeRequest(b"", {"limit": "10"}), "limit", 50, 1, 200) == 10
    assert http.query_int(FakeRequest(b"", None), "limit", 50, 1, 200) == 50
    for bad in ("0", "201", "ten"):
        with pytest.raises(errors.ValidationFailed):
            http.query_int(FakeRequest(b"", {"limit": bad}), "limit", 50, 1, 200)


def test_chalice_errors_are_rewritten_into_our_shape():
    response = http._normalise(Response(body={"Code": "MethodNotAllowedError", "Message": "x"}, status_code=405))
    assert response.body["error"]["code"] == "method_not_allowed"
    crashed = http._normalise(Response(body={"Code": "InternalServerError", "Message": "boom"}, status_code=500))
    assert "boom" not in crashed.body["error"]["message"]


def test_every_error_is_4xx_with_a_message():
    for cls in errors.SalesLensError.__subclasses__():
        error = cls()
        assert 400 <= error.status < 500 and error.message and error.body()["error"]["code"]


@pytest.mark.parametrize(("raw", "says"), [
    (b"[" * 50_000 + b"]" * 50_000, "nests too deep"),  # the C parser's RecursionError, caught
    (b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", "nests too deep"),  # parsed, but deeper than 32 levels
    (b'{"a": [' + b",".join([b"1"] * 100_001) + b"]}", "too many values"),
])
def test_parse_body_refuses_hostile_shapes_with_a_400(raw, says):
    with pytest.raises(errors.BadJson, match=says):
        http.parse_body(FakeRequest(raw), schemas.Login)


def test_parse_body_refuses_bodies_over_the_routes_limit_with_a_413():
    with pytest.raises(errors.BodyTooLarge) as caught:
        http.parse_body(FakeRequest(b'{"email": "' + b"a" * 2000 + b'"}'), schemas.Login, max_bytes=1000)
    assert caught.value.status == 413 and "at most 1,000" in caught.value.message
