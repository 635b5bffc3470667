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


def test_an_unexpected_failure_is_the_error_envelope_with_its_id_and_an_error_log(api, monkeypatch):
    import logging

    from chalicelib import logs, services

    class Lines(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(self.format(record))

    token = api.register("ada@acme.example")
    tenant_id = api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]

    def broken() -> None:
        raise RuntimeError("secret internals: db password hunter2")

    monkeypatch.setattr(services, "explore", broken)
    lines = Lines()
    lines.setFormatter(logs.logger.registered_formatter)
    logs.logger.addHandler(lines)
    try:
        response = api.call("POST", "/explore", {"measures": ["revenue"]}, token=token,
                            headers={"X-Correlation-Id": "forced-1"})
    finally:
        logs.logger.removeHandler(lines)
    assert response.status_code == 500
    error = response.data["error"]
    assert error["code"] == "internal_error" and error["correlation_id"] == "forced-1"
    assert "hunter2" not in str(response.data) and "Traceback" not in str(response.data)
    assert response.headers["X-Correlation-Id"] == "forced-1"
    logged = [line for line in lines.lines if '"request failed"' in line]
    assert logged and '"level":"ERROR"' in logged[0] and tenant_id in logged[0] and '"/explore"' in logged[0]
