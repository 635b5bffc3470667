"""What the OpenAPI generator cannot read off a route: body models, query and header parameters, run-time statuses."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.routes import schemas
from chalicelib.routes.results import MAX_PAGE, RunRequest
from chalicelib.routes.webhooks import NewKey, Rotation
from chalicelib.tenancy.preferences import Preferences
from chalicelib.webhooks import intake, signing
from chalicelib.webhooks.idempotency import REPLAY_HEADER

Route = tuple[str, str]
# A model, or "module:Name" for one imported only when the document is built (models of routes in flight).
ModelRef = type[BaseModel] | str

EXPLORE_MODELS = "chalicelib.query.explore_model"
REPORT_MODELS = "chalicelib.reports.requests"

# Every route that reads its JSON body with parse_body(request, Model).
BODIES: dict[Route, ModelRef] = {
    ("POST", "/auth/signup"): schemas.SignUp,
    ("POST", "/auth/confirm"): schemas.Confirm,
    ("POST", "/auth/resend-code"): schemas.EmailOnly,
    ("POST", "/auth/login"): schemas.Login,
    ("POST", "/auth/refresh"): schemas.Refresh,
    ("POST", "/auth/forgot-password"): schemas.EmailOnly,
    ("POST", "/auth/reset-password"): schemas.ResetPassword,
    ("POST", "/auth/change-password"): schemas.ChangePassword,
    ("PATCH", "/me"): schemas.Profile,
    ("DELETE", "/me"): schemas.PasswordOnly,
    ("PUT", "/me/preferences"): Preferences,
    ("POST", "/feedback"): schemas.FeedbackNote,
    ("PATCH", "/tenant"): schemas.TenantName,
    ("DELETE", "/tenant"): schemas.DeleteTenant,
    ("PATCH", "/members/{user_id}"): schemas.RoleChange,
    ("POST", "/invitations"): schemas.Invite,
    ("POST", "/uploads"): schemas.NewUpload,
    ("POST", "/uploads/{upload_id}/mapping"): schemas.MappingChoice,
    ("POST", "/transactions"): schemas.ManualTransaction,
    ("POST", "/webhook-secrets"): NewKey,
    ("POST", "/webhook-secrets/{key_id}/rotate"): Rotation,
    ("POST", "/runs"): RunRequest,
    ("POST", "/explore"): f"{EXPLORE_MODELS}:ExploreQuery",
    ("POST", "/explore/rows"): f"{EXPLORE_MODELS}:RowsQuery",
    ("POST", "/reports"): f"{REPORT_MODELS}:ReportRequest",
    ("POST", "/report-schedules"): f"{REPORT_MODELS}:ScheduleRequest",
    ("PUT", "/report-schedules/{schedule_id}"): f"{REPORT_MODELS}:ScheduleRequest",
    ("PUT", "/alert-settings"): f"{REPORT_MODELS}:AlertSettingsRequest",
    ("POST", "/unsubscribe"): f"{REPORT_MODELS}:Unsubscribe",
}

def _int(name: str, low: int, high: int, default: int | None = None, required: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": high}
    if default is not None:
        schema["default"] = default
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _text(name: str, where: str = "query", required: bool = False, description: str = "",
          **schema: Any) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": {"type": "string", **schema}}
    if description:
        param["description"] = description
    return param


_RUN = _text("run", description="a run id; the latest finished run when absent")

# Query parameters, read with query_int(request, name, default, low, high) or request.query_params.
QUERY: dict[Route, list[dict[str, Any]]] = {
    ("GET", "/audit"): [_int("limit", 1, 200, 50), _text("next", description="the cursor from the previous page")],
    ("GET", "/feedback"): [_int("limit", 1, 200, 50), _text("next", description="the cursor from the previous page")],
    ("GET", "/uploads"): [_int("limit", 1, 200, 50)],
    ("GET", "/runs"): [_int("limit", 1, 100, 20)],
    ("GET", "/results/{artifact}"): [_int("limit", 1, MAX_PAGE, 500), _int("offset", 0, 1_000_000_000, 0), _RUN],
    ("GET", "/results/{artifact}/csv"): [_RUN],
    ("POST", "/v1/ingest/shopify/orders"): [_text(signing.SHOPIFY_KEY_PARAM, required=True,
                                                  description="the SalesLens webhook key id, whk_…")],
    ("GET", "/reports"): [_int("limit", 1, 100, 20), _text("next", description="the cursor from the previous page")],
    ("GET", "/reports/{report_id}"): [_text("format", enum=["json", "html", "pdf"],
                                            description="json: the record; html: the report; pdf: a download link")],
    ("GET", "/deliveries"): [_int("limit", 1, 200, 50), _text("next", description="the cursor from the previous page")],
    ("GET", "/explore/values"): [_text("dimension", required=True), _text("q", maxLength=100),
                                 _int("limit", 1, 20, 20)],
}

# Routes that read raw_body themselves (signed webhooks): a free-form JSON object, and these headers.
RAW_BODIES: dict[Route, list[dict[str, Any]]] = {
    ("POST", "/v1/ingest/records"): [
        _text(signing.KEY_ID_HEADER, "header", True, "the webhook key id, whk_…"),
        _text(signing.TIMESTAMP_HEADER, "header", True, "unix time in whole seconds", pattern=r"^\d+$"),
        _text(signing.SIGNATURE_HEADER, "header", True, 'v1= + hex HMAC-SHA256 over "<timestamp>." + body'),
        _text(intake.IDEMPOTENCY_HEADER, "header", True, "one per delivery, the same on retries",
              minLength=1, maxLength=255)],
    ("POST", "/v1/ingest/shopify/orders"): [
        _text(signing.SHOPIFY_HMAC_HEADER, "header", True, "base64 HMAC-SHA256 of the body"),
        _text(intake.SHOPIFY_WEBHOOK_ID_HEADER, "header", True, "the idempotency key"),
        _text(intake.SHOPIFY_TOPIC_HEADER, "header", description="orders/paid, orders/create, orders/cancelled "
                                                                 "or refunds/create")],
}

# Success statuses decided at run time (the source has no status_code=<literal> to read).
STATUS: dict[Route, int] = {
    ("GET", "/reports/{report_id}"): 200,
    ("POST", "/v1/ingest/records"): 202,
    ("POST", "/v1/ingest/shopify/orders"): 202,
}

# Response headers worth naming.
RESPONSE_HEADERS: dict[Route, dict[str, Any]] = {
    route: {REPLAY_HEADER: {"description": "true when this is the stored answer to a retried delivery",
                            "schema": {"type": "string", "enum": ["true"]}}} for route in RAW_BODIES
}
