"""Reports and alerts as worker jobs: build a report (on demand or for a schedule) and e-mail it, fire the schedules
that are due, and send the alerts a finished analysis run raised. Same queue, same retries, same DLQ as the analysis.

Messages (see ``jobs.handler``):
  {"kind": "build_report", "tenant_id", "report_id"}   a report the API or a schedule created
  {"kind": "report_schedules"}                          the hourly EventBridge tick
  {"kind": "alerts", "tenant_id", "run_id"}             sent by the worker after a run succeeds
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib import errors, logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.reports import content, store
from chalicelib.reports.deliveries import Attachment, new_delivery
from chalicelib.reports.schedules import report_period, unsubscribe_token
from chalicelib.reports.sections import SECTIONS
from chalicelib.results.artifacts import ARTIFACTS
from chalicelib.results.service import why_missing

NEEDED = tuple(a for a in ARTIFACTS if a not in ("timeseries", "model_comparison", "forecast_accuracy"))
UNEXPECTED = {"code": "report_failed",
              "message": "The report could not be built; we have been notified and will try again."}


@dataclass
class ReportJobs:
    """What the report and alert jobs need; ``jobs.handler.build_report_jobs`` wires the real adapters."""

    reports: store.ReportStore
    files: store.ReportFiles
    runs: Any                     # chalicelib.results.runs.RunStore
    artifacts: Any                # chalicelib.results.artifacts.ArtifactStore
    explore: Any                  # chalicelib.explore.service.Explore
    tenants: Any                  # chalicelib.tenancy.store.TenantStore
    schedules: Any                # chalicelib.reports.schedule_store.ScheduleStore
    courier: Any                  # chalicelib.reports.deliveries.Courier
    alert_settings: Any           # chalicelib.reports.alert_store.AlertSettingsStore
    ledger: Any                   # chalicelib.reports.alert_store.AlertLedger
    sqs: Any
    queue_url: str
    portal_url: str
    render: Callable[[dict[str, Any]], tuple[str, bytes, int]] | None = None
    clock: Callable[[], float] = time.time

    # -- building -----------------------------------------------------------------------------------------------
    def build(self, tenant_id: str, report_id: str) -> bool:
        """Build and store one report (and e-mail it when a schedule asked for it). False: retry the message."""
        report = self.reports.get(tenant_id, report_id)
        if report is None or (report.status == store.READY and (report.emailed or not report.schedule_id)):
            logs.logger.info("nothing to do for this report", extra={"report_id": report_id,
                                                                     "found": report is not None})
            return True
        ctx = TenantContext(tenant_id, "system", "analyst", "report")
        started = self.clock()
        if report.status != store.READY:
            report.status, report.step, report.progress, report.error = store.RUNNING, "reading results", 5, {}
            report.attempts += 1
            self.reports.save(tenant_id, report)
            try:
                self._build(ctx, report)
            except errors.SalesLensError as problem:  # the request cannot be answered (e.g. a filter no longer fits)
                self._fail(tenant_id, report, {"code": problem.code, "message": problem.message})
                return True
            except Exception:
                logs.logger.exception("report failed", extra={"report_id": report_id})
                self._fail(tenant_id, report, dict(UNEXPECTED))
                return False
            report.seconds = round(self.clock() - started, 3)
            self.reports.save(tenant_id, report)
            logs.logger.info("report ready", extra={"report_id": report_id, "seconds": report.seconds,
                                                    "pdf_bytes": report.pdf_bytes})
        if report.schedule_id and not report.emailed:
            self._email(ctx, report)
        return True

    def _build(self, ctx: TenantContext, report: store.Report) -> None:
        render = self.render or _default_render()
        company = self.tenants.get_tenant(ctx.tenant_id)
        artifacts, skipped, run_id = self._artifacts(ctx)
        request = request_from(report.request)
        report.step, report.progress, report.run_id = "asking Explore", 20, run_id
        self.reports.save(ctx.tenant_id, report)
        model = content.build(request, content.Inputs(company.name if company else ctx.tenant_id,
                                                      lambda q: self.explore.explore(ctx, q), artifacts, skipped,
                                                      datetime.fromtimestamp(self.clock(), UTC)))
        report.step, report.progress = "rendering", 50
        self.reports.save(ctx.tenant_id, report)
        html, pdf, report.pages = render(model)
        report.step, report.progress = "storing", 90
        self.reports.save(ctx.tenant_id, report)
        report.html_bytes = len(html.encode())
        report.pdf_bytes = len(pdf)
        self.files.put(ctx, report.report_id, "html", html.encode())
        self.files.put(ctx, report.report_id, "pdf", pdf)
        report.status, report.step, report.progress = store.READY, "", 100
        report.headlines, report.period_label = model["headlines"], model["period"]["label"]
        report.period = {"from": model["period"]["from"], "to": model["period"]["to"]}
        report.finished_at = _iso(self.clock())

    def _artifacts(self, ctx: TenantContext) -> tuple[dict[str, Any], dict[str, str], str]:
        """The latest published run's outputs a report shows, and why each missing one is missing."""
        latest = self.runs.latest(ctx.tenant_id)
        run = self.runs.get(ctx.tenant_id, latest) if latest else None
        if run is None:
            reason = "No analysis has finished yet: it runs after your first upload and takes a few minutes."
            return {}, dict.fromkeys(NEEDED, reason), ""
        found, skipped = {}, {}
        for name in NEEDED:
            try:
                found[name] = self.artifacts.read(ctx, run.run_id, name)
            except errors.NotFound:
                skipped[name] = why_missing(run, name)[0]
        return found, skipped, run.run_id

    def _fail(self, tenant_id: str, report: store.Report, error: dict[str, str]) -> None:
        report.status, report.step, report.error, report.finished_at = store.FAILED, "", error, _iso(self.clock())
        self.reports.save(tenant_id, report)

    def _email(self, ctx: TenantContext, report: store.Report) -> None:
        """E-mail the PDF to the schedule's recipients who are still members; every send is in the delivery log."""
        schedule = self.schedules.get(ctx.tenant_id, report.schedule_id)
        if schedule is None:
            report.emailed = True  # deleted meanwhile: the report stays in the portal, nobody is mailed
            self.reports.save(ctx.tenant_id, report)
            return
        members = {m.email.lower() for m in self.tenants.list_members(ctx.tenant_id)}
        pdf = self.files.get(ctx, report.report_id, "pdf")
        company = self.tenants.get_tenant(ctx.tenant_id)
        name = company.name if company else ctx.tenant_id
        for recipient in schedule.recipients:
            if recipient.email.lower() not in members:
                self.courier.log.record(ctx.tenant_id, new_delivery(
                    "email", recipient.email, "report", report.title, status="failed", attempts=0,
                    error="Not sent: no longer a member of the company.", report_id=report.report_id))
                continue
            link = f"{self.portal_url}/unsubscribe.html?token={unsubscribe_token(ctx.tenant_id, schedule, recipient)}"
            self.courier.email(ctx.tenant_id, recipient.email, f"{report.title} ({report.period_label})",
                               email_text(name, report, schedule.name, link,
                                          f"{self.portal_url}/reports.html?report={report.report_id}"),
                               kind="report", report_id=report.report_id,
                               attachment=Attachment(f"saleslens-report-{report.created_at[:10]}.pdf", pdf),
                               headers={"List-Unsubscribe": f"<{link}>"})
        report.emailed = True
        self.reports.save(ctx.tenant_id, report)
        self.schedules.record_report(ctx.tenant_id, schedule.schedule_id, report.report_id)

    # -- schedules ----------------------------------------------------------------------------------------------
    def tick(self) -> int:
        """Create and queue a report for every schedule that is due and this tick claims; returns how many."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        fired = 0
        for tenant_id, schedule in self.schedules.due(now):
            due_at = datetime.fromisoformat(schedule.next_run_at)
            claimed = self.schedules.claim(tenant_id, schedule, now)
            if claimed is None:
                continue  # another tick took it
            first, last = report_period(schedule, due_at)
            report = store.Report(store.new_report_id(), store.QUEUED, schedule.name or "Scheduled report",
                                  {"period": {"start": first.isoformat(), "end": last.isoformat()},
                                   "filters": [{"field": f, "op": "in", "values": v} for f, v in
                                               schedule.filters.items()],
                                   "sections": list(schedule.sections), "title": schedule.name},
                                  created_by=f"schedule {schedule.schedule_id}", schedule_id=schedule.schedule_id)
            self.reports.create(tenant_id, report)
            self.enqueue(tenant_id, report.report_id)
            fired += 1
        logs.logger.info("report schedules ticked", extra={"fired": fired})
        return fired

    def enqueue(self, tenant_id: str, report_id: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({
            "kind": "build_report", "tenant_id": tenant_id, "report_id": report_id,
            "correlation_id": logs.correlation_id() or logs.new_correlation_id()}))

    # -- alerts -------------------------------------------------------------------------------------------------
    def alerts(self, tenant_id: str, run_id: str) -> int:
        """Alerts raised by run ``run_id`` against the run before it, sent by e-mail and webhook; returns how many."""
        from chalicelib.reports import alerts

        settings = self.alert_settings.get(tenant_id)
        if not settings.enabled or not (settings.email_to or settings.webhook_url):
            return 0
        ctx = TenantContext(tenant_id, "system", "analyst", "alerts")
        current = self._results(ctx, run_id)
        earlier = [r for r in self.runs.list(tenant_id, limit=10) if r.run_id < run_id and r.status == "succeeded"]
        previous = self._results(ctx, earlier[0].run_id) if earlier else None
        raised = alerts.detect(current, previous, settings.rules)
        company = self.tenants.get_tenant(tenant_id)
        sent = alerts.dispatch(tenant_id, run_id, raised, settings, self.ledger, self.courier,
                               company.name if company else tenant_id)
        logs.logger.info("alerts checked", extra={"raised": len(raised), "deliveries": len(sent)})
        return len(raised)

    def _results(self, ctx: TenantContext, run_id: str) -> dict[str, Any]:
        found = {}
        for name in ("anomalies", "forecast_accuracy", "forecast", "churn", "kpis"):
            try:
                found[name] = self.artifacts.read(ctx, run_id, name)
            except errors.NotFound:
                continue
        return found


def request_from(asked: dict[str, Any]) -> content.Request:
    """The stored request (as the API validated it) back as a :class:`content.Request`."""
    from chalicelib.query.explore_model import Condition, DateRange

    return content.Request(period=DateRange.model_validate(asked.get("period") or {"preset": "last_30_days"}),
                           filters=tuple(Condition.model_validate(c) for c in asked.get("filters") or []),
                           sections=tuple(asked.get("sections") or SECTIONS), title=asked.get("title") or "")


def email_text(company: str, report: store.Report, schedule_name: str, unsubscribe: str, link: str) -> str:
    """The e-mail body: the three headline sentences, where to see more, and how to stop receiving it."""
    lines = [f"{report.title} for {company}, {report.period_label}.", ""]
    lines += [f"- {h}" for h in report.headlines]
    lines += ["", "The full report is attached as a PDF, and in the portal:", link, "",
              f"You receive this because you are a recipient of the schedule \"{schedule_name}\".",
              f"Stop receiving it: {unsubscribe}", ""]
    return "\n".join(lines)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def _default_render() -> Callable[[dict[str, Any]], tuple[str, bytes, int]]:
    from chalicelib.reports.render import render

    return render
