"""The analysis plan, its runner and the worker, with in-memory stores and DuckDB over generated frames."""
from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest

from chalicelib.auth.permissions import TenantContext
from chalicelib.samples import dealer, retail, truth
from jobs import handler
from jobs.config import AnalysisConfig
from jobs.facts import Facts
from jobs.plan import PLAN, SALES, Step, customer_ids
from jobs.runner import Runner, StepFailed
from jobs.steps.base import Output, Skip
from jobs.worker import Worker
from tests.fakes import FakeArtifactStore, FakeRunStore, FrameEngine

CTX = TenantContext("t1", "system", "analyst")


class Profile:
    """An engine that answers only the profile query, with the given facts."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def query(self, ctx, sql, params=None) -> pd.DataFrame:
        f = self.facts
        return pd.DataFrame([{"sales_rows": f.sales_rows, "first_ts": f.first_ts, "last_ts": f.last_ts,
                              "customers": f.customers, "products": f.products, "categories": f.categories,
                              "orders": f.orders, "traffic_days": 0, "prospects": 0}])


def _facts_step(state) -> Output:
    state.facts = Facts.from_profile(state.frame("profile"))
    return Output()


def _table(n: int = 3) -> Output:
    return Output({"things": (pd.DataFrame({"x": range(n)}), {"n": n})})


def toy_plan(fail: bool = False) -> tuple[Step, ...]:
    def broken(state):
        raise KeyError("a bug")

    return (
        Step("aggregates", _facts_step, queries=("profile",), weight=2),
        Step("count", lambda s: _table(), ("things",), (SALES,), "no counts"),
        Step("people", lambda s: _table(), ("things",), (customer_ids(10),), "no segments"),
        Step("forecast", broken if fail else (lambda s: Output()), (), (SALES,), "no forecast", weight=3),
        Step("maybe", lambda s: (_ for _ in ()).throw(Skip("Nothing unusual to report.")), (), (SALES,), "no x"),
        Step("last", lambda s: Output(note="all good"), (), (SALES,), "no last"),
    )


def _start(runs: FakeRunStore, tenant: str = "t1"):
    run, _ = runs.request(tenant, "manual")
    return runs.start(tenant, run.run_id)


def test_runner_skips_with_reasons_and_reports_progress_to_100() -> None:
    events: list = []
    runs, artifacts = FakeRunStore(events), FakeArtifactStore(events)
    facts = Facts(sales_rows=3, first_ts=pd.Timestamp("2025-01-01"), last_ts=pd.Timestamp("2025-01-01"))
    run = _start(runs)
    Runner(artifacts, runs, Profile(facts), plan=toy_plan()).run(CTX, run)
    steps = {s["name"]: s for s in run.steps}
    assert steps["people"]["status"] == "skipped"
    assert steps["people"]["reason"] == "No customer ids in your sales: no segments."
    assert steps["maybe"] == {**steps["maybe"], "status": "skipped", "reason": "Nothing unusual to report."}
    assert steps["count"]["status"] == "done" and steps["count"]["artifacts"] == ["things"]
    assert steps["last"]["reason"] == "all good"
    assert all(s["seconds"] >= 0 for s in run.steps)
    progress = [u.progress for u in runs.updates]
    assert progress == sorted(progress) and progress[-1] == 100 and run.progress == 100
    assert [a["artifact"] for a in run.artifacts] == ["things"]


def test_a_failing_step_fails_the_run_and_publishes_nothing() -> None:
    events: list = []
    runs, artifacts = FakeRunStore(events), FakeArtifactStore(events)
    facts = Facts(sales_rows=3, first_ts=pd.Timestamp("2025-01-01"), last_ts=pd.Timestamp("2025-01-05"))
    run = _start(runs)
    with pytest.raises(StepFailed) as failed:
        Runner(artifacts, runs, Profile(facts), plan=toy_plan(fail=True)).run(CTX, run)
    message = "The forecast step failed; we have been notified. Your previous results stay available."
    assert failed.value.error == {"code": "step_failed", "message": message}
    assert run.error["message"] == message
    steps = {s["name"]: s["status"] for s in run.steps}
    assert steps == {"aggregates": "done", "count": "done", "people": "skipped", "forecast": "failed",
                     "maybe": "pending", "last": "pending"}
    assert not [e for e in events if e[0] == "publish"] and runs.latest("t1") is None
    assert all(e[1] == run.run_id for e in events if e[0] == "write")  # under the run's own id only
    assert runs.updates[-1].steps[3]["status"] == "failed"  # the user can see which step broke


def test_latest_is_published_after_every_artifact() -> None:
    events: list = []
    runs, artifacts = FakeRunStore(events), FakeArtifactStore(events)
    run = _start(runs)
    Runner(artifacts, runs, FrameEngine({"t1": {"transactions": _sales()}}),
           AnalysisConfig(query_threads=2)).run(CTX, run)
    kinds = [e[0] for e in events]
    assert kinds.count("publish") == 1
    assert kinds.index("publish") > max(i for i, k in enumerate(kinds) if k == "write")
    assert runs.latest("t1") == run.run_id


def test_the_plan_says_what_each_missing_thing_costs() -> None:
    config = AnalysisConfig()
    one_day = Facts(sales_rows=3, first_ts=pd.Timestamp("2025-03-01 09:00"), last_ts=pd.Timestamp("2025-03-01 17:00"),
                    products=1, orders=3)
    reasons = {step.name: step.skip_reason(one_day, config) for step in PLAN}
    assert reasons["kpis"] is None and reasons["timeseries"] is None and reasons["insights"] is None
    assert reasons["segments"] == "No customer ids in your sales: no segments."
    assert reasons["churn"] == "No customer ids in your sales: no churn risk."
    assert reasons["decomposition"].startswith("Only 1 day of sales, fewer than two seasonal (weekly) cycles")
    assert reasons["decomposition"].endswith(": no seasonal model.")
    assert reasons["forecast"].endswith("no forecast yet.") and reasons["basket_rules"].endswith("no basket rules.")
    kpis = next(step for step in PLAN if step.name == "kpis")
    assert kpis.notes(one_day, config) == ["No traffic data linked: no conversion rate."]
    assert all(step.skip_reason(Facts(), config) for step in PLAN if step.needs)  # no sales: everything skips


@cache
def _sales(days: int = 500) -> pd.DataFrame:
    return pd.concat(list(retail(seed=7, customers=300, days=days)), ignore_index=True)


def test_a_car_dealer_gets_model_level_results() -> None:
    cars = pd.concat(list(dealer(seed=3)), ignore_index=True)
    runs, artifacts = FakeRunStore(), FakeArtifactStore()
    run = _start(runs)
    state = Runner(artifacts, runs, FrameEngine({"t1": {"transactions": cars}})).run(CTX, run)
    status = {s["name"]: s["status"] for s in run.steps}
    assert "failed" not in status.values() and status["recommendations"] == "done", run.steps
    suggested, _ = artifacts.read(CTX, run.run_id, "recommendations")
    assert set(suggested["product_name"]) <= set(cars["product_name"].astype(str))  # models, never a VIN
    assert suggested["product_id"].str.fullmatch(r"[A-Z]{3}-[A-Z0-9]+").all()
    assert set(state.results) >= {"kpis", "forecast", "segments", "churn", "leads", "insights"}


def test_the_whole_plan_on_a_small_sample_finds_the_planted_structure() -> None:
    runs, artifacts = FakeRunStore(), FakeArtifactStore()
    run = _start(runs)
    state = Runner(artifacts, runs, FrameEngine({"t1": {"transactions": _sales()}})).run(CTX, run)
    status = {s["name"]: s["status"] for s in run.steps}
    assert status.pop("forecast_accuracy") == "skipped"  # no earlier run to check against
    assert set(status.values()) == {"done"}, run.steps
    rules, _ = artifacts.read(CTX, run.run_id, "basket_rules")
    planted = {frozenset(pair) for pair in truth(seed=7, customers=300, days=500).product_pairs}
    found = {frozenset([*ids, consequent]) for ids, consequent in zip(rules["antecedent_ids"], rules["consequent_id"])}
    assert planted & found
    comparison, _ = artifacts.read(CTX, run.run_id, "model_comparison")
    assert {"forecast", "churn", "recommendations"} <= set(comparison["task"])
    assert comparison.fillna({"series": ""}).groupby(["task", "series"])["chosen"].sum().eq(1).all()
    forecasts, meta = artifacts.read(CTX, run.run_id, "forecast")
    assert {"total", "category", "region"} <= set(forecasts["dimension"]) and (forecasts["forecast"] >= 0).all()
    series = forecasts[["dimension", "value"]].drop_duplicates()
    assert meta["series"][0]["value"] == "All" and len(meta["series"]) == len(series)
    assert set(comparison.loc[comparison["task"] == "forecast", "series"]) == {
        f"{d}: {v}" for d, v in series.itertuples(index=False)}
    insights, _ = artifacts.read(CTX, run.run_id, "insights")
    assert 5 <= len(insights) <= 10 and set(insights["artifact"]) <= set(state.results)
    # the sample sells in EUR, so every sentence with an amount says so
    _, kpi_meta = artifacts.read(CTX, run.run_id, "kpis")
    assert kpi_meta["currency"] == "EUR" and kpi_meta["summary"].startswith("Revenue was €")
    with_amounts = insights.loc[insights["kind"].isin(["revenue_change", "forecast"]), "text"]
    assert len(with_amounts) and with_amounts.str.contains("€").all()
    anomalies, _ = artifacts.read(CTX, run.run_id, "anomalies")
    assert anomalies["description"].str.contains(r"were €[\d,]+, €[\d,]+ (?:above|below) the expected €").all()
    churn, _ = artifacts.read(CTX, run.run_id, "churn")
    spent = churn["drivers"][churn["drivers"].str.contains("spent in total|average order of")]
    assert len(spent) and spent.str.contains(r"€\d").all()
    leads, _ = artifacts.read(CTX, run.run_id, "leads")
    money_reasons = leads["reason"][leads["reason"].str.contains("spends|average order")]
    assert len(money_reasons) and money_reasons.str.contains(r"(?:spends|average order) €\d").all()


def test_forecast_accuracy_checks_the_previous_published_forecast() -> None:
    runs, artifacts = FakeRunStore(), FakeArtifactStore()
    sales = _sales()
    earlier = sales[sales["ts"] < sales["ts"].max() - pd.Timedelta(days=56)]
    engine = FrameEngine({"t1": {"transactions": earlier}})
    first = _start(runs)
    Runner(artifacts, runs, engine).run(CTX, first)
    runs.finish(first, "succeeded")
    engine.tables = FrameEngine({"t1": {"transactions": sales}}).tables
    second = _start(runs)
    Runner(artifacts, runs, engine).run(CTX, second)
    step = next(s for s in second.steps if s["name"] == "forecast_accuracy")
    assert step["status"] == "done", step
    table, meta = artifacts.read(CTX, second.run_id, "forecast_accuracy")
    assert meta["compared"] == len(table) >= 6 and meta["message"].startswith("The last forecast was off by")


def test_degenerate_data_still_succeed_with_reasons() -> None:
    rows = pd.DataFrame({"ts": pd.to_datetime(["2025-03-01 09:00", "2025-03-01 11:00", "2025-03-01 15:00"]),
                         "product_name": ["Tea", "Tea", "Tea"], "amount": [3.0, 4.5, 3.0],
                         "quantity": [1.0, 1.0, 1.0], "is_return": [False, False, False]})
    runs, artifacts = FakeRunStore(), FakeArtifactStore()
    worker = Worker(runs, artifacts, FrameEngine({"t1": {"transactions": rows}}), sqs=None, queue_url="")
    assert worker.analyze({"kind": "analyze_tenant", "tenant_id": "t1"})
    run = runs.get("t1", runs.latest("t1"))
    assert run.status == "succeeded" and run.progress == 100
    reasons = {s["name"]: s["reason"] for s in run.steps if s["status"] == "skipped"}
    assert reasons["segments"] == "No customer ids in your sales: no segments."
    assert "no seasonal model" in reasons["decomposition"]
    done = {s["name"] for s in run.steps if s["status"] == "done"}
    assert {"aggregates", "kpis", "timeseries"} <= done
    kpis, meta = artifacts.read(CTX, run.run_id, "kpis")
    assert kpis.set_index("kpi").loc["revenue", "value"] == 10.5 and meta["summary"].startswith("Revenue was 10")


# ------------------------------------------------------------------------------------------------ worker ----
class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:  # noqa: N803 - boto3's names
        self.sent.append(json.loads(MessageBody))


class Exploding:
    """An engine whose every query fails, like a bug in a step."""

    def query(self, ctx, sql, params=None):
        raise RuntimeError("boom")


def test_a_failed_run_is_reported_for_retry_and_a_retry_starts_it_again() -> None:
    runs, artifacts, sqs = FakeRunStore(), FakeArtifactStore(), FakeSqs()
    worker = Worker(runs, artifacts, Exploding(), sqs, "q")
    run, _ = runs.request("t1", "manual")
    message = {"kind": "analyze_tenant", "tenant_id": "t1", "run_id": run.run_id, "correlation_id": "c1"}
    result = handler.handle({"Records": [{"messageId": "m1", "body": json.dumps(message)}]}, None, worker=worker)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    failed = runs.get("t1", run.run_id)
    assert failed.status == "failed" and failed.attempts == 1
    assert failed.error["message"].startswith("The data preparation step failed; we have been notified.")
    assert runs.latest("t1") is None
    worker.runner.engine = FrameEngine({"t1": {"transactions": _sales()}})
    assert handler.handle({"Records": [{"messageId": "m1", "body": json.dumps(message)}]}, None,
                          worker=worker) == {"batchItemFailures": []}
    again = runs.get("t1", run.run_id)
    assert again.status == "succeeded" and again.attempts == 2 and runs.latest("t1") == run.run_id


def test_a_held_lease_leaves_the_message_and_a_follower_is_sent_on() -> None:
    runs, sqs = FakeRunStore(), FakeSqs()
    worker = Worker(runs, FakeArtifactStore(), FrameEngine({"t1": {"transactions": _sales()}}), sqs, "q")
    first = _start(runs)  # another worker is running this one
    assert worker.analyze({"kind": "analyze_tenant", "tenant_id": "t1", "batch_id": "b2"}) is False
    follower = runs.finish(first, "succeeded")
    assert follower is not None and follower.batches == ["b2"]
    worker.enqueue(follower)
    assert sqs.sent[-1]["run_id"] == follower.run_id and sqs.sent[-1]["kind"] == "analyze_tenant"
    assert worker.analyze(sqs.sent[-1]) is True
    assert worker.analyze(sqs.sent[-1]) is True  # a duplicate delivery of a finished run is acknowledged


class Directory:
    def tenant_ids(self):
        yield from ("t1", "t2")


def test_nightly_requests_and_enqueues_a_run_per_tenant() -> None:
    runs, sqs = FakeRunStore(), FakeSqs()
    worker = Worker(runs, FakeArtifactStore(), Exploding(), sqs, "q", tenants=Directory())
    queued, _ = runs.request("t2", "ingest")  # already queued with its own message: coalesced, not re-sent
    assert handler.handle({"kind": "nightly"}, None, worker=worker) == {"batchItemFailures": []}
    assert [(m["tenant_id"], m["trigger"]) for m in sqs.sent] == [("t1", "schedule")]
    assert runs.get("t1", sqs.sent[0]["run_id"]).trigger == "schedule"
    assert runs.get("t2", queued.run_id).status == "queued"


def test_unreadable_messages_are_reported_and_the_rest_handled() -> None:
    runs = FakeRunStore()
    worker = Worker(runs, FakeArtifactStore(), FrameEngine({}), FakeSqs(), "q")
    event = {"Records": [{"messageId": "bad", "body": "{not json"},
                         {"messageId": "odd", "body": json.dumps({"kind": "dance"})},
                         {"messageId": "ok", "body": json.dumps({"kind": "analyze_tenant", "tenant_id": "t9"})}]}
    assert handler.handle(event, None, worker=worker) == {"batchItemFailures": [{"itemIdentifier": "bad"},
                                                                                {"itemIdentifier": "odd"}]}
    assert runs.get("t9", runs.latest("t9")).status == "succeeded"  # an empty company gets an empty run


class NoRestarts(FakeRunStore):
    """A store that, like one guarding finished runs, will not start a failed run again."""

    def start(self, tenant_id: str, run_id: str, lease_seconds: int = 1800):
        if self.runs[(tenant_id, run_id)].status == "failed":
            return None
        return super().start(tenant_id, run_id, lease_seconds)


def test_a_retry_the_store_will_not_restart_runs_as_a_fresh_run() -> None:
    runs = NoRestarts()
    worker = Worker(runs, FakeArtifactStore(), FrameEngine({"t1": {"transactions": _sales()}}), FakeSqs(), "q")
    failed = _start(runs)
    runs.finish(failed, "failed", {"code": "step_failed", "message": "The forecast step failed..."})
    assert worker.analyze({"kind": "analyze_tenant", "tenant_id": "t1", "run_id": failed.run_id}) is True
    retry = runs.get("t1", runs.latest("t1"))
    assert retry.run_id != failed.run_id and retry.status == "succeeded"
    assert retry.reason.startswith(f"retry of {failed.run_id}")


def test_defaults_live_in_one_place_and_the_environment_can_change_them() -> None:
    config = AnalysisConfig.from_environ({"SL_ANALYSIS_FORECAST_HORIZON": "8", "SL_ANALYSIS_LAUNCH_PRICE_BAND": "0.1",
                                          "SL_ANALYSIS_FORECAST_FREQ": "M"})
    assert (config.forecast_horizon, config.launch_price_band, config.forecast_freq) == (8, 0.1, "M")
    assert AnalysisConfig.from_environ({}) == AnalysisConfig()


def test_traffic_and_prospects_add_a_conversion_rate_and_prospect_leads() -> None:
    sales = _sales()
    days = pd.date_range(sales["ts"].min().normalize(), sales["ts"].max().normalize())
    traffic = pd.DataFrame({"date": days.date, "visits": 1000, "region": "all"})
    rng = np.random.default_rng(3)
    source = rng.choice(["fair", "web", "referral"], 120)
    prospects = pd.DataFrame({"prospect_id": [f"L{i:03d}" for i in range(120)], "region": rng.choice(["N", "S"], 120),
                              "lead_source": source, "created_date": rng.choice(days.date, 120),
                              "converted": (source == "referral") ^ (rng.random(120) < 0.1)})
    runs, artifacts = FakeRunStore(), FakeArtifactStore()
    run = _start(runs)
    engine = FrameEngine({"t1": {"transactions": sales, "traffic": traffic, "prospects": prospects}})
    Runner(artifacts, runs, engine).run(CTX, run)
    kpis, _ = artifacts.read(CTX, run.run_id, "kpis")
    assert "conversion_rate" in set(kpis["kpi"])
    assert next(s for s in run.steps if s["name"] == "kpis")["reason"] == ""
    leads, meta = artifacts.read(CTX, run.run_id, "leads")
    assert {"cross_sell", "launch", "prospect"} <= set(leads["kind"])
    open_ = leads[leads["kind"] == "prospect"]
    assert open_["prospect_id"].notna().all() and len(open_) == int((~prospects["converted"]).sum())
    assert any(key.startswith("prospect:") for key in meta["quality"])
