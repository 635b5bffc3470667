"""Explore end to end on the local lake: answers equal pandas over the uploaded rows, for the caller's tenant only."""
from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from chalicelib import services
from chalicelib.auth.permissions import TenantContext
from chalicelib.samples import retail
from tests.integration.test_analysis_run import as_strings
from tests.integration.test_uploads import lake_api  # noqa: F401 - the fixture is used by name


def _sales() -> pd.DataFrame:
    frame = pd.concat(retail(seed=11, customers=120, products=30, start="2024-01-01", days=420))
    return frame.reset_index(drop=True)


SALES = _sales()


class Company:
    def __init__(self, api: Any, email: str, name: str) -> None:
        self.api = api
        self.token = api.register(email, company=name)
        self.tenant_id = api.call("GET", "/me", token=self.token).data["tenant"]["tenant_id"]
        self.ctx = TenantContext(self.tenant_id, "loader", "analyst", email)

    def load(self, frame: pd.DataFrame) -> dict[str, Any]:
        return services.ingestion().ingest_records(self.ctx, as_strings(frame), source="upload")["summary"]

    def ask(self, body: dict[str, Any], path: str = "/explore") -> Any:
        return self.api.call("POST", path, body, token=self.token)


@pytest.fixture
def acme(lake_api: Any) -> Company:  # noqa: F811 - the imported fixture, by name
    company = Company(lake_api, "ada@acme.example", "Acme Bikes")
    assert company.load(SALES)["rows_accepted"] == len(SALES)
    return company


def purchases(frame: pd.DataFrame = SALES) -> pd.DataFrame:
    return frame[~frame["is_return"]]


def test_revenue_by_month_for_one_region_equals_pandas(acme: Company) -> None:
    answer = acme.ask({"measures": ["revenue", "units", "orders", "customers"], "dimensions": ["month"],
                       "filters": [{"field": "region", "values": ["North"]}]})
    assert answer.status_code == 200, answer.data
    assert answer.data["meta"]["source"] == "lines"  # distinct counts read the order lines
    north = purchases()[purchases()["region"] == "North"]
    month = north["ts"].dt.to_period("M").dt.start_time.dt.strftime("%Y-%m-%d")
    expected = north.groupby(month).agg(revenue=("amount", "sum"), units=("quantity", "sum"),
                                        orders=("order_id", "nunique"), customers=("customer_id", "nunique"))
    got = pd.DataFrame(answer.data["rows"]).set_index("month")
    assert list(got.index) == list(expected.index)
    for name in expected.columns:
        assert got[name].round(2).tolist() == expected[name].round(2).tolist(), name
    assert answer.data["meta"]["lines"] == len(SALES[SALES["region"] == "North"])
    assert answer.data["meta"]["currency"] == SALES["currency"].iloc[0]


def test_additive_questions_come_from_the_rollup_and_agree_with_the_lines(acme: Company) -> None:
    body = {"measures": ["revenue", "returns"], "dimensions": ["category"], "date": {"start": "2024-03-01",
                                                                                   "end": "2024-06-30"}}
    rollup = acme.ask(body)
    assert rollup.status_code == 200 and rollup.data["meta"]["source"] == "rollup"
    window = SALES[(SALES["ts"] >= "2024-03-01") & (SALES["ts"] < "2024-07-01")]
    expected = purchases(window).groupby("category")["amount"].sum()
    got = {row["category"]: row["revenue"] for row in rollup.data["rows"]}
    assert got == pytest.approx(expected.to_dict())
    returned = window[window["is_return"]].groupby("category")["amount"].apply(lambda a: a.abs().sum())
    assert {r["category"]: r["returns"] for r in rollup.data["rows"] if r["returns"]} == pytest.approx(
        returned[returned > 0].to_dict())


def test_top_n_with_everything_else_sums_to_the_total(acme: Company) -> None:
    answer = acme.ask({"measures": ["revenue"], "dimensions": ["product"], "limit": 5, "other": True})
    assert answer.status_code == 200, answer.data
    rows = answer.data["rows"]
    assert len(rows) == 6 and rows[-1]["product"] == "(everything else)"
    top = purchases().groupby("product_name")["amount"].sum().sort_values(ascending=False)
    assert [r["product"] for r in rows[:5]] == top.index[:5].tolist()
    assert sum(r["revenue"] for r in rows) == pytest.approx(top.sum())


