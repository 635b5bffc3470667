"""The OpenAPI 3.1 document of the whole API, generated from the Chalice routes: `python -m chalicelib.openapi`."""
from __future__ import annotations

import copy
import importlib
import inspect
import json
import re
import sys
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel

from chalicelib import openapi_tables as tables
from chalicelib.routes.health import VERSION

REF = "#/components/schemas/{model}"
REGENERATE = "python -m chalicelib.openapi > docs/openapi.json"
_FREE_FORM = {"type": "object"}
_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string", "description": "machine-readable, e.g. validation_error"},
                       "message": {"type": "string", "description": "what was wrong and what to do"},
                       "details": {"type": "array", "items": {"type": "object"}}}}},
}
_ERRORS = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound"}
_ERROR_TEXT = {"BadRequest": "The body or a parameter is malformed or wrong (bad_json, validation_error, ...).",
               "Unauthorized": "Missing, invalid or expired credentials.",
               "Forbidden": "Signed in, but the role lacks the permission (or no company).",
               "NotFound": "No such resource in the caller's company.",
               "Error": "Any other refusal; the status and error.code say which."}


class SpecMismatch(Exception):
    """The routes and the tables in chalicelib/openapi_tables.py disagree."""


def build(app: Any = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every route of ``app`` (the SalesLens app by default)."""
    if app is None:
        from app import app  # here, not at import time: app.py imports the route that serves this document
    routes = {(method, path): entry for path, methods in app.routes.items() for method, entry in methods.items()}
    _check_tables(routes)
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: dict[str, tuple[str, str]] = {}
    for (method, path), entry in sorted(routes.items(), key=lambda item: (item[0][1], item[0][0])):
        operation = _operation(method, path, entry, schemas)
        other = operation_ids.setdefault(operation["operationId"], (method, path))
        if other != (method, path):
            raise SpecMismatch(f"{method} {path} and {other[0]} {other[1]} share the view name "
                               f"{operation['operationId']!r}; operation ids must be unique.")
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "SalesLens API", "version": VERSION,
                 "description": "Generated from the routes by `python -m chalicelib.openapi`; "
                                "the prose reference is docs/api.md."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {name: _error_response(name) for name in [*_ERRORS.values(), "Error"]},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                               "description": "the Cognito access token from POST /auth/login"}},
        },
    }


def render(app: Any = None) -> str:
    """The document as the text of docs/openapi.json: sorted keys, indent 2, trailing newline."""
    return json.dumps(build(app), sort_keys=True, indent=2) + "\n"


def _check_tables(routes: dict[tuple[str, str], Any]) -> None:
    for name in ("BODIES", "QUERY", "RAW_BODIES", "STATUS", "RESPONSE_HEADERS"):
        for route in getattr(tables, name):
            if route not in routes:
                raise SpecMismatch(f"openapi_tables.{name} names {route[0]} {route[1]}, which is not a route "
                                   "of the app. Remove or correct the entry.")


def _operation(method: str, path: str, entry: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    route = (method, path)
    view = entry.view_function
    source = inspect.getsource(view)  # follows functools.wraps to the view under the permission guard
    where = f"{method} {path} ({inspect.unwrap(view).__module__}.{entry.view_name})"
    operation: dict[str, Any] = {"operationId": entry.view_name, "summary": _summary(view, entry.view_name),
                                 "tags": [inspect.unwrap(view).__module__.rsplit(".", 1)[-1]]}
    permission = getattr(view, "permission", None)
    if permission:
        operation["description"] = f"Permission: `{permission}`."
        operation["x-permission"] = permission
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"{(\w+)}", path)]
    parameters += copy.deepcopy(tables.QUERY.get(route, []) + tables.RAW_BODIES.get(route, []))
    _check_query(where, route, source)
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(where, route, source, schemas)
    if body:
        operation["requestBody"] = body
    operation["security"] = [{"bearerAuth": []}] if entry.authorizer else []
    operation["responses"] = _responses(where, route, source, entry, bool(body) or route in tables.QUERY)
    return operation


def _summary(view: Any, view_name: str) -> str:
    lines = (inspect.getdoc(view) or "").strip().splitlines()
    return lines[0].strip() if lines else view_name.replace("_", " ").capitalize()


def _check_query(where: str, route: tuple[str, str], source: str) -> None:
    declared = {p["name"] for p in tables.QUERY.get(route, [])}
    used = set(re.findall(r"query_int\(\s*[\w.]+\s*,\s*\"(\w+)\"", source))
    if used - declared or ("query_params" in source and not declared):
        names = ", ".join(sorted(used - declared)) or "request.query_params"
        raise SpecMismatch(f"{where} reads query parameters ({names}) not declared in openapi_tables.QUERY. Add them.")


def _request_body(where: str, route: tuple[str, str], source: str, schemas: dict[str, Any]) -> dict[str, Any]:
    parses, raw = "parse_body(" in source, "raw_body" in source
    if parses != (route in tables.BODIES):
        raise SpecMismatch(f"{where} {'calls' if parses else 'does not call'} parse_body(...) but "
                           f"{'has no' if parses else 'has an'} entry in openapi_tables.BODIES. "
                           f"{'Add' if parses else 'Remove'} it.")
    if raw != (route in tables.RAW_BODIES):
        raise SpecMismatch(f"{where} {'reads' if raw else 'does not read'} raw_body but "
                           f"{'has no' if raw else 'has an'} entry in openapi_tables.RAW_BODIES.")
    if raw:
        return {"required": True, "content": {"application/json": {"schema": dict(_FREE_FORM)}}}
    if not parses:
        return {}
    model = _model(tables.BODIES[route])
    _add_schema(model, schemas)
    return {"required": any(field.is_required() for field in model.model_fields.values()),
            "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}}


def _model(ref: tables.ModelRef) -> type[BaseModel]:
    if isinstance(ref, str):
        module, _, name = ref.partition(":")
        ref = getattr(importlib.import_module(module), name)
    return ref


def _add_schema(model: type[BaseModel], schemas: dict[str, Any]) -> None:
    schema = model.model_json_schema(ref_template=REF)
    for name, found in {**schema.pop("$defs", {}), model.__name__: schema}.items():
        if schemas.setdefault(name, found) != found:
            raise SpecMismatch(f"Two different schemas are named {name!r}; rename one of the models.")


def _responses(where: str, route: tuple[str, str], source: str, entry: Any, takes_input: bool) -> dict[str, Any]:
    statuses = sorted({int(code) for code in re.findall(r"status_code=(\d{3})\b", source)})
    if not statuses and re.search(r"->\s*Response\s*:", source):
        if route not in tables.STATUS:
            raise SpecMismatch(f"{where} returns a Response whose status is not a literal status_code=...; "
                               "declare its success status in openapi_tables.STATUS.")
    statuses = statuses or [tables.STATUS.get(route, 200)]
    path = route[1]
    csv_only = path.endswith("/csv") or path.startswith("/templates/")
    content: dict[str, Any] = {} if csv_only else {"application/json": {"schema": dict(_FREE_FORM)}}
    if csv_only or "text/csv" in source:  # e.g. POST /explore/rows answers CSV when asked for it
        content["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {}
    for status in statuses:
        response: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if status != 204:
            response["content"] = copy.deepcopy(content)
        if route in tables.RESPONSE_HEADERS:
            response["headers"] = copy.deepcopy(tables.RESPONSE_HEADERS[route])
        responses[str(status)] = response
    errors = {"400"} if takes_input else set()
    if entry.authorizer or route in tables.RAW_BODIES:
        errors.add("401")
    if entry.authorizer:
        errors.add("403")
    if "{" in path:
        errors.add("404")
    for status in sorted(errors):
        responses[status] = {"$ref": f"#/components/responses/{_ERRORS[status]}"}
    responses["default"] = {"$ref": "#/components/responses/Error"}
    return responses


def _error_response(name: str) -> dict[str, Any]:
    return {"description": _ERROR_TEXT[name],
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}


if __name__ == "__main__":
    sys.stdout.write(render())
