"""The runner: walks a plan step by step — applies or skips with a reason, runs and times the step, saves its
artifacts under the run's own id and the run's progress after every step — and points the tenant's "latest"
at the run only once every step has finished, so a failure never half-replaces the results users see."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from chalicelib import errors, logs
from chalicelib.auth.permissions import TenantContext
from chalicelib.query.aggregates import sql
from jobs.config import AnalysisConfig
from jobs.facts import Facts
from jobs.plan import PLAN, QUERIES, Query, Step
from jobs.serialize import jsonable, parquet_ready
from jobs.steps.base import Skip


class StepFailed(Exception):  # noqa: N818 - read as "the step failed"
    """A step raised something unexpected; ``error`` is what the user sees on the run."""

    def __init__(self, step: str, error: dict[str, str]) -> None:
        super().__init__(error["message"])
        self.step, self.error = step, error


class State:
    """What steps share during one run: the facts, aggregate frames (each SQL runs once), and earlier outputs."""

    def __init__(self, ctx: TenantContext, run: Any, engine: Any, artifacts: Any, runs: Any,
                 config: AnalysisConfig, plan: Sequence[Step], queries: dict[str, Query] | None = None) -> None:
        self.ctx, self.run, self.engine, self.artifacts, self.runs = ctx, run, engine, artifacts, runs
        self.config, self.plan = config, plan
        self.queries = QUERIES if queries is None else queries
        self.facts = Facts()
        self.frames: dict[str, pd.DataFrame] = {}
        self.results: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {}
        self.query_seconds: dict[str, float] = {}

    def frame(self, name: str) -> pd.DataFrame:
        """The aggregate ``name`` (see ``QUERIES``), from the engine the first time, shared after that."""
        if name not in self.frames:
            self.frames[name] = self._query(name)
        return self.frames[name]

    def has(self, name: str) -> bool:
        """Whether the aggregate applies to these data (a query with an unmet ``when`` is an empty frame)."""
        spec = self.queries[name]
        return spec.when is None or spec.when.met(self.facts, self.config)

    def _query(self, name: str) -> pd.DataFrame:
        if not self.has(name):
            return pd.DataFrame()
        spec = self.queries[name]
        started = time.perf_counter()
        frame = self.engine.query(self.ctx, sql(spec.sql), spec.params(self.facts, self.config))
        self.query_seconds[name] = round(time.perf_counter() - started, 3)
        return frame

    def prefetch(self, names: Iterable[str]) -> None:
        """Run the named aggregates side by side: the engine does the work, so threads just wait on it."""
        todo = [n for n in dict.fromkeys(names) if n not in self.frames]
        with ThreadPoolExecutor(max_workers=max(1, self.config.query_threads)) as pool:
            for name, frame in zip(todo, pool.map(self._query, todo)):
                self.frames[name] = frame

    def previous(self, artifact: str) -> tuple[pd.DataFrame, dict[str, Any], str] | None:
        """``artifact`` of the tenant's last published run (not this one), or None when there is none."""
        latest = self.runs.latest(self.ctx.tenant_id)
        if not latest or latest == self.run.run_id:
            return None
        try:
            frame, meta = self.artifacts.read(self.ctx, latest, artifact)
        except errors.NotFound:
            return None
        return frame, meta or {}, latest


def failure_message(step: Step) -> str:
    return f"The {step.title} step failed; we have been notified. Your previous results stay available."


class Runner:
    """Runs a plan for one tenant's run. ``clock`` is injectable so tests can check timings deterministically."""

    def __init__(self, artifacts: Any, runs: Any, engine: Any, config: AnalysisConfig | None = None,
                 plan: Sequence[Step] = PLAN, queries: dict[str, Query] | None = None,
                 clock: Callable[[], float] = time.perf_counter,
                 publishers: Sequence[Callable[[State], None]] = ()) -> None:
        self.artifacts, self.runs, self.engine = artifacts, runs, engine
        self.config = config or AnalysisConfig()
        self.plan, self.queries, self.clock = tuple(plan), queries, clock
        self.publishers = tuple(publishers)  # extra outputs of a finished run (e.g. customer labels for Explore)

    def run(self, ctx: TenantContext, run: Any) -> State:
        """Every step in order; raises :class:`StepFailed` (nothing published) when one breaks."""
        state = State(ctx, run, self.engine, self.artifacts, self.runs, self.config, self.plan, self.queries)
        run.steps = [{"name": s.name, "status": "pending", "seconds": 0.0, "reason": "", "artifacts": [],
                      "writes": list(s.writes)} for s in self.plan]
        run.artifacts, run.progress = [], 0
        total = sum(s.weight for s in self.plan) or 1
        done = 0
        for index, step in enumerate(self.plan):
            record = run.steps[index]
            reason = step.skip_reason(state.facts, self.config) if step.needs else None
            if reason:
                record.update(status="skipped", reason=reason)
            else:
                run.step, record["status"] = step.name, "running"
                self.runs.update(run)
                self._run_step(state, step, record)
            done += step.weight
            run.progress = 100 if index == len(self.plan) - 1 else min(99, int(100 * done / total))
            logs.logger.info("analysis step", extra={"step": step.name, "status": record["status"],
                                                     "seconds": record["seconds"], "reason": record["reason"]})
            self.runs.update(run)
        for publish in self.publishers:
            try:
                publish(state)
            except Exception:  # secondary outputs never cost the user the run's results
                logs.logger.exception("publishing a run output failed", extra={"publisher": repr(publish)})
        self.runs.publish_latest(ctx.tenant_id, run.run_id)
        return state

    def _run_step(self, state: State, step: Step, record: dict[str, Any]) -> None:
        started = self.clock()
        try:
            output = step.run(state)
            written = self._save(state, step, output.artifacts)
        except Skip as skip:
            record.update(status="skipped", reason=skip.reason, seconds=round(self.clock() - started, 3))
            return
        except Exception as exc:
            record.update(status="failed", reason="An unexpected error; we have been notified.",
                          seconds=round(self.clock() - started, 3))
            error = {"code": "step_failed", "message": failure_message(step)}
            state.run.error = error
            logs.logger.exception("analysis step failed", extra={"step": step.name})
            self.runs.update(state.run)
            raise StepFailed(step.name, error) from exc
        notes = [*step.notes(state.facts, self.config), output.note]
        record.update(status="done", seconds=round(self.clock() - started, 3), artifacts=written,
                      reason=" ".join(n for n in notes if n))

    def _save(self, state: State, step: Step, produced: dict[str, tuple[pd.DataFrame, dict]]) -> list[str]:
        """Write each artifact under the run's id; one that several steps feed is rewritten with all rows so far."""
        unexpected = set(produced) - set(step.writes)
        if unexpected:
            raise ValueError(f"step {step.name} produced undeclared artifacts {sorted(unexpected)}")
        written = []
        for name, (frame, meta) in produced.items():
            if name in state.results:
                before, before_meta = state.results[name]
                frame, meta = pd.concat([before, frame], ignore_index=True), {**before_meta, **(meta or {})}
            frame, meta = parquet_ready(frame), jsonable(meta or {})
            summary = self.artifacts.write(state.ctx, state.run.run_id, name, frame, meta)
            state.results[name] = (frame, meta)
            state.run.artifacts = [a for a in state.run.artifacts if a.get("artifact") != name] + [summary]
            written.append(name)
        return written
