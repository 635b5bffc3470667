"""The sample generator: canonical columns, sizes, determinism and the planted structure it promises."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from chalicelib.ingest.schema import TRANSACTIONS
from chalicelib.samples import dealer, retail, truth, write_csv
from chalicelib.samples.files import main


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return pd.concat(list(retail(seed=7)), ignore_index=True)


@pytest.fixture(scope="module")
def planted():
    return truth(seed=7)


def test_columns_are_canonical_and_values_sane(sales):
    assert set(sales.columns) - {"is_return"} <= set(TRANSACTIONS.column_names)
    assert {"ts", "order_id", "customer_id", "product_id", "amount", "currency"} <= set(sales.columns)
    assert sales["currency"].eq("EUR").all()
    assert set(sales["category"].unique()) == {"Bikes", "Apparel", "Accessories", "Nutrition", "Camping"}
    assert set(sales["region"].unique()) == {"North", "South", "East", "West"}
    assert set(sales["channel"].unique()) == {"online", "store"}
    assert np.allclose(sales["amount"], (sales["quantity"] * sales["unit_price"]).round(2))
    purchases = sales[~sales["is_return"]]
    assert (purchases["quantity"] > 0).all() and (sales.loc[sales["is_return"], "quantity"] < 0).all()
    assert not purchases.duplicated(["order_id", "product_id"]).any()


def test_default_size_spans_two_years(sales):
    assert len(sales) >= 5_000
    assert sales["ts"].min() >= pd.Timestamp("2024-01-01")
    assert sales["ts"].max() < pd.Timestamp("2026-01-01")
    assert 0.01 < sales["is_return"].mean() < 0.08


def test_same_seed_same_data_other_seed_other_data(sales):
    again = pd.concat(list(retail(seed=7)), ignore_index=True)
    assert sales.equals(again) and list(sales.dtypes) == list(again.dtypes)  # assert_frame_equal takes seconds
    other = pd.concat(list(retail(seed=8)), ignore_index=True)
    assert len(other) != len(sales) or not other["amount"].equals(sales["amount"])


def test_target_rows_streams_in_bounded_chunks():
    chunks = list(retail(seed=1, target_rows=300_000, chunk_rows=100_000))
    assert len(chunks) >= 3
    assert max(len(c) for c in chunks) < 200_000
    total = sum(len(c) for c in chunks)
    assert abs(total - 300_000) / 300_000 < 0.1
    orders = pd.concat([c["order_id"] for c in chunks])
    purchases = pd.concat([c.loc[~c["is_return"], ["order_id", "ts"]] for c in chunks])
    assert purchases.groupby("order_id")["ts"].nunique().max() == 1  # order ids never reused across chunks
    assert orders.notna().all()


def test_weekly_pattern_and_growth(sales, planted):
    purchases = sales[~sales["is_return"]]
    orders = purchases.groupby(purchases["ts"].dt.normalize())["order_id"].nunique()
    orders = orders.drop([pd.Timestamp(a.date) for a in planted.anomalies])  # promotions add many orders
    by_weekday = orders.groupby(orders.index.day_of_week).mean()
    assert by_weekday.idxmax() == int(np.argmax(planted.weekly_pattern))  # Saturday
    assert by_weekday.idxmin() == int(np.argmin(planted.weekly_pattern))  # Sunday
    first, second = orders[orders.index.year == 2024].sum(), orders[orders.index.year == 2025].sum()
    assert second > first * 1.1


def test_groups_have_their_tastes_and_spending(sales, planted):
    purchases = sales[~sales["is_return"]].copy()
    purchases["group"] = purchases["customer_id"].astype(str).map(planted.customer_group)
    mix = purchases.pivot_table(index="group", columns="category", values="amount", aggfunc="sum", observed=True)
    units = purchases.pivot_table(index="group", columns="category", values="quantity", aggfunc="count",
                                  observed=True)
    for group, favourites in planted.groups.items():
        assert units.loc[group].idxmax() in favourites, (group, units.loc[group])
    spend = purchases.groupby("group")["amount"].sum() / purchases.groupby("group")["customer_id"].nunique()
    assert spend.idxmax() == planted.group_spend_rank[0] and spend.idxmin() == planted.group_spend_rank[-1]
    assert mix.notna().all().all()


def test_pairs_are_bought_together(sales, planted):
    purchases = sales[~sales["is_return"]]
    by_product = purchases.groupby(purchases["product_id"].astype(str))["order_id"]
    orders_of = {product: set(ids) for product, ids in by_product}
    for a, b in planted.product_pairs:
        with_a = orders_of[a]
        assert len(with_a) > 50
        assert len(with_a & orders_of[b]) / len(with_a) > 0.6
        share_b = len(orders_of[b]) / purchases["order_id"].nunique()
        assert len(with_a & orders_of[b]) / len(with_a) > 5 * share_b  # lift well above chance


def test_churners_stop_buying_after_the_churn_date(sales, planted):
    purchases = sales[~sales["is_return"]]
    churned = purchases[purchases["customer_id"].astype(str).isin(planted.churners)]
    assert churned["ts"].max() < pd.Timestamp(planted.churn_date) + pd.Timedelta(days=1)
    assert churned["customer_id"].nunique() >= 0.9 * len(planted.churners)
    others = purchases[~purchases["customer_id"].astype(str).isin(planted.churners)]
    assert (others["ts"] > pd.Timestamp(planted.churn_date) + pd.Timedelta(days=30)).any()


def test_planted_anomaly_days_stand_out(sales, planted):
    purchases = sales[~sales["is_return"]]
    revenue = purchases.groupby(purchases["ts"].dt.normalize())["amount"].sum()
    for anomaly in planted.anomalies:
        day = pd.Timestamp(anomaly.date)
        usual = revenue.reindex([day + pd.Timedelta(weeks=k) for k in (-2, -1, 1, 2)]).median()
        ratio = revenue.get(day, 0.0) / usual
        assert (ratio > 1.5) if anomaly.direction == "up" else (ratio < 0.5), (anomaly, ratio)


def test_dealer_sells_cars():
    cars = pd.concat(list(dealer(seed=3)), ignore_index=True)
    assert len(cars) > 3_000
    assert (cars["quantity"] == 1).all() and cars["unit_price"].between(10_000, 100_000).all()
    assert cars["vin"].str.len().eq(17).all() and cars["vin"].is_unique
    models = cars.groupby("product_id", observed=True)["product_name"].nunique()
    assert len(models) == 20 and models.eq(1).all()
    assert cars["ts"].dt.day_of_week.ne(6).all()  # closed on Sundays
    assert cars["channel"].nunique() == 8


def test_write_csv_and_cli(tmp_path):
    path = tmp_path / "sample.csv"
    rows = write_csv(path, retail(seed=2, target_rows=20_000, chunk_rows=5_000))
    back = pd.read_csv(path)
    assert len(back) == rows and list(back.columns)[:3] == ["ts", "order_id", "customer_id"]
    assert pd.to_datetime(back["ts"]).notna().all()
    assert main(["--kind", "dealer", "--rows", "2000", str(tmp_path / "cars.csv.gz")]) == 0
    assert 1_500 < len(pd.read_csv(tmp_path / "cars.csv.gz")) < 2_500


def test_million_rows_speed_is_reported():
    started = time.perf_counter()
    rows = sum(len(chunk) for chunk in retail(seed=5, target_rows=1_000_000))
    seconds = time.perf_counter() - started
    print(f"\ngenerated {rows:,} rows in {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    assert rows > 900_000
