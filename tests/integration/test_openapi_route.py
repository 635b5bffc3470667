"""GET /openapi.json serves the generated document without a login."""
from __future__ import annotations

from typing import Any

from chalicelib import openapi


def test_openapi_json_is_public_and_current(api: Any) -> None:
    response = api.call("GET", "/openapi.json")
    assert response.status_code == 200, response.data
    assert response.data["openapi"] == "3.1.0"
    assert response.data == openapi.build()
    assert "/openapi.json" in response.data["paths"]
