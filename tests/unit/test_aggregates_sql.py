"""The aggregate SQL, run by DuckDB over a generated frame registered as `transactions`, agrees with pandas."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from chalicelib.query.aggregates import sql
from chalicelib.query.engine import scope
from chalicelib.samples import retail

MINE = ("daily", "daily_by_dimension", "product_revenue", "period_customers")
ALL_TIME = {"start": None, "end": None}


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return pd.concat(list(retail(seed=11, customers=300, days=400)), ignore_index=True)


@pytest.fixture(scope="module")
def con(sales):
    connection = duckdb.connect(":memory:")
    connection.register("transactions", sales)
    yield connection
    connection.close()


def _purchases(sales: pd.DataFrame) -> pd.DataFrame:
    frame = sales[~sales["is_return"]].copy()
    frame["date"] = frame["ts"].dt.normalize()
    return frame


@pytest.mark.parametrize("name", MINE)
def test_sql_is_accepted_by_the_tenant_scoper(name):
    query = scope(sql(name))
    assert query.datasets == {"transactions"}
    assert set(query.params) == {"start", "end"}


def test_daily_matches_pandas(con, sales):
    got = con.execute(sql("daily"), ALL_TIME).df()
    purchases = _purchases(sales)
    want = purchases.groupby("date").agg(revenue=("amount", "sum"), orders=("order_id", "nunique"),
                                         units=("quantity", "sum"), customers=("customer_id", "nunique"))
    first = purchases.groupby("customer_id", observed=True)["date"].min()
    purchases["first"] = purchases["customer_id"].map(first).astype("datetime64[us]")
    new = purchases[purchases["date"] == purchases["first"]].groupby("date")["customer_id"].nunique()
    got = got.set_index(pd.to_datetime(got["date"]))
    assert np.allclose(got["revenue"], want["revenue"].reindex(got.index))
    assert (got["orders"] == want["orders"].reindex(got.index)).all()
    assert np.allclose(got["units"], want["units"].reindex(got.index))
    assert (got["customers"] == want["customers"].reindex(got.index)).all()
    assert (got["new_customers"] == new.reindex(got.index, fill_value=0)).all()
    assert (got["new_customers"] + got["returning_customers"] == got["customers"]).all()
    returns = sales[sales["is_return"]]
    assert np.isclose(got["returns"].sum(), -returns["amount"].sum())


def test_daily_window_keeps_first_purchase_history(con):
    everything = con.execute(sql("daily"), ALL_TIME).df().set_index("date")
    window = con.execute(sql("daily"), {"start": "2024-06-01", "end": "2024-07-01"}).df().set_index("date")
    assert len(window) == 30
    pd.testing.assert_frame_equal(window, everything.loc[window.index])


def test_daily_by_dimension_matches_pandas(con, sales):
    got = con.execute(sql("daily_by_dimension"), ALL_TIME).df()
    assert set(got["dimension"]) == {"category", "product", "region", "channel"}
    purchases = _purchases(sales)
    for dimension, column in (("category", "category"), ("product", "product_name"), ("region", "region")):
        want = purchases.assign(value=purchases[column].astype(str)).groupby(["date", "value"])["amount"].sum()
        part = got[got["dimension"] == dimension].assign(date=lambda f: pd.to_datetime(f["date"]))
        part = part.set_index(["date", "value"])["revenue"]
        assert len(part) == len(want)
        assert np.allclose(part, want.reindex(part.index))
    by_dimension = got.groupby("dimension")["revenue"].sum()
    assert np.allclose(by_dimension, purchases["amount"].sum())


def test_product_revenue_matches_pandas(con, sales):
    got = con.execute(sql("product_revenue"), {"start": "2024-03-01", "end": None}).df().set_index("product_id")
    purchases = _purchases(sales)
    purchases = purchases[purchases["date"] >= "2024-03-01"]
    want = purchases.groupby("product_id", observed=True).agg(revenue=("amount", "sum"),
                                                               orders=("order_id", "nunique"))
    want.index = want.index.astype(str)
    assert set(got.index) == set(want.index)
    assert np.allclose(got["revenue"], want.loc[got.index, "revenue"])
    assert (got["orders"] == want.loc[got.index, "orders"]).all()
    assert got["revenue"].is_monotonic_decreasing


def test_period_customers_matches_pandas(con, sales):
    got = con.execute(sql("period_customers"), {"start": "2024-06-01", "end": "2024-09-01"}).df().iloc[0]
    purchases = _purchases(sales)
    window = purchases[(purchases["date"] >= "2024-06-01") & (purchases["date"] < "2024-09-01")]
    first = purchases.groupby("customer_id", observed=True)["date"].min()
    buyers = window["customer_id"].astype(str).unique()
    first.index = first.index.astype(str)
    orders = window.groupby(window["customer_id"].astype(str))["order_id"].nunique()
    assert got["customers"] == len(buyers)
    assert got["new_customers"] == (first[buyers] >= pd.Timestamp("2024-06-01")).sum()
    repeat = (orders > 1) | (first[orders.index] < pd.Timestamp("2024-06-01"))
    assert got["repeat_customers"] == repeat.sum()


def test_missing_order_ids_and_return_flags_fall_back(con):
    frame = pd.DataFrame({
        "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-02 09:00", "2024-01-03 09:00"]),
        "order_id": [None, None, None, "X1"], "customer_id": ["a", "a", "b", "a"],
        "product_id": ["p", "q", "p", "p"], "product_name": [None, "Q", None, None],
        "category": [None, "c", "c", "c"], "quantity": [1.0, 2.0, 1.0, -1.0], "unit_price": [10.0, 5.0, 10.0, 10.0],
        "amount": [10.0, None, 10.0, -10.0], "region": [None] * 4, "channel": [None] * 4, "is_return": [None] * 4})
    local = duckdb.connect(":memory:")
    local.register("transactions", frame)
    daily = local.execute(sql("daily"), ALL_TIME).df()
    assert daily["orders"].tolist() == [1, 1, 0]  # customer a's day is one basket; day 3 only has a return
    assert daily["revenue"].tolist() == [20.0, 10.0, 0.0]
    assert daily["returns"].tolist() == [0.0, 0.0, 10.0]
    returns = local.execute(sql("product_revenue"), ALL_TIME).df().set_index("product_id")
    assert returns.loc["p", "returns"] == 10.0
    dims = local.execute(sql("daily_by_dimension"), ALL_TIME).df()
    assert "(unknown)" in set(dims.loc[dims["dimension"] == "region", "value"])
