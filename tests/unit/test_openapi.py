"""The generated OpenAPI document: valid 3.1, one operation per route, and the committed copy up to date."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import openapi
from chalicelib.http import parse_body, query_int
from chalicelib.openapi_tables import BODIES
from chalicelib.routes import schemas

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi.build()


def _routes() -> dict[str, dict[str, Any]]:
    from app import app

    return {path: dict(methods) for path, methods in app.routes.items()}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_route_is_an_operation_and_every_operation_a_route(doc: dict[str, Any]) -> None:
    routes = {(method, path) for path, methods in _routes().items() for method in methods}
    documented = {(method.upper(), path) for path, operations in doc["paths"].items() for method in operations}
    assert documented == routes


def test_the_committed_document_matches_the_routes() -> None:
    fresh = openapi.render()
    if not COMMITTED.exists() or COMMITTED.read_text(encoding="utf-8") != fresh:
        pytest.fail(f"docs/openapi.json is missing or out of date with the routes. Run `{openapi.REGENERATE}` "
                    "and commit the result.")


def test_bodies_refer_to_component_schemas_that_resolve(doc: dict[str, Any]) -> None:
    operation = doc["paths"]["/auth/signup"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/SignUp"}
    assert _resolve(doc, schema["$ref"])["required"] == ["name", "email", "password"]
    assert operation["requestBody"]["required"] is True
    assert doc["paths"]["/runs"]["post"]["requestBody"]["required"] is False  # {"reason"} is optional
    for method, path in BODIES:
        assert "$ref" in doc["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
    for ref in _refs(doc):
        assert _resolve(doc, ref) is not None, ref


def test_security_statuses_and_parameters(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    assert paths["/health"]["get"]["security"] == []
    assert paths["/members"]["get"]["security"] == [{"bearerAuth": []}]
    assert paths["/members"]["get"]["x-permission"] == "members:read"
    assert set(paths["/auth/signup"]["post"]["responses"]) == {"201", "400", "default"}
    assert "202" in paths["/runs"]["post"]["responses"] and "202" in paths["/v1/ingest/records"]["post"]["responses"]
    assert "content" not in paths["/members/{user_id}"]["delete"]["responses"]["204"]
    assert "text/csv" in paths["/results/{artifact}/csv"]["get"]["responses"]["200"]["content"]
    assert paths["/runs/{run_id}"]["get"]["parameters"] == [
        {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    limit = next(p for p in paths["/audit"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    headers = {p["name"] for p in paths["/v1/ingest/records"]["post"]["parameters"] if p["in"] == "header"}
    assert {"X-SalesLens-Signature", "X-SalesLens-Timestamp", "X-SalesLens-Key-Id", "Idempotency-Key"} <= headers
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]


def test_models_named_by_string_resolve() -> None:
    for route, ref in BODIES.items():
        if isinstance(ref, str):
            module = ref.partition(":")[0]
            assert importlib.util.find_spec(module) is not None, f"{route} names {ref}, whose module does not exist"
            schema = openapi._model(ref).model_json_schema(ref_template=openapi.REF)
            assert schema["type"] == "object", route


def _app_with(path: str, method: str, view: Any) -> SimpleNamespace:
    routes = _routes()
    routes.setdefault(path, {})[method] = SimpleNamespace(view_function=view, view_name=view.__name__,
                                                          authorizer=None)
    return SimpleNamespace(routes=routes)


def test_a_body_without_a_table_entry_fails_loudly() -> None:
    def unlisted() -> dict[str, Any]:
        return parse_body(None, schemas.Login).model_dump()  # type: ignore[arg-type]

    with pytest.raises(openapi.SpecMismatch, match="POST /unlisted .*BODIES"):
        openapi.build(_app_with("/unlisted", "POST", unlisted))


def test_an_undeclared_query_parameter_fails_loudly() -> None:
    def paged() -> dict[str, Any]:
        return {"limit": query_int(None, "limit", 10, 1, 50)}  # type: ignore[arg-type]

    with pytest.raises(openapi.SpecMismatch, match="GET /paged .*limit.*QUERY"):
        openapi.build(_app_with("/paged", "GET", paged))


def test_a_table_entry_for_a_missing_route_fails_loudly() -> None:
    routes = _routes()
    del routes["/auth/login"]
    with pytest.raises(openapi.SpecMismatch, match="BODIES names POST /auth/login"):
        openapi.build(SimpleNamespace(routes=routes))


def test_the_rendered_text_is_the_document() -> None:
    text = openapi.render()
    assert text.endswith("}\n") and json.loads(text) == openapi.build()
