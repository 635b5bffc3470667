"""Leads: planted likely buyers rank first for cross-sell and launches, prospects are scored from what made
others convert, every list exports as CSV, and thin data is skipped with a reason."""
from __future__ import annotations

import io

import duckdb
import numpy as np
import pandas as pd
import pytest

from chalicelib.analytics.leads import cross_sell_leads, launch_leads, prospect_leads, to_csv_bytes
from chalicelib.query.aggregates import sql

TASTES = {"outdoor": {"Camping": 0.6, "Apparel": 0.4}, "athlete": {"Nutrition": 0.7, "Apparel": 0.3}}
PRICES = {"Camping": 120.0, "Apparel": 40.0, "Nutrition": 5.0, "Climbing": 150.0}


def _planted_shop(seed: int = 0, per_group: int = 150) -> tuple[pd.DataFrame, set[str]]:
    """Two taste groups; most outdoor customers, and almost no athletes, also bought Climbing gear."""
    rng = np.random.default_rng(seed)
    rows, outdoor = [], set()
    for group, taste in TASTES.items():
        for c in range(per_group):
            customer = f"{group[0].upper()}{c:03d}"
            if group == "outdoor":
                outdoor.add(customer)
            start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 60)))
            picks = list(taste) + (["Climbing"] if rng.random() < (0.7 if group == "outdoor" else 0.03) else [])
            for o in range(1 + rng.poisson(8)):
                ts = start + pd.Timedelta(days=int(rng.integers(0, 300)))
                if o == 0 and picks[-1] == "Climbing":
                    category = "Climbing"
                else:
                    category = rng.choice(list(taste), p=list(taste.values()))
                item = int(rng.integers(0, 5))
                price = PRICES[category] * (0.6 + 0.2 * item)
                rows.append({"order_id": f"{customer}-{o}", "ts": ts, "customer_id": customer,
                             "product_id": f"{category[:3].upper()}{item}", "product_name": f"{category} item {item}",
                             "category": category, "quantity": 1, "unit_price": price, "amount": price,
                             "is_return": False})
    return pd.DataFrame(rows), outdoor


@pytest.fixture(scope="module")
def shop():
    sales, outdoor = _planted_shop()
    con = duckdb.connect()
    con.register("transactions", sales)
    frames = {name: con.execute(sql(name), params).df() for name, params in (
        ("customer_features", {"as_of": None}), ("customer_category", {"as_of": None}),
        ("interactions", {"as_of": None}), ("product_catalogue", {}))}
    return sales, outdoor, frames


def test_cross_sell_ranks_lookalikes_of_category_buyers_first(shop):
    sales, outdoor, f = shop
    result = cross_sell_leads(f["customer_features"], f["customer_category"], target_category="Climbing", top=40)
    assert result.ok, result.skipped
    leads = result.leads
    climbers = set(sales.loc[sales["category"] == "Climbing", "customer_id"])
    assert not set(leads["customer_id"]) & climbers  # only customers who have not bought it yet
    assert leads["score"].is_monotonic_decreasing and list(leads["rank"]) == list(range(1, len(leads) + 1))
    non_buying_outdoor = len(outdoor - climbers)
    top = leads.head(non_buying_outdoor)
    assert top["customer_id"].isin(outdoor).mean() >= 0.8
    assert result.quality["Climbing AUC"] >= 0.75
    assert leads["reason"].str.startswith("Buys like Climbing buyers").all()
    assert leads["reason"].str.contains("Camping|Nutrition|Apparel|a month|average order|days ago").all()


def test_cross_sell_every_category_and_one_product(shop):
    _, outdoor, f = shop
    every = cross_sell_leads(f["customer_features"], f["customer_category"], top=5)
    assert every.ok and set(every.leads["target"]) >= {"Climbing", "Camping", "Nutrition"}
    assert set(every.quality) == {f"{t} AUC" for t in every.leads["target"].unique()}
    product = cross_sell_leads(f["customer_features"], f["customer_category"], product_id="CLI2",
                               interactions=f["interactions"], catalogue=f["product_catalogue"], top=20)
    assert product.ok and (product.leads["target"] == "Climbing item 2").all()
    assert product.leads["customer_id"].isin(outdoor).mean() >= 0.7


