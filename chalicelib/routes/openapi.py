"""GET /openapi.json: the API described as OpenAPI 3.1, generated from the routes themselves."""
from __future__ import annotations

import functools
from typing import Any

from chalice import Blueprint

from chalicelib import openapi as spec

bp = Blueprint(__name__)


@functools.cache
def document() -> dict[str, Any]:
    """Built once per process: the routes do not change while it runs."""
    return spec.build()


@bp.route("/openapi.json", methods=["GET"])
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of this API."""
    return document()