def test_compare_with_the_same_months_last_year(acme: Company) -> None:
    answer = acme.ask({"measures": ["revenue"], "dimensions": ["month"], "compare": {"mode": "previous_year"},
                       "date": {"start": "2025-01-01", "end": "2025-02-28"}})
    assert answer.status_code == 200, answer.data
    by_month = purchases().groupby(purchases()["ts"].dt.strftime("%Y-%m"))["amount"].sum()
    jan = answer.data["rows"][0]
    assert jan["month"] == "2025-01-01"
    assert jan["revenue_previous"] == pytest.approx(by_month["2024-01"])
    assert jan["revenue_change"] == pytest.approx(by_month["2025-01"] - by_month["2024-01"])
    assert jan["revenue_change_pct"] == pytest.approx(by_month["2025-01"] / by_month["2024-01"] - 1, abs=1e-6)
    assert answer.data["meta"]["compare"]["start"] == "2024-01-01"


def test_weeks_start_on_the_day_the_member_chose_unless_the_question_says(acme: Company) -> None:
    weekly = {"measures": ["revenue"], "dimensions": ["week"], "date": {"start": "2025-01-05", "end": "2025-01-18"}}
    assert [r["week"] for r in acme.ask(weekly).data["rows"]] == ["2024-12-30", "2025-01-06", "2025-01-13"]
    saved = acme.api.call("PUT", "/me/preferences", {"week_start": "sunday"}, token=acme.token)
    assert saved.status_code == 200, saved.data
    sundays = acme.ask(weekly).data["rows"]
    assert [r["week"] for r in sundays] == ["2025-01-05", "2025-01-12"]
    first_week = purchases()[(purchases()["ts"] >= "2025-01-05") & (purchases()["ts"] < "2025-01-12")]
    assert sundays[0]["revenue"] == pytest.approx(first_week["amount"].sum())
    said = acme.ask({**weekly, "week_start": "monday"}).data["rows"]  # an explicit choice wins (forecast charts)
    assert said[0]["week"] == "2024-12-30"
    lines = acme.ask({"filters": [{"field": "week", "values": ["2025-01-05"]}], "limit": 1000}, "/explore/rows")
    assert lines.data["total_rows"] == len(SALES[(SALES["ts"] >= "2025-01-05") & (SALES["ts"] < "2025-01-12")])


def test_drill_down_to_the_order_lines_of_a_bar(acme: Company) -> None:
    category = SALES["category"].iloc[0]
    bars = acme.ask({"measures": ["revenue"], "dimensions": ["week"],
                     "filters": [{"field": "category", "values": [category]}]}).data["rows"]
    week = bars[3]["week"]
    cell = {"filters": [{"field": "category", "values": [category]}, {"field": "week", "values": [week]}],
            "limit": 7}
    page = acme.ask(cell, "/explore/rows")
    assert page.status_code == 200, page.data
    start = pd.Timestamp(week)
    expected = SALES[(SALES["category"] == category) & (SALES["ts"] >= start)
                     & (SALES["ts"] < start + pd.Timedelta(days=7))]
    assert page.data["total_rows"] == len(expected) and len(page.data["rows"]) == 7
    assert sum(r["amount"] for r in page.data["rows"] if not r["is_return"]) <= bars[3]["revenue"] + 1e-6
    csv = acme.api.http.request("POST", "/explore/rows", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {acme.token}"},
        body=__import__("json").dumps({**cell, "format": "csv"}).encode())
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.body.decode().strip().splitlines()
    assert len(lines) == len(expected) + 1 and lines[0].startswith("order_id,ts,customer_id")


def test_autocomplete_ranks_prefix_matches_first_then_revenue(acme: Company) -> None:
    answer = acme.api.call("GET", "/explore/values?dimension=product&q=ten", token=acme.token)
    assert answer.status_code == 200, answer.data
    names = [v["value"] for v in answer.data["values"]]
    expected = [n for n in SALES["product_name"].unique() if "ten" in n.lower()]
    assert sorted(names) == sorted(expected[:20]) and 0 < len(names) <= 20
    prefixed = [n.lower().startswith("ten") for n in names]
    assert prefixed == sorted(prefixed, reverse=True)
    customers = acme.api.call("GET", "/explore/values?dimension=customer&q=C0", token=acme.token)
    assert customers.status_code == 200 and len(customers.data["values"]) <= 20


