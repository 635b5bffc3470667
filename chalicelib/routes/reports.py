"""/reports, /report-schedules, /alert-settings, /deliveries and /unsubscribe: reports on demand and by e-mail,
alerts, and the log of everything sent."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.errors import ValidationFailed
from chalicelib.http import parse_body, query_int
from chalicelib.reports.requests import AlertSettingsRequest, ReportRequest, ScheduleRequest, Unsubscribe
from chalicelib.routes.guard import endpoint, jwt_authorizer

bp = Blueprint(__name__)

FORMATS = ("json", "html", "pdf")
# The report is shown inside the portal's sandboxed frame; on its own it may not run or load anything.
HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
                "X-Content-Type-Options": "nosniff"}


@bp.route("/reports", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "reports:create")
def create_report(ctx: TenantContext) -> Response:
    """Queue a report (HTML + PDF); poll GET /reports/{id} for its progress."""
    body = parse_body(bp.current_request, ReportRequest)
    report = services.reports().request(ctx, body)
    services.tenancy().audit.record(ctx.tenant_id, "report_requested", ctx.email, details={
        "report_id": report["report_id"], "sections": report["request"]["sections"]})
    return Response(body=report, status_code=202)


@bp.route("/reports", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def list_reports(ctx: TenantContext) -> dict[str, Any]:
    request = bp.current_request
    limit = query_int(request, "limit", 20, 1, 100)
    return services.reports().reports.page(ctx.tenant_id, limit, (request.query_params or {}).get("next"))


@bp.route("/reports/{report_id}", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def get_report(ctx: TenantContext, report_id: str) -> Any:
    """The record (``format=json``), the HTML itself (``format=html``) or a short-lived PDF link (``format=pdf``)."""
    wanted = (bp.current_request.query_params or {}).get("format", "json")
    if wanted not in FORMATS:
        raise ValidationFailed(f"format must be one of {', '.join(FORMATS)}.",
                               [{"field": "format", "problem": "unknown", "valid": list(FORMATS)}])
    reporting = services.reports()
    if wanted == "html":
        return Response(body=reporting.html(ctx, report_id), headers=HTML_HEADERS, status_code=200)
    if wanted == "pdf":
        link = reporting.pdf_url(ctx, report_id)
        services.tenancy().audit.record(ctx.tenant_id, "report_downloaded", ctx.email,
                                        details={"report_id": report_id})
        return link
    return reporting.get(ctx, report_id).public()


@bp.route("/report-schedules", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def list_schedules(ctx: TenantContext) -> dict[str, Any]:
    return services.reports().schedule_list(ctx)


@bp.route("/report-schedules", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "reports:create")
def create_schedule(ctx: TenantContext) -> Response:
    schedule = services.reports().schedule_create(ctx, parse_body(bp.current_request, ScheduleRequest))
    services.tenancy().audit.record(ctx.tenant_id, "report_schedule_created", ctx.email,
                                    details={"schedule_id": schedule["schedule_id"], "when": schedule["when"]})
    return Response(body=schedule, status_code=201)


@bp.route("/report-schedules/{schedule_id}", methods=["PUT"], authorizer=jwt_authorizer)
@endpoint(bp, "reports:create")
def update_schedule(ctx: TenantContext, schedule_id: str) -> dict[str, Any]:
    schedule = services.reports().schedule_update(ctx, schedule_id, parse_body(bp.current_request, ScheduleRequest))
    services.tenancy().audit.record(ctx.tenant_id, "report_schedule_changed", ctx.email,
                                    details={"schedule_id": schedule_id, "when": schedule["when"]})
    return schedule


@bp.route("/report-schedules/{schedule_id}", methods=["DELETE"], authorizer=jwt_authorizer)
@endpoint(bp, "reports:create")
def delete_schedule(ctx: TenantContext, schedule_id: str) -> Response:
    services.reports().schedule_delete(ctx, schedule_id)
    services.tenancy().audit.record(ctx.tenant_id, "report_schedule_deleted", ctx.email,
                                    details={"schedule_id": schedule_id})
    return Response(body="", status_code=204)


@bp.route("/alert-settings", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def get_alert_settings(ctx: TenantContext) -> dict[str, Any]:
    return services.reports().alerts_get(ctx)


@bp.route("/alert-settings", methods=["PUT"], authorizer=jwt_authorizer)
@endpoint(bp, "alerts:manage")
def put_alert_settings(ctx: TenantContext) -> dict[str, Any]:
    """Save who hears about what; the answer carries ``webhook_secret`` once, when a webhook is first set."""
    saved = services.reports().alerts_put(ctx, parse_body(bp.current_request, AlertSettingsRequest))
    services.tenancy().audit.record(ctx.tenant_id, "alert_settings_changed", ctx.email, details={
        "enabled": saved["enabled"], "email_to": len(saved["email_to"]), "webhook": bool(saved["webhook_url"])})
    return saved


@bp.route("/alert-settings/rotate-secret", methods=["POST"], authorizer=jwt_authorizer)
@endpoint(bp, "alerts:manage")
def rotate_alert_secret(ctx: TenantContext) -> dict[str, Any]:
    rotated = services.reports().alerts_rotate(ctx)
    services.tenancy().audit.record(ctx.tenant_id, "alert_webhook_secret_rotated", ctx.email)
    return rotated


@bp.route("/deliveries", methods=["GET"], authorizer=jwt_authorizer)
@endpoint(bp, "results:read")
def list_deliveries(ctx: TenantContext) -> dict[str, Any]:
    """Every e-mail and webhook sent (or not) for reports and alerts, newest first."""
    request = bp.current_request
    limit = query_int(request, "limit", 50, 1, 200)
    return services.reports().deliveries.page(ctx.tenant_id, limit, (request.query_params or {}).get("next"))


@bp.route("/unsubscribe", methods=["POST"])
def unsubscribe() -> dict[str, Any]:
    """Public: the unsubscribe link of a scheduled report e-mail (the token is the proof)."""
    body = parse_body(bp.current_request, Unsubscribe, 4096)
    return services.reports().unsubscribe(body.token)
