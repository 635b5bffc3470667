"""The worker's service: job messages become runs — requested (coalesced), started under a lease, run through
the plan, finished — and a queued follower is sent on; the nightly schedule requests a run for every tenant."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from chalicelib import logs
from chalicelib.auth.permissions import TenantContext
from jobs.config import AnalysisConfig
from jobs.runner import Runner, StepFailed

TRIGGERS = ("ingest", "schedule", "manual")
UNEXPECTED = {"code": "analysis_failed",
              "message": "The analysis failed; we have been notified. Your previous results stay available."}


class TenantDirectory:
    """Every company's id, from the ``TENANT#<id> / META`` items, page by page (the table holds other items too)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db, self._table = dynamodb, table_name

    def tenant_ids(self) -> Iterator[str]:
        pages = self._db.get_paginator("scan").paginate(
            TableName=self._table, ProjectionExpression="pk",
            FilterExpression="sk = :meta AND begins_with(pk, :tenant)",
            ExpressionAttributeValues={":meta": {"S": "META"}, ":tenant": {"S": "TENANT#"}})
        for page in pages:
            for item in page.get("Items", []):
                yield item["pk"]["S"].removeprefix("TENANT#")


class Worker:
    """Handles one job message at a time; returns False when the message should come back (SQS retry)."""

    def __init__(self, runs: Any, artifacts: Any, engine: Any, sqs: Any, queue_url: str,
                 tenants: TenantDirectory | None = None, config: AnalysisConfig | None = None,
                 runner: Runner | None = None, reports: Any = None) -> None:
        self.runs, self.sqs, self.queue_url, self.tenants = runs, sqs, queue_url, tenants
        self.reports = reports  # jobs.reports.ReportJobs: reports, schedules and alerts
        self.config = config or AnalysisConfig()
        self.runner = runner or Runner(artifacts, runs, engine, self.config)

    def analyze(self, message: dict[str, Any]) -> bool:
        """Run the analysis a message asks for. False: leave the message for retry (lease held, or it failed)."""
        run = self._run_for(message)
        if run is None:
            return True
        logs.bind(run_id=run.run_id)
        started = self._start(run)
        if started is None:
            logs.logger.info("another analysis of this company holds the lease; the message will come back")
            return False
        ctx = TenantContext(started.tenant_id, "system", "analyst", "analysis")
        logs.logger.info("analysis started", extra={"attempt": started.attempts, "trigger": started.trigger})
        try:
            self.runner.run(ctx, started)
        except StepFailed as failure:
            self._finish(started, "failed", failure.error)
            return False
        except Exception:
            logs.logger.exception("analysis failed outside its steps")
            self._finish(started, "failed", dict(UNEXPECTED))
            return False
        self._finish(started, "succeeded")
        logs.logger.info("analysis succeeded", extra={"artifacts": len(started.artifacts)})
        if self.reports is not None:  # the alerts step of this run, on the same queue (retried, dead-lettered)
            self._send({"kind": "alerts", "tenant_id": started.tenant_id, "run_id": started.run_id})
        return True

    def _run_for(self, message: dict[str, Any]) -> Any:
        """The run a message names (API re-analysis, a follower, a retry), or a requested (coalesced) one."""
        tenant_id = message["tenant_id"]
        if message.get("run_id"):
            run = self.runs.get(tenant_id, message["run_id"])
            if run is None or run.status == "succeeded":
                logs.logger.info("nothing to do for this run", extra={"run_id": message["run_id"],
                                                                     "found": run is not None})
                return None
            return run
        trigger = message.get("trigger") if message.get("trigger") in TRIGGERS else "ingest"
        run, _ = self.runs.request(tenant_id, trigger, message.get("reason", ""), message.get("batch_id"))
        return run

    def _start(self, run: Any) -> Any:
        """Take the lease for ``run``. A retried run that failed starts again; a store that will not restart a
        failed run gets a fresh one requested in its place, so the retry is not wasted on the way to the DLQ."""
        started = self.runs.start(run.tenant_id, run.run_id, lease_seconds=self.config.lease_seconds)
        if started is not None or run.status != "failed":
            return started
        retry, _ = self.runs.request(run.tenant_id, run.trigger, f"retry of {run.run_id}: {run.reason}".strip(": "))
        logs.logger.info("failed run retried as a new run", extra={"failed_run": run.run_id, "run_id": retry.run_id})
        return self.runs.start(run.tenant_id, retry.run_id, lease_seconds=self.config.lease_seconds)

    def _finish(self, run: Any, status: str, error: dict[str, str] | None = None) -> None:
        follower = self.runs.finish(run, status, error)
        logs.logger.info("analysis finished", extra={"status": status, "follower": getattr(follower, "run_id", "")})
        if follower is not None:
            self.enqueue(follower)

    def nightly(self) -> int:
        """Request a scheduled run for every tenant; send a message for each new run (a coalesced one has its own)."""
        if self.tenants is None:
            raise ValueError("the nightly refresh needs the tenant directory")
        sent = 0
        for tenant_id in self.tenants.tenant_ids():
            run, created = self.runs.request(tenant_id, "schedule", "nightly refresh")
            if created:
                self.enqueue(run)
                sent += 1
        logs.logger.info("nightly refresh requested", extra={"runs": sent})
        return sent

    def enqueue(self, run: Any) -> None:
        self._send({"kind": "analyze_tenant", "tenant_id": run.tenant_id, "run_id": run.run_id,
                    "trigger": run.trigger, "reason": run.reason})

    def _send(self, message: dict[str, Any]) -> None:
        """A job message on the worker's own queue (the alerts of a finished run go the same way: retried, DLQ'd)."""
        message["correlation_id"] = logs.correlation_id() or logs.new_correlation_id()
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))
