"""Every JSON body the API takes is bounded field by field: each string has a maximum length (or is a fixed set of
values), each list and each free-form object a maximum size, so no field can carry an unbounded payload into a
store, a log line or a query (issue 12)."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.openapi import _model
from chalicelib.openapi_tables import BODIES

FORMATS_WITH_OWN_BOUNDS = ("date", "date-time", "email")


def unbounded(schema: dict[str, Any], definitions: dict[str, Any], path: str) -> list[str]:
    if "$ref" in schema:
        return unbounded(definitions[schema["$ref"].split("/")[-1]], definitions, path)
    found = [problem for key in ("anyOf", "oneOf", "allOf") for sub in schema.get(key, [])
             for problem in unbounded(sub, definitions, path)]
    kind = schema.get("type")
    if kind == "string" and not ({"maxLength", "enum", "const"} & schema.keys()) \
            and schema.get("format") not in FORMATS_WITH_OWN_BOUNDS:
        found.append(f"{path}: string without maxLength")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{path}: list without maxItems")
        found += unbounded(schema.get("items", {}), definitions, f"{path}[]")
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                found.append(f"{path}: object without maxProperties")
            found += unbounded(extra, definitions, f"{path}{{}}")
            found += unbounded(schema.get("propertyNames", {}), definitions, f"{path} keys")
        for name, sub in schema.get("properties", {}).items():
            found += unbounded(sub, definitions, f"{path}.{name}")
    return found


@pytest.mark.parametrize("route", sorted(BODIES), ids=[f"{m} {p}" for m, p in sorted(BODIES)])
def test_every_field_of_every_body_is_bounded(route: tuple[str, str]) -> None:
    schema = _model(BODIES[route]).model_json_schema()
    assert unbounded(schema, schema.get("$defs", {}), "body") == []


def test_the_check_finds_an_unbounded_field() -> None:
    assert unbounded({"type": "object", "properties": {"note": {"type": "string"}}}, {}, "body") == [
        "body.note: string without maxLength"]
