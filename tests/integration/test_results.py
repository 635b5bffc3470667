"""Runs and results against moto: encrypted artifacts readable only by their tenant, the run state machine
(coalescing, one running + one queued, leases), and the /runs and /results routes."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

import boto3
import pandas as pd
import pytest

from chalicelib import errors, services
from chalicelib.auth.permissions import TenantContext
from chalicelib.lake import layout
from chalicelib.results.artifacts import ArtifactStore
from chalicelib.results.runs import RunStore
from tests.integration.conftest import Api

KPIS = pd.DataFrame({"metric": ["revenue", "orders", "aov"], "value": [1250.5, 10.0, float("nan")],
                     "as_of": pd.to_datetime(["2024-01-31", "2024-01-31", None])})
LEADS = pd.DataFrame({"customer_id": ["c1", "c2"], "product": ["Tent", "=HYPERLINK(\"x\")"],
                      "score": [0.91, 0.42], "reasons": [["bought stove", "camps"], ["new"]]})


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tenant_of(api: Api, token: str) -> TenantContext:
    me = api.call("GET", "/me", token=token).data
    return TenantContext(me["tenant"]["tenant_id"], me["user_id"], me["role"], me["email"])


def publish(ctx: TenantContext, artifacts: dict[str, tuple[pd.DataFrame, dict]],
            skipped: dict[str, str] | None = None) -> str:
    """What the worker does: request, start, write each artifact, finish, publish last."""
    runs, store = services.results().runs, services.results().artifacts
    run, created = runs.request(ctx.tenant_id, "ingest", "test batch", batch_id="b1")
    assert created
    run = runs.start(ctx.tenant_id, run.run_id)
    assert run is not None and run.status == "running" and run.attempts == 1
    run.steps = [{"name": name, "status": "skipped", "seconds": 0.0, "reason": reason, "artifacts": []}
                 for name, reason in (skipped or {}).items()]
    for name, (frame, meta) in artifacts.items():
        run.artifacts.append(store.write(ctx, run.run_id, name, frame, meta))
        run.steps.append({"name": name, "status": "done", "seconds": 0.1, "reason": "", "artifacts": [name]})
        runs.update(run)
    assert runs.finish(run, "succeeded") is None
    runs.publish_latest(ctx.tenant_id, run.run_id)
    return run.run_id


@pytest.fixture
def two_tenants(api: Api) -> tuple[str, TenantContext, str, TenantContext]:
    owner_a = api.register("ada@acme.example")
    owner_b = api.register("bob@globex.example", company="Globex")
    return owner_a, tenant_of(api, owner_a), owner_b, tenant_of(api, owner_b)


def test_no_results_before_the_first_run(api: Api) -> None:
    token = api.register("ada@acme.example")
    overview = api.call("GET", "/results", token=token)
    assert overview.status_code == 200
    assert overview.data["run"] is None and "first upload" in overview.data["message"]
    assert api.call("GET", "/results/kpis", token=token).status_code == 404
    assert api.call("GET", "/runs", token=token).data == {"runs": []}


def test_artifacts_round_trip_encrypted_and_only_for_their_tenant(api: Api, aws_env: dict[str, str],
                                                                  two_tenants: Any) -> None:
    owner_a, ctx_a, owner_b, ctx_b = two_tenants
    run_id = publish(ctx_a, {"kpis": (KPIS, {"sentences": ["Revenue rose 12%."]}), "leads": (LEADS, {})},
                     skipped={"churn": "Churn needs at least 30 customers with an id; you have 4."})

    overview = api.call("GET", "/results", token=owner_a).data
    assert overview["run"]["run_id"] == run_id and overview["run"]["status"] == "succeeded"
    assert {a["artifact"]: a["rows"] for a in overview["artifacts"]} == {"kpis": 3, "leads": 2}
    assert overview["skipped"][0]["step"] == "churn"

    kpis = api.call("GET", "/results/kpis", token=owner_a)
    assert kpis.status_code == 200, kpis.data
    assert kpis.data["run_id"] == run_id and kpis.data["total"] == 3
    assert kpis.data["meta"] == {"sentences": ["Revenue rose 12%."]}
    assert kpis.data["columns"] == ["metric", "value", "as_of"]
    assert kpis.data["rows"][0] == {"metric": "revenue", "value": 1250.5, "as_of": "2024-01-31T00:00:00"}
    assert kpis.data["rows"][2]["value"] is None and kpis.data["rows"][2]["as_of"] is None
    paged = api.call("GET", "/results/kpis?limit=1&offset=1", token=owner_a).data
    assert [r["metric"] for r in paged["rows"]] == ["orders"] and paged["total"] == 3
    assert api.call("GET", "/results/kpis?limit=6000", token=owner_a).status_code == 400

    s3 = boto3.client("s3")
    key = layout.results_key(ctx_a, run_id, "kpis")
    body = s3.get_object(Bucket=aws_env["SL_DATA_BUCKET"], Key=key)["Body"].read()
    assert not body.startswith(b"PAR1") and b"revenue" not in body
    assert s3.head_object(Bucket=aws_env["SL_DATA_BUCKET"], Key=key)["ServerSideEncryption"] == "aws:kms"

    store = services.results().artifacts
    with pytest.raises(errors.NotFound):
        store.read(ctx_b, run_id, "kpis")
    # Even A's object placed under B's key (a mix-up, a copy) never decrypts for B: the context names A.
    s3.put_object(Bucket=aws_env["SL_DATA_BUCKET"], Key=layout.results_key(ctx_b, run_id, "kpis"), Body=body)
    with pytest.raises(errors.NotFound):
        store.read(ctx_b, run_id, "kpis")
    with pytest.raises(errors.NotFound):
        store.read(ctx_a, run_id, "timeseries")
    with pytest.raises(ValueError):
        store.write(ctx_a, run_id, "horoscope", KPIS)

    assert api.call("GET", "/results/kpis", token=owner_b).status_code == 404
    assert api.call("GET", f"/results/kpis?run={run_id}", token=owner_b).status_code == 404
    assert api.call("GET", "/results", token=owner_b).data["run"] is None
    assert api.call("GET", "/runs", token=owner_b).data == {"runs": []}
    assert api.call("GET", f"/runs/{run_id}", token=owner_b).status_code == 404
    assert api.call("GET", f"/runs/{run_id}", token=owner_a).data["batches"] == ["b1"]


def test_unknown_and_skipped_artifacts_say_why(api: Api, two_tenants: Any) -> None:
    owner_a, ctx_a, _, _ = two_tenants
    run_id = publish(ctx_a, {"kpis": (KPIS, {})}, skipped={"churn": "Churn needs at least 30 customers."})
    unknown = api.call("GET", "/results/horoscope", token=owner_a)
    assert unknown.status_code == 404 and "kpis" in unknown.data["error"]["message"]
    skipped = api.call("GET", "/results/churn", token=owner_a)
    assert skipped.status_code == 404 and "30 customers" in skipped.data["error"]["message"]
    assert api.call("GET", f"/results/kpis?run={run_id}", token=owner_a).status_code == 200
    assert api.call("GET", "/results/kpis?run=../../etc", token=owner_a).status_code == 404


def test_csv_export(api: Api, two_tenants: Any) -> None:
    owner_a, ctx_a, owner_b, _ = two_tenants
    run_id = publish(ctx_a, {"leads": (LEADS, {})})
    response = api.http.request("GET", "/results/leads/csv", headers={"Authorization": f"Bearer {owner_a}"},
                                body=b"")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert f"saleslens-leads-{run_id}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert rows[0] == {"customer_id": "c1", "product": "Tent", "score": "0.91", "reasons": "bought stove; camps"}
    assert rows[1]["product"].startswith("'=")  # a spreadsheet must not run it as a formula
    denied = api.http.request("GET", "/results/leads/csv", headers={"Authorization": f"Bearer {owner_b}"}, body=b"")
    assert denied.status_code == 404


def test_post_runs_needs_analysis_run_and_queues_one_job(api: Api, aws_env: dict[str, str]) -> None:
    owner = api.register("ada@acme.example")
    _, viewer = api.join(owner, "vic@acme.example", "viewer")
    _, analyst = api.join(owner, "ann@acme.example", "analyst")
    assert api.call("POST", "/runs", token=viewer).status_code == 403
    assert api.call("GET", "/runs", token=viewer).status_code == 200

    first = api.call("POST", "/runs", {"reason": "after price change"}, token=analyst)
    assert first.status_code == 202, first.data
    assert first.data["coalesced"] is False and first.data["run"]["status"] == "queued"
    again = api.call("POST", "/runs", token=owner)
    assert again.status_code == 202 and again.data["coalesced"] is True
    assert again.data["run"]["run_id"] == first.data["run"]["run_id"]
    assert api.call("POST", "/runs", {"tenant_id": "other"}, token=owner).status_code == 400

    sqs = boto3.client("sqs")
    received = sqs.receive_message(QueueUrl=aws_env["SL_JOBS_QUEUE_URL"], MaxNumberOfMessages=10)
    messages = [json.loads(m["Body"]) for m in received.get("Messages", [])]
    tenant_id = tenant_of(api, owner).tenant_id
    assert len(messages) == 1
    assert messages[0]["kind"] == "analyze_tenant" and messages[0]["trigger"] == "manual"
    assert messages[0]["tenant_id"] == tenant_id and messages[0]["run_id"] == first.data["run"]["run_id"]
    assert messages[0]["correlation_id"]
    listed = api.call("GET", "/runs", token=viewer).data["runs"]
    assert [r["run_id"] for r in listed] == [first.data["run"]["run_id"]] and "tenant_id" not in listed[0]
    assert api.call("GET", "/results", token=viewer).data["active"][0]["status"] == "queued"
    audit = api.call("GET", "/audit", token=owner).data["events"]
    requested = [e for e in audit if e["event"] == "analysis_requested"]
    assert [(e["actor"], e["details"]["coalesced"]) for e in requested] == [("ada@acme.example", True),
                                                                            ("ann@acme.example", False)]
    assert requested[1]["details"]["reason"] == "after price change"


def test_a_failed_send_does_not_wedge_the_queue(api: Api) -> None:
    owner = api.register("ada@acme.example")
    results = services.results()

    class BrokenSqs:
        def send_message(self, **_: Any) -> None:
            raise RuntimeError("queue down")

    results._sqs, working = BrokenSqs(), results._sqs
    with pytest.raises(RuntimeError):
        results.request_run(tenant_of(api, owner))
    results._sqs = working
    response = api.call("POST", "/runs", token=owner)
    assert response.status_code == 202 and response.data["coalesced"] is False
    statuses = [r["status"] for r in api.call("GET", "/runs", token=owner).data["runs"]]
    assert statuses == ["queued", "failed"]


def test_run_state_machine(aws_env: dict[str, str]) -> None:
    clock = Clock()
    runs = RunStore(boto3.client("dynamodb"), aws_env["SL_TABLE_NAME"], clock=clock)
    first, created = runs.request("t1", "ingest", "batch b1", batch_id="b1")
    assert created and first.status == "queued"
    joined, created = runs.request("t1", "ingest", "batch b2", batch_id="b2")
    assert not created and joined.run_id == first.run_id
    same, _ = runs.request("t1", "ingest", "batch b2 again", batch_id="b2")
    assert runs.get("t1", first.run_id).batches == ["b1", "b2"] == same.batches
    assert [r.run_id for r in runs.list("t1")] == [first.run_id]

    running = runs.start("t1", first.run_id)
    assert running and running.status == "running" and running.attempts == 1
    assert runs.start("t1", first.run_id) is None  # a duplicate delivery does not run it twice
    second, created = runs.request("t1", "schedule", "nightly")
    assert created and second.run_id != first.run_id
    third, created = runs.request("t1", "ingest", batch_id="b3")
    assert not created and third.run_id == second.run_id and third.batches == ["b3"]
    assert runs.start("t1", second.run_id) is None  # one running at a time
    assert [r.status for r in runs.active("t1")] == ["running", "queued"]

    running.step, running.progress = "kpis", 40
    running.steps = [{"name": "kpis", "status": "done", "seconds": 0.25, "reason": "", "artifacts": ["kpis"]}]
    runs.update(running)
    stored = runs.get("t1", first.run_id)
    assert stored.progress == 40 and stored.steps[0]["seconds"] == 0.25

    follower = runs.finish(running, "succeeded")
    assert follower is not None and follower.run_id == second.run_id
    assert runs.get("t1", first.run_id).status == "succeeded"
    assert runs.start("t1", second.run_id, lease_seconds=60).attempts == 1
    assert runs.request("t1", "manual")[1] is True  # a queued run behind the running one again
    assert [r.run_id for r in runs.list("t1", limit=2)][1] == second.run_id

    clock.now += 61  # the worker crashed: its lease expires and the run can be taken again
    restarted = runs.start("t1", second.run_id, lease_seconds=60)
    assert restarted and restarted.attempts == 2 and restarted.status == "running"
    failed = runs.finish(restarted, "failed", {"code": "step_failed", "message": "The forecast step failed."})
    assert failed is not None and failed.status == "queued"
    assert runs.get("t1", second.run_id).error["code"] == "step_failed"
    assert runs.request("t2", "manual")[1] is True  # tenants never share a queue

    never_started, _ = runs.request("t3", "manual")
    assert runs.finish(never_started, "failed", {"code": "bad_message", "message": "Unreadable job."}) is None
    assert runs.request("t3", "manual")[1] is True  # a run that failed while queued frees the queue


def test_a_newer_run_takes_over_an_expired_lease_and_latest_only_moves_forward(aws_env: dict[str, str]) -> None:
    clock = Clock()
    runs = RunStore(boto3.client("dynamodb"), aws_env["SL_TABLE_NAME"], clock=clock)
    old, _ = runs.request("t1", "ingest", batch_id="b1")
    old = runs.start("t1", old.run_id, lease_seconds=30)
    clock.now += 1
    new, created = runs.request("t1", "ingest", batch_id="b2")
    assert created
    assert runs.start("t1", new.run_id) is None
    clock.now += 60
    taken = runs.start("t1", new.run_id)
    assert taken is not None and taken.status == "running"
    stale = runs.get("t1", old.run_id)
    assert stale.status == "failed" and stale.error["code"] == "worker_stopped"
    assert runs.latest("t1") is None
    runs.publish_latest("t1", new.run_id)
    runs.publish_latest("t1", old.run_id)  # the slow, replaced worker finishing late
    assert runs.latest("t1") == new.run_id
    assert runs.finish(old, "succeeded") is None
    assert runs.get("t1", new.run_id).status == "running"  # its lease is untouched
    assert runs.start("t1", old.run_id) is None  # a finished run never starts again


def test_artifact_store_resolves_an_alias(aws_env: dict[str, str]) -> None:
    store = ArtifactStore(boto3.client("s3"), aws_env["SL_DATA_BUCKET"], "alias/saleslens-local")
    ctx = TenantContext("t1", "u1", "owner")
    aliases = {a["AliasName"] for a in boto3.client("kms").list_aliases()["Aliases"]}
    if "alias/saleslens-local" not in aliases:
        pytest.skip("the local template names its key alias differently")
    store.write(ctx, "r1", "insights", pd.DataFrame({"text": ["Sales are up."]}), {"headline": "up"})
    frame, meta = store.read(ctx, "r1", "insights")
    assert frame["text"].tolist() == ["Sales are up."] and meta == {"headline": "up"}