def test_fields_list_what_the_data_has(acme: Company) -> None:
    fields = acme.api.call("GET", "/explore/fields", token=acme.token).data
    measures = {m["name"] for m in fields["measures"]}
    assert {"revenue", "orders", "customers", "repeat_rate"} <= measures and "conversion" not in measures
    assert all(m["definition"] for m in fields["measures"])
    assert {"week", "category", "product", "region", "channel", "customer"} <= {d["name"] for d in
                                                                                 fields["dimensions"]}
    assert fields["date_range"] == {"start": SALES["ts"].min().date().isoformat(),
                                    "end": SALES["ts"].max().date().isoformat()}


@pytest.mark.parametrize(("body", "field"), [
    ({"measures": ["conversion"]}, "measures.0"),
    ({"measures": ["profit"]}, "measures.0"),
    ({"measures": ["revenue"], "dimensions": ["colour"]}, "dimensions.0"),
    ({"measures": ["revenue"], "dimensions": ["week", "region", "channel"]}, "dimensions"),
    ({"measures": ["revenue"], "date": {"start": "2025-03-01", "end": "2025-01-01"}}, "date"),
    ({"measures": ["revenue"], "limit": 10**9}, "limit"),
    ({"measures": ["revenue"], "filters": [{"field": "region", "values": ["x" * 300]}]}, "filters.0.values.0"),
    ({"measures": ["revenue"], "filters": [{"field": "region", "values": ["x"] * 5000}]}, "filters.0.values"),
    ({"measures": ["revenue"], "filters": [{"field": "week", "values": ["last tuesday"]}]}, "filters"),
    ({"measures": ["revenue"], "sql": "SELECT 1"}, "sql"),
])
def test_bad_questions_are_400s_that_say_what_to_fix(acme: Company, body: dict[str, Any], field: str) -> None:
    answer = acme.ask(body)
    assert answer.status_code == 400, answer.data
    assert any(d.get("field", "").startswith(field) for d in answer.data["error"]["details"]), answer.data
    if field.startswith(("measures", "dimensions")) and "valid" in answer.data["error"]["details"][0]:
        assert "revenue" in answer.data["error"]["details"][0]["valid"] or "week" in answer.data["error"][
            "details"][0]["valid"]


def test_sql_looking_and_unicode_values_are_just_values(acme: Company) -> None:
    for value in ["North' OR '1'='1", "'; DROP TABLE transactions; --", "Nörd 北 🚲", "%", "_"]:
        answer = acme.ask({"measures": ["revenue"], "filters": [{"field": "region", "values": [value]}]})
        assert answer.status_code == 200, answer.data
        assert answer.data["rows"] == [] and answer.data["message"].startswith(f"No sales in {value}")


def test_another_company_sees_none_of_these_sales(acme: Company) -> None:
    globex = Company(acme.api, "gus@globex.example", "Globex Cars")
    product = SALES["product_name"].iloc[0]
    assert globex.ask({"measures": ["revenue"]}).data["error"]["code"] == "no_sales"
    other = SALES.head(50).assign(product_name="Globex Widget", region="Mars")
    globex.load(other)
    answer = globex.ask({"measures": ["revenue"], "filters": [{"field": "product", "values": [product]}]})
    assert answer.status_code == 200 and answer.data["rows"] == []
    mine = acme.ask({"measures": ["revenue"], "dimensions": ["region"]}).data["rows"]
    assert "Mars" not in {r["region"] for r in mine}
    values = acme.api.call("GET", "/explore/values?dimension=product&q=widget", token=acme.token).data
    assert values["values"] == []
    rows = acme.ask({"filters": [{"field": "region", "values": ["Mars"]}]}, "/explore/rows").data
    assert rows["total_rows"] == 0


def test_a_new_batch_refreshes_cached_answers_and_a_reupload_counts_once(acme: Company) -> None:
    body = {"measures": ["revenue", "orders"]}
    first = acme.ask(body).data
    again = acme.ask(body).data
    assert again["meta"]["cached"] and again["rows"] == first["rows"]
    assert acme.load(SALES)["rows_accepted"] == 0  # the same export again: nothing new
    assert acme.ask(body).data["rows"] == first["rows"]
    extra = SALES.head(10).assign(order_id=[f"NEW-{i}" for i in range(10)], amount=100.0, quantity=1.0,
                                  unit_price=100.0, is_return=False)
    acme.load(extra)
    after = acme.ask(body).data
    assert not after["meta"]["cached"]
    assert after["rows"][0]["revenue"] == pytest.approx(first["rows"][0]["revenue"] + 1000.0)
    assert after["rows"][0]["orders"] == first["rows"][0]["orders"] + 10


