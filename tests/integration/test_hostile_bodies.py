"""Every route that takes a JSON body refuses hostile ones with a 4xx: deep nesting, huge bodies, many values.

The routes are found in the app itself (every view that calls ``parse_body``), not listed by hand.
"""
from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from app import app

BODY_ROUTES = sorted((method, path) for path, methods in app.routes.items() for method, entry in methods.items()
                     if "parse_body(" in inspect.getsource(entry.view_function))
DEEP = b"[" * 10_000 + b"]" * 10_000
WIDE = b'{"a": [' + b",".join([b"0"] * 150_000) + b"]}"


def _path(template: str) -> str:
    return re.sub(r"{\w+}", "x", template)


def test_every_body_route_is_found() -> None:
    assert len(BODY_ROUTES) >= 18 and ("POST", "/auth/signup") in BODY_ROUTES and ("POST", "/explore") in BODY_ROUTES


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_a_body_nested_ten_thousand_deep_is_a_400(api: Any, method: str, path: str) -> None:
    token = api.register("ada@acme.example")
    for body in (DEEP, WIDE):
        response = api.call(method, _path(path), raw=body, token=token)
        assert 400 <= response.status_code < 500, (method, path, response.status_code, response.data)
        assert response.data["error"]["code"] in ("bad_json", "body_too_large", "not_found", "forbidden")


def test_public_routes_take_small_bodies_only(api: Any) -> None:
    big = b'{"email": "a@b.example", "password": "' + b"x" * 20_000 + b'"}'
    response = api.call("POST", "/auth/login", raw=big)
    assert response.status_code == 413 and "16,384" in response.data["error"]["message"]
