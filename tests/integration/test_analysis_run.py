"""The analysis worker end to end on moto's server: sales loaded through ingestion, the jobs-queue message
delivered to ``jobs.handler.handle`` as the event pump does, DuckDB over the lake, artifacts encrypted in S3."""
from __future__ import annotations

import json
from functools import partial
from typing import Any

import boto3
import pandas as pd
import pytest

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.samples import retail, truth
from infra.local import pump
from jobs.handler import build_worker, handle
from jobs.worker import Worker
from tests.integration.conftest import Api
from tests.integration.test_uploads import _pending, lake_api  # noqa: F401 - the fixture is used by name

SAMPLE = {"seed": 7, "customers": 300, "days": 500}


def make_worker() -> Worker:
    """The worker exactly as the Lambda builds it."""
    worker = build_worker()
    assert isinstance(worker, Worker)
    return worker


def drain_jobs(env: dict[str, str], worker: Worker) -> int:
    """Deliver every pending analysis message to the worker's handler, as the local event pump does."""
    sqs = boto3.client("sqs")
    route = pump.Route("analysis-jobs", env["SL_JOBS_QUEUE_URL"], partial(handle, worker=worker))
    event_pump = pump.EventPump(sqs, [route], wait_seconds=0)
    total = 0
    while (handled := event_pump.pump_once(route)) or _pending(sqs, route.queue_url):
        total += handled
    return total


def as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as a webhook or form would send them: text, with is_return left for ingestion to derive."""
    out = frame.drop(columns=["is_return"]).astype(object)
    out["ts"] = frame["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out.astype(str)


def load(ctx: TenantContext, frame: pd.DataFrame) -> None:
    summary = services.ingestion().ingest_records(ctx, as_strings(frame), source="upload")["summary"]
    assert summary["rows_accepted"] == len(frame), summary


def latest_run(worker: Worker, tenant_id: str) -> Any:
    run_id = worker.runs.latest(tenant_id)
    assert run_id, "nothing was published"
    return worker.runs.get(tenant_id, run_id)


def test_uploaded_sales_are_analysed_and_published(lake_api: Api, lake_env: dict[str, str]) -> None:  # noqa: F811
    token = lake_api.register("ada@acme.example")
    tenant_id = lake_api.call("GET", "/me", token=token).data["tenant"]["tenant_id"]
    ctx = TenantContext(tenant_id, "u1", "owner")
    load(ctx, pd.concat(list(retail(**SAMPLE)), ignore_index=True))
    worker = make_worker()
    assert drain_jobs(lake_env, worker) == 2  # the analysis, then its alerts step

    run = latest_run(worker, tenant_id)
    assert run.status == "succeeded" and run.progress == 100 and run.attempts == 1
    status = {s["name"]: s["status"] for s in run.steps}
    assert status.pop("forecast_accuracy") == "skipped"  # the first run has no earlier forecast to check
    assert set(status.values()) == {"done"}, run.steps
    written = {a["artifact"] for a in run.artifacts}
    for artifact in written:
        frame, meta = worker.runner.artifacts.read(ctx, run.run_id, artifact)
        assert isinstance(meta, dict) and len(frame) == next(a["rows"] for a in run.artifacts
                                                             if a["artifact"] == artifact)
    assert written == {a for s in run.steps for a in s["artifacts"]}

    rules, _ = worker.runner.artifacts.read(ctx, run.run_id, "basket_rules")
    planted = {frozenset(pair) for pair in truth(**SAMPLE).product_pairs}
    top = {frozenset([*ids, c]) for ids, c in zip(rules["antecedent_ids"].head(20), rules["consequent_id"].head(20))}
    assert planted & top, rules.head(10)
    _, segments = worker.runner.artifacts.read(ctx, run.run_id, "segments")
    assert len(segments["profile"]) >= 2
    comparison, _ = worker.runner.artifacts.read(ctx, run.run_id, "model_comparison")
    churn = comparison[comparison["task"] == "churn"]
    assert len(churn) == 4 and churn["roc_auc"].between(0.5, 1).all() and churn["chosen"].sum() == 1
    insights, _ = worker.runner.artifacts.read(ctx, run.run_id, "insights")
    assert 5 <= len(insights) <= 10

    pytest.importorskip("chalicelib.routes.results")
    for artifact in ("kpis", "insights", "basket_rules"):
        response = lake_api.call("GET", f"/results/{artifact}", token=token)
        assert response.status_code == 200, response.data


def test_a_tiny_company_without_customer_ids_still_gets_a_run(lake_env: dict[str, str]) -> None:
    ctx = TenantContext("tiny", "u1", "owner")
    load(ctx, pd.DataFrame({"ts": pd.to_datetime(["2025-03-01 09:00", "2025-03-01 11:30", "2025-03-02 15:00"]),
                            "product_name": ["Tea", "Cake", "Tea"], "amount": [3.0, 4.5, 3.0],
                            "is_return": [False, False, False]}))
    worker = make_worker()
    drain_jobs(lake_env, worker)
    run = latest_run(worker, "tiny")
    assert run.status == "succeeded" and run.progress == 100
    reasons = {s["name"]: s["reason"] for s in run.steps if s["status"] == "skipped"}
    assert reasons["segments"] == "No customer ids in your sales: no segments."
    assert reasons["churn"] == "No customer ids in your sales: no churn risk."
    assert "no seasonal model" in reasons["decomposition"] and "no forecast" in reasons["forecast"]
    kpis, _ = worker.runner.artifacts.read(ctx, run.run_id, "kpis")
    assert kpis.set_index("kpi").loc["revenue", "value"] == pytest.approx(10.5)


def test_nightly_requests_a_run_for_every_company(lake_env: dict[str, str]) -> None:
    dynamodb = boto3.client("dynamodb")
    table = lake_env["SL_TABLE_NAME"]
    for pk, sk in (("TENANT#a", "META"), ("TENANT#b", "META"), ("TENANT#a", "MEMBER#u1"), ("WEBHOOKKEY#k", "META")):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    worker = make_worker()
    handle({"kind": "nightly"}, None, worker=worker)
    queue = lake_env["SL_JOBS_QUEUE_URL"]
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    bodies = sorted((json.loads(m["Body"]) for m in messages), key=lambda b: b["tenant_id"])
    assert [(b["tenant_id"], b["trigger"]) for b in bodies] == [("a", "schedule"), ("b", "schedule")]
    assert all(worker.runs.get(b["tenant_id"], b["run_id"]).status == "queued" for b in bodies)
