"""The HTTP edge: correlation ids, errors turned into responses in one place, request body parsing."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from chalice import Response
from chalice.app import Request

from chalicelib import errors, jsonbody, logs
from chalicelib.config import get_settings
from chalicelib.jsonbody import MAX_JSON_BYTES

Model = TypeVar("Model", bound=pydantic.BaseModel)

# Chalice's own error bodies ({"Code", "Message"}) rewritten into ours.
_CHALICE_CODES = {
    "BadRequestError": ("bad_request", None),
    "MethodNotAllowedError": ("method_not_allowed", "This route does not accept that method."),
    "UnsupportedMediaType": ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
    "NotFoundError": ("not_found", None),
    "InternalServerError": ("internal_error", None),
}


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def cors_headers() -> dict[str, str]:
    return {"Access-Control-Allow-Origin": get_settings().portal_origin,
            "Access-Control-Expose-Headers": logs.CORRELATION_HEADER}


def middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Bind log keys, run the view, and make every error a ``{"error": ...}`` body with the right status."""
    correlation_id = event.headers.get(logs.CORRELATION_HEADER) or logs.new_correlation_id()
    authorizer = (event.context or {}).get("authorizer") or {}
    logs.clear()
    logs.bind(correlation_id=correlation_id[:64], path=event.path, method=event.method,
              tenant_id=authorizer.get("tenant_id", ""), user_id=authorizer.get("user_id", ""))
    try:
        response = get_response(event)
    except errors.SalesLensError as exc:
        response = Response(body=exc.body(), status_code=exc.status)
        logs.logger.info("request refused", extra={"status": exc.status, "code": exc.code})
    response = _normalise(response, correlation_id[:64])
    if response.status_code >= 500:
        logs.logger.error("request failed", extra={"status": response.status_code})
    response.headers = {**cors_headers(), **(response.headers or {}), logs.CORRELATION_HEADER: correlation_id}
    return response


def _normalise(response: Response, correlation_id: str = "") -> Response:
    """Chalice's own error bodies in our shape; a server error says only what to do, with the id to quote."""
    body = response.body
    if isinstance(body, dict) and "Code" in body and "error" not in body:
        code, message = _CHALICE_CODES.get(body["Code"], ("error", None))
        if response.status_code >= 500:
            message = ("Something went wrong on our side. Try again; if it keeps happening, "
                       "contact support with the X-Correlation-Id of this response.")
        response.body = error_body(code, message or str(body.get("Message", "")))
    if response.status_code >= 500 and isinstance(response.body, dict) and "error" in response.body:
        response.body["error"]["correlation_id"] = correlation_id
    return response


def parse_body(request: Request, model: type[Model], max_bytes: int = MAX_JSON_BYTES) -> Model:
    """The JSON body validated against ``model``; raises BadJson or ValidationFailed with field details.

    The body is bounded before it is believed (:mod:`chalicelib.jsonbody`): its size (413), its encoding, how
    deep it nests and how many values it holds (400), so a hostile body costs a refusal, not a RecursionError
    or a long parse.
    """
    data = jsonbody.load(request.raw_body or b"", max_bytes, empty={})
    if not isinstance(data, dict):
        raise errors.BadJson("The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]) or "body",
                    "problem": e["msg"].removeprefix("Value error, ")}  # our validators' own sentences
                   for e in exc.errors()]
        raise errors.ValidationFailed(details=details) from None


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = (request.query_params or {}).get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise errors.ValidationFailed(f"'{name}' must be a whole number from {low} to {high}.",
                                      [{"field": name, "problem": f"{raw!r} is out of range"}])
    return value