def test_launch_leads_look_like_buyers_of_similar_products(shop):
    sales, outdoor, f = shop
    result = launch_leads(f["customer_features"], f["customer_category"], f["interactions"], f["product_catalogue"],
                          launch_category="Climbing", price_low=100, price_high=200, top=None)
    assert result.ok, result.skipped
    leads = result.leads
    assert len(leads) == sales["customer_id"].nunique() and leads["score"].is_monotonic_decreasing
    assert leads["score"].between(0, 1).all()
    fresh = leads[leads["bought_similar"] == 0].head(40)
    assert fresh["customer_id"].isin(outdoor).mean() >= 0.8
    assert fresh["reason"].str.startswith("Buys like customers of similar Climbing products").all()
    owners = leads[leads["bought_similar"] > 0]
    assert owners["reason"].str.contains("Climbing item").all()
    assert "price band" in result.note
    wide = launch_leads(f["customer_features"], f["customer_category"], f["interactions"], f["product_catalogue"],
                        launch_category="Climbing", price_low=5000, price_high=9000)
    assert wide.ok and "price band" in wide.note and "all" in wide.note


def _prospects(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    source = rng.choice(["Referral", "Ads", "Event"], n)
    employees = np.round(rng.lognormal(3.5, 1.0, n))
    logit = -2.2 + 2.2 * (source == "Referral") + 0.9 * np.log(employees / 30)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"prospect_id": [f"L{i}" for i in range(n)], "region": rng.choice(["North", "South"], n),
                         "source": source, "employees": employees, "email": [f"x{i}@example.com" for i in range(n)],
                         "created_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), "D"),
                         "converted": np.where(converted, "yes", "no")})


def test_prospects_are_scored_from_what_converted_others():
    prospects = _prospects()
    result = prospect_leads(prospects, seed=0)
    assert result.ok, result.skipped
    leads = result.leads
    open_ids = set(prospects.loc[prospects["converted"] == "no", "prospect_id"])
    assert set(leads["prospect_id"]) == open_ids and leads["score"].is_monotonic_decreasing
    assert max(result.quality.values()) >= 0.75
    scored = leads.merge(prospects, on="prospect_id")
    by_source = scored.groupby("source")["score"].mean()
    assert by_source["Referral"] > by_source["Ads"]
    assert scored.head(20)["reason"].str.contains("source is Referral|employees is", case=False).mean() >= 0.8
    assert not leads["reason"].str.contains("example.com").any()  # ids and free text are not features


@pytest.mark.parametrize(("prospects", "needle"), [
    (None, "No prospects"),
    (_prospects().drop(columns="converted"), "No prospects"),
    (_prospects().assign(converted="no"), "0 of 400 prospects converted"),
    (_prospects(12), "prospects converted"),
    (_prospects()[["prospect_id", "converted"]], "no attributes"),
])
def test_prospects_without_enough_signal_are_skipped(prospects, needle):
    result = prospect_leads(prospects)
    assert not result.ok and needle in result.skipped and result.leads.empty


def test_thin_customer_data_is_skipped_with_a_reason(shop):
    _, _, f = shop
    one = f["customer_features"].head(1)
    cats = f["customer_category"]
    assert "at least" in cross_sell_leads(one, cats, target_category="Climbing").skipped
    assert "customer ids" in cross_sell_leads(pd.DataFrame(), cats).skipped
    assert "customer ids" in launch_leads(None, cats, f["interactions"], f["product_catalogue"],
                                          launch_category="Climbing").skipped
    nobody = cross_sell_leads(f["customer_features"], cats, target_category="Kayaks")
    assert not nobody.ok and "Kayaks: 0 of" in nobody.skipped
    unknown = launch_leads(f["customer_features"], cats, f["interactions"], f["product_catalogue"],
                           launch_category="Kayaks")
    assert not unknown.ok and "Kayaks" in unknown.skipped


def test_csv_export_round_trips(shop):
    _, _, f = shop
    leads = cross_sell_leads(f["customer_features"], f["customer_category"], target_category="Climbing").leads
    data = to_csv_bytes(leads)
    back = pd.read_csv(io.BytesIO(data))
    assert list(back.columns) == list(leads.columns) and len(back) == len(leads)
    assert data.decode("utf-8").splitlines()[0].startswith("target,rank,customer_id,score,reason")
