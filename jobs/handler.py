"""Worker entry point (container-image Lambda; the local event pump calls the same function).

An SQS batch of job messages (``analyze_tenant``, ``nightly``, ``build_report``, ``report_schedules``, ``alerts``),
answered with ``batchItemFailures`` so only the messages to retry come back; or an EventBridge schedule's
``{"kind": "nightly"}`` / ``{"kind": "report_schedules"}`` invoked directly.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib import logs

KINDS = ("analyze_tenant", "nightly", "build_report", "report_schedules", "alerts")
NEEDS = {"analyze_tenant": ("tenant_id",), "build_report": ("tenant_id", "report_id"),
         "alerts": ("tenant_id", "run_id")}


def parse_message(body: str) -> dict[str, Any]:
    """A job message: ``{"kind": ..., "tenant_id": ..., "correlation_id": ...}``; raises ValueError."""
    message = json.loads(body)
    if not isinstance(message, dict) or message.get("kind") not in KINDS:
        raise ValueError(f"unknown job message: {body[:200]}")
    missing = [name for name in NEEDS.get(message["kind"], ()) if not message.get(name)]
    if missing:
        raise ValueError(f"{message['kind']} needs {', '.join(missing)}")
    return message


def build_worker() -> Any:
    """The worker wired to the real adapters (built per call: the services cache them per process)."""
    from chalicelib import aws, services
    from chalicelib.config import get_settings
    from chalicelib.explore.labels import CustomerLabels
    from jobs.config import AnalysisConfig
    from jobs.runner import Runner
    from jobs.steps.customers import label_publisher
    from jobs.worker import TenantDirectory, Worker

    settings, results, config = get_settings(), services.results(), AnalysisConfig.from_environ()
    labels = CustomerLabels(aws.client("s3"), settings.data_bucket, settings.kms_key_id)
    runner = Runner(results.artifacts, results.runs, services.query_engine(), config,
                    publishers=[label_publisher(labels)])
    return Worker(runs=results.runs, artifacts=results.artifacts, engine=services.query_engine(),
                  sqs=aws.client("sqs"), queue_url=settings.jobs_queue_url,
                  tenants=TenantDirectory(aws.client("dynamodb"), settings.table_name),
                  config=config, runner=runner, reports=build_report_jobs())


def build_report_jobs() -> Any:
    """The report and alert jobs wired to the real adapters (the API's stores, SES, outgoing webhooks)."""
    from chalicelib import aws, services
    from chalicelib.config import get_settings
    from chalicelib.mail import SesMailer
    from chalicelib.reports.alert_store import AlertLedger
    from chalicelib.reports.deliveries import Courier
    from chalicelib.reports.outbound import WebhookSender
    from jobs.reports import ReportJobs

    settings, reporting = get_settings(), services.reports()
    courier = Courier(SesMailer(aws.client("ses"), settings.email_from),
                      WebhookSender(allow_loopback=bool(settings.alert_webhook_allow_loopback)), reporting.deliveries)
    return ReportJobs(reports=reporting.reports, files=reporting.files, runs=services.results().runs,
                      artifacts=services.results().artifacts, explore=reporting.explore, tenants=reporting.tenants,
                      schedules=reporting.schedules, courier=courier, alert_settings=reporting.alert_settings,
                      ledger=AlertLedger(aws.client("dynamodb"), settings.table_name), sqs=reporting.sqs,
                      queue_url=settings.jobs_queue_url, portal_url=settings.portal_url.rstrip("/"))


def dispatch(worker: Any, message: dict[str, Any]) -> bool:
    """True when the message is done with; False to have SQS deliver it again."""
    kind = message["kind"]
    if kind == "nightly":
        worker.nightly()
        return True
    if kind == "analyze_tenant":
        return worker.analyze(message)
    if kind == "build_report":
        return worker.reports.build(message["tenant_id"], message["report_id"])
    if kind == "report_schedules":
        worker.reports.tick()
        return True
    worker.reports.alerts(message["tenant_id"], message["run_id"])
    return True


def _bind(message: dict[str, Any]) -> None:
    logs.clear()
    logs.logger.remove_keys(["run_id"])
    logs.bind(correlation_id=message.get("correlation_id") or logs.new_correlation_id(),
              tenant_id=message.get("tenant_id", ""))


def handle(event: dict[str, Any], context: Any, worker: Any = None) -> dict[str, Any]:
    """SQS batch (ReportBatchItemFailures) or a scheduled ``{"kind": "nightly"}`` event."""
    if "Records" not in event:
        message = parse_message(json.dumps(event))
        _bind(message)
        dispatch(worker or build_worker(), message)
        return {"batchItemFailures": []}
    failures = []
    for record in event["Records"]:
        try:
            message = parse_message(record["body"])
        except ValueError:
            logs.clear()
            logs.logger.exception("unreadable job message", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        _bind(message)
        logs.logger.info("job received", extra={"job": message,
                                                "receive_count": record.get("attributes", {}).get(
                                                    "ApproximateReceiveCount")})
        try:
            done = dispatch(worker or build_worker(), message)
        except Exception:
            logs.logger.exception("job failed; it will be retried")
            done = False
        if not done:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
