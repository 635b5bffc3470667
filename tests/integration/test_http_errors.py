"""What the API answers to malformed requests: always a JSON error with a 4xx, never a 500."""
from __future__ import annotations

import pytest


def test_unknown_route_is_404(api):
    response = api.call("GET", "/no/such/route")
    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"


def test_wrong_method_is_405(api):
    response = api.call("DELETE", "/health")
    assert response.status_code == 405
    assert response.data["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"'])
def test_bad_json_is_400(api, raw):
    response = api.call("POST", "/auth/login", raw=raw)
    assert response.status_code == 400
    assert response.data["error"]["code"] == "bad_json"


def test_unknown_fields_are_rejected_by_name(api):
    response = api.call("POST", "/auth/login", {"email": "a@b.example", "password": "x", "tenant_id": "other"})
    assert response.status_code == 400
    assert response.data["error"]["details"][0]["field"] == "tenant_id"


def test_health_and_correlation_id(api):
    response = api.call("GET", "/health", headers={"X-Correlation-Id": "abc123"})
    assert response.status_code == 200 and response.data["status"] == "ok"
    assert response.headers["X-Correlation-Id"] == "abc123"
    assert api.call("GET", "/health").headers["X-Correlation-Id"]