def test_every_role_may_explore(acme: Company) -> None:
    _, viewer = acme.api.join(acme.token, "vic@acme.example", "viewer")
    assert acme.api.call("POST", "/explore", {"measures": ["revenue"]}, token=viewer).status_code == 200
    assert acme.api.call("POST", "/explore", {"measures": ["revenue"]}).status_code == 401


def test_segments_and_rfm_groups_of_the_latest_run_split_the_sales(acme: Company, lake_env: dict[str, str]) -> None:
    from tests.integration.test_analysis_run import drain_jobs, make_worker

    worker = make_worker()
    drain_jobs(lake_env, worker)
    segments = services.results().artifact(acme.ctx, "segments")[1]
    fields = acme.api.call("GET", "/explore/fields", token=acme.token).data
    assert {"segment", "rfm_group"} <= {d["name"] for d in fields["dimensions"]}
    answer = acme.ask({"measures": ["customers", "revenue"], "dimensions": ["segment"]})
    assert answer.status_code == 200, answer.data
    got = {r["segment"]: r["customers"] for r in answer.data["rows"]}
    buyers = set(purchases()["customer_id"])
    expected = segments[segments["customer_id"].isin(buyers)].groupby("segment")["customer_id"].nunique()
    assert {k: v for k, v in got.items() if k != "(none)"} == expected.to_dict()
    assert sum(r["revenue"] for r in answer.data["rows"]) == pytest.approx(purchases()["amount"].sum())
    name = expected.index[0]
    values = acme.api.call("GET", f"/explore/values?dimension=segment&q={name[:3]}", token=acme.token).data
    assert name in [v["value"] for v in values["values"]]
    rows = acme.ask({"filters": [{"field": "segment", "values": [name]}], "limit": 3}, "/explore/rows").data
    assert rows["total_rows"] > 0 and {r["customer_id"] for r in rows["rows"]} <= set(
        segments[segments["segment"] == name]["customer_id"])


def test_a_dealers_own_column_is_a_dimension(acme: Company) -> None:
    dealer = Company(acme.api, "dan@dealer.example", "Dan's Cars")
    cars = SALES.head(400).assign(vin=[f"VIN{i % 7}" for i in range(400)], trim=None)
    assert dealer.load(cars)["rows_accepted"] == 400
    fields = dealer.api.call("GET", "/explore/fields", token=dealer.token).data
    assert {"extra:vin", "extra:trim"} <= {d["name"] for d in fields["dimensions"]}
    answer = dealer.ask({"measures": ["revenue", "orders"], "dimensions": ["extra:vin"]})
    assert answer.status_code == 200, answer.data
    expected = purchases(cars).groupby("vin")["amount"].sum().round(2)
    assert {r["extra:vin"]: r["revenue"] for r in answer.data["rows"]} == pytest.approx(expected.to_dict())
    found = dealer.api.call("GET", "/explore/values?dimension=extra:vin&q=vin3", token=dealer.token).data
    assert [v["value"] for v in found["values"]] == ["VIN3"]
    rows = dealer.ask({"filters": [{"field": "extra:vin", "values": ["VIN3"]}], "limit": 2}, "/explore/rows").data
    assert [r["vin"] for r in rows["rows"]] == ["VIN3", "VIN3"]
    assert acme.ask({"measures": ["revenue"], "dimensions": ["extra:vin"]}).status_code == 400  # not acme's


def test_found_by_fuzzing_drill_down_dates_and_empty_comparisons_are_not_500s(acme: Company) -> None:
    rows = acme.ask({"filters": [{"field": "week", "values": ["last tuesday"]}]}, "/explore/rows")
    assert rows.status_code == 400 and "YYYY-MM-DD" in rows.data["error"]["message"]
    empty = acme.ask({"measures": ["revenue"], "compare": {"mode": "previous_year"},
                      "filters": [{"field": "region", "values": ["Nowhere"]}]})
    assert empty.status_code == 200, empty.data
    assert empty.data["rows"] == [] and empty.data["meta"]["compare"]["mode"] == "previous_year"
