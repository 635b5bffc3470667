"""What the results routes do: request a run, show the latest results, page through or export one artifact."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

from chalicelib import errors, logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.results import tables
from chalicelib.results.artifacts import ARTIFACTS, ArtifactStore
from chalicelib.results.runs import Run, RunStore

NO_RESULTS = ("No analysis results yet: the analysis runs automatically after your first upload, "
              "and takes a few minutes. You can also start one with POST /runs.")


class Results:
    """Runs and their artifacts for one tenant at a time; the tenant always comes from the caller's context."""

    def __init__(self, runs: RunStore, artifacts: ArtifactStore, sqs: Any, jobs_queue_url: str) -> None:
        self.runs, self.artifacts = runs, artifacts
        self._sqs, self._jobs_queue_url = sqs, jobs_queue_url

    def request_run(self, ctx: TenantContext, reason: str = "") -> dict[str, Any]:
        """Queue a manual run, or join the one already queued; only a new run sends a job message."""
        reason = reason or f"Requested by {ctx.email or 'a member'}"
        run, created = self.runs.request(ctx.tenant_id, "manual", reason)
        if created:
            message = {"kind": "analyze_tenant", "tenant_id": ctx.tenant_id, "run_id": run.run_id,
                       "trigger": "manual", "correlation_id": logs.correlation_id()}
            try:
                self._sqs.send_message(QueueUrl=self._jobs_queue_url, MessageBody=json.dumps(message))
            except Exception:
                # A queued run nobody will process would swallow every later trigger: fail it instead.
                self.runs.abandon(ctx.tenant_id, run.run_id)
                raise
        logs.logger.info("analysis requested", extra={"run_id": run.run_id, "coalesced": not created})
        return {"run": run.public(), "coalesced": not created}

    def overview(self, ctx: TenantContext) -> dict[str, Any]:
        """The latest published run and what it produced, plus any run in progress (for a progress bar)."""
        active = [run.public() for run in self.runs.active(ctx.tenant_id)]
        latest = self.runs.latest(ctx.tenant_id)
        run = self.runs.get(ctx.tenant_id, latest) if latest else None
        if run is None:
            return {"run": None, "artifacts": [], "skipped": [], "active": active, "message": NO_RESULTS}
        skipped = [{"step": s.get("name", ""), "reason": s.get("reason", "")} for s in run.steps
                   if s.get("status") == "skipped"]
        return {"run": run.public(), "artifacts": run.artifacts, "skipped": skipped, "active": active}

    def artifact(self, ctx: TenantContext, artifact: str, run_id: str | None = None
                 ) -> tuple[Run, pd.DataFrame, dict[str, Any]]:
        """One artifact of the latest published run (or of ``run_id``), decrypted for its owner."""
        if artifact not in ARTIFACTS:
            raise errors.NotFound(f"There are no results called '{artifact}'. Use one of: {', '.join(ARTIFACTS)}.",
                                  [{"field": "artifact", "problem": "unknown", "valid": list(ARTIFACTS)}])
        run = self._run(ctx, run_id)
        try:
            frame, meta = self.artifacts.read(ctx, run.run_id, artifact)
        except errors.NotFound:
            message, details = why_missing(run, artifact)
            raise errors.NotFound(message, details) from None
        return run, frame, meta

    def page(self, ctx: TenantContext, artifact: str, run_id: str | None, offset: int, limit: int) -> dict[str, Any]:
        run, frame, meta = self.artifact(ctx, artifact, run_id)
        return {"artifact": artifact, "run_id": run.run_id, "meta": meta, **tables.page(frame, offset, limit)}

    def csv(self, ctx: TenantContext, artifact: str, run_id: str | None) -> tuple[str, str]:
        """The artifact as CSV text and a file name for the download."""
        run, frame, _ = self.artifact(ctx, artifact, run_id)
        return tables.to_csv(frame), f"saleslens-{artifact}-{run.run_id}.csv"

    def _run(self, ctx: TenantContext, run_id: str | None) -> Run:
        if run_id:
            run = self.runs.get(ctx.tenant_id, run_id)
            if run is None:
                raise errors.NotFound(f"No analysis run '{run_id}' in your company. GET /runs lists them.")
            return run
        latest = self.runs.latest(ctx.tenant_id)
        run = self.runs.get(ctx.tenant_id, latest) if latest else None
        if run is None:
            raise errors.NotFound(NO_RESULTS)
        return run


def why_missing(run: Run, artifact: str) -> tuple[str, list[dict[str, Any]]]:
    """Why a run has no ``artifact``: the step that would have written it was skipped, failed or has not run yet."""
    for step in run.steps:
        writes = {step.get("name"), *step.get("artifacts", []), *step.get("writes", [])}
        if artifact not in writes:
            continue
        status, reason, name = step.get("status", ""), step.get("reason", ""), step.get("name", "")
        detail = [{"step": name, "status": status, "reason": reason}]
        if status == "skipped":
            return f"This analysis did not produce '{artifact}': {reason or 'the step was skipped.'}", detail
        if status == "failed":
            return f"The {name} step failed in this run, so there is no '{artifact}'. {reason}".strip(), detail
        if status in ("pending", "running"):
            return f"'{artifact}' is not ready yet: the analysis is still running.", detail
    return f"Run {run.run_id} did not produce '{artifact}'.", []
