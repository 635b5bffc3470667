"""What the report routes do: ask for a report (checked against Explore at once, built by the worker), read it,
manage schedules and alert settings, show the delivery log, and honour unsubscribe links."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib import errors, logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.query.explore_model import ExploreQuery
from chalicelib.reports import alert_store, schedules, store
from chalicelib.reports.alerts import AlertRules
from chalicelib.reports.deliveries import DeliveryLog
from chalicelib.reports.requests import AlertSettingsRequest, ReportRequest, ScheduleRequest
from chalicelib.reports.schedule_store import ScheduleStore

MAX_ACTIVE = 5  # reports queued or building per company at once


@dataclass
class Reporting:
    reports: store.ReportStore
    files: store.ReportFiles
    schedules: ScheduleStore
    alert_settings: alert_store.AlertSettingsStore
    deliveries: DeliveryLog
    explore: Any
    tenants: Any              # TenantStore: the member list recipients are checked against
    sqs: Any
    queue_url: str
    allow_loopback_webhooks: bool = False

    # -- reports ------------------------------------------------------------------------------------------------
    def request(self, ctx: TenantContext, body: ReportRequest) -> dict[str, Any]:
        """Check the question with Explore now (a bad filter is a 400 here, not a failed job), then queue it."""
        self._check_question(ctx, body.period.model_dump(mode="json", exclude_none=True),
                             [c.model_dump(mode="json") for c in body.filters])
        recent = self.reports.page(ctx.tenant_id, 20)["reports"]
        if sum(r["status"] in (store.QUEUED, store.RUNNING) for r in recent) >= MAX_ACTIVE:
            raise errors.Conflict(f"{MAX_ACTIVE} reports are being built already; wait for one to finish.")
        asked = body.model_dump(mode="json", exclude_none=True)
        report = store.Report(store.new_report_id(), store.QUEUED, body.title or "Sales report", asked,
                              created_by=ctx.email or ctx.user_id)
        self.reports.create(ctx.tenant_id, report)
        try:
            self._enqueue(ctx.tenant_id, report.report_id)
        except Exception:
            report.status, report.error = store.FAILED, {"code": "not_queued",
                                                          "message": "The report could not be queued. Try again."}
            self.reports.save(ctx.tenant_id, report)
            raise
        return report.public()

    def get(self, ctx: TenantContext, report_id: str) -> store.Report:
        report = self.reports.get(ctx.tenant_id, report_id)
        if report is None:
            raise errors.NotFound(f"No report '{report_id[:40]}' in your company. GET /reports lists them.")
        return report

    def ready(self, ctx: TenantContext, report_id: str) -> store.Report:
        report = self.get(ctx, report_id)
        if report.status != store.READY:
            message = (report.error or {}).get("message") if report.status == store.FAILED else None
            raise errors.Conflict(message or f"The report is {report.status} ({report.progress}%); try again when "
                                             "it is ready.")
        return report

    def html(self, ctx: TenantContext, report_id: str) -> str:
        return self.files.get(ctx, self.ready(ctx, report_id).report_id, "html").decode()

    def pdf_url(self, ctx: TenantContext, report_id: str) -> dict[str, Any]:
        return self.files.download_url(ctx, self.ready(ctx, report_id))

    def _check_question(self, ctx: TenantContext, period: dict[str, Any], filters: list[dict[str, Any]]) -> None:
        self.explore.explore(ctx, ExploreQuery.model_validate(
            {"measures": ["revenue"], "date": period, "filters": filters}))

    def _enqueue(self, tenant_id: str, report_id: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({
            "kind": "build_report", "tenant_id": tenant_id, "report_id": report_id,
            "correlation_id": logs.correlation_id()}))

    # -- schedules ----------------------------------------------------------------------------------------------
    def schedule_list(self, ctx: TenantContext) -> dict[str, Any]:
        return {"schedules": [s.public() for s in self.schedules.list(ctx.tenant_id)]}

    def schedule_create(self, ctx: TenantContext, body: ScheduleRequest) -> dict[str, Any]:
        fields = self._schedule_fields(ctx, body)
        schedule = schedules.new_schedule(fields, ctx.email or ctx.user_id, datetime.now(UTC))
        if not body.enabled:
            schedule = replace(schedule, enabled=False)
        self.schedules.create(ctx.tenant_id, schedule)
        return schedule.public()

    def schedule_update(self, ctx: TenantContext, schedule_id: str, body: ScheduleRequest) -> dict[str, Any]:
        current = self._schedule(ctx, schedule_id)
        changed = schedules.updated(current, self._schedule_fields(ctx, body), body.enabled, datetime.now(UTC))
        self.schedules.put(ctx.tenant_id, changed, read=current)
        return changed.public()

    def schedule_delete(self, ctx: TenantContext, schedule_id: str) -> None:
        if not self.schedules.delete(ctx.tenant_id, self._schedule(ctx, schedule_id).schedule_id):
            raise errors.NotFound(f"No schedule '{schedule_id[:40]}' in your company.")

    def _schedule(self, ctx: TenantContext, schedule_id: str) -> schedules.Schedule:
        found = self.schedules.get(ctx.tenant_id, schedule_id)
        if found is None:
            raise errors.NotFound(f"No schedule '{schedule_id[:40]}' in your company. GET /report-schedules lists "
                                  "them.")
        return found

    def _schedule_fields(self, ctx: TenantContext, body: ScheduleRequest) -> schedules.ScheduleFields:
        fields = schedules.validate(name=body.name, frequency=body.frequency, weekday=body.weekday, day=body.day,
                                    hour=body.hour, timezone=body.timezone, recipients=list(body.recipients),
                                    sections=list(body.sections), filters=body.filters, members=self._members(ctx))
        if fields.filters:
            self._check_question(ctx, {"preset": "last_30_days"},
                                 [{"field": f, "op": "in", "values": v} for f, v in fields.filters.items()])
        return fields

    def _members(self, ctx: TenantContext) -> list[str]:
        return [m.email for m in self.tenants.list_members(ctx.tenant_id)]

    # -- alerts and deliveries ----------------------------------------------------------------------------------
    def alerts_get(self, ctx: TenantContext) -> dict[str, Any]:
        return self.alert_settings.get(ctx.tenant_id).public()

    def alerts_put(self, ctx: TenantContext, body: AlertSettingsRequest) -> dict[str, Any]:
        asked = alert_store.AlertSettings(enabled=body.enabled, rules=AlertRules(**body.rules.model_dump()),
                                          email_to=list(body.email_to), webhook_url=body.webhook_url,
                                          updated_by=ctx.email or ctx.user_id)
        checked = alert_store.check_settings(asked, self._members(ctx), self.allow_loopback_webhooks)
        return self.alert_settings.put(ctx.tenant_id, checked)

    def alerts_rotate(self, ctx: TenantContext) -> dict[str, Any]:
        return self.alert_settings.rotate_secret(ctx.tenant_id, ctx.email or ctx.user_id)

    def forget_member(self, tenant_id: str, email: str) -> None:
        """Someone left the company: no schedule or alert e-mails them any more (sends check membership too)."""
        self.schedules.remove_recipient_everywhere(tenant_id, email)
        settings = self.alert_settings.get(tenant_id)
        kept = [e for e in settings.email_to if e.lower() != email.lower()]
        if kept != settings.email_to:
            self.alert_settings.put(tenant_id, replace(settings, email_to=kept))

    def unsubscribe(self, token: str) -> dict[str, Any]:
        """Public: the link in a scheduled e-mail (its secret is 192 random bits, so guessing is hopeless)."""
        found = self.schedules.unsubscribe(token)
        if found is None:
            raise errors.NotFound("This unsubscribe link is not valid (any more): you may have unsubscribed already, "
                                  "or the schedule was deleted. Ask the company's owner if mails keep coming.")
        logs.logger.info("unsubscribed", extra={"tenant_id": found[0], "schedule_id": found[1]})
        return {"unsubscribed": True, "email": found[2],
                "message": "You will not receive this scheduled report any more."}
