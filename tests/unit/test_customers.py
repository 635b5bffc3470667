"""Customer segments: planted groups come back, RFM names follow the standard map, odd inputs are skipped."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from chalicelib.analytics.customers import RFM_SEGMENTS, rfm, segment_customers
from chalicelib.query.aggregates import sql
from chalicelib.samples.generator import retail, truth

SEED = 7


@pytest.fixture(scope="module")
def shop():
    sales = pd.concat(list(retail(SEED)), ignore_index=True)
    con = duckdb.connect()
    con.register("transactions", sales)
    features = con.execute(sql("customer_features"), {"as_of": None}).df()
    category = con.execute(sql("customer_category"), {"as_of": None}).df()
    return sales, features, category


def test_feature_sql_matches_pandas(shop):
    sales, features, category = shop
    bought = sales[~sales["is_return"]]
    orders = bought.groupby("customer_id", observed=True)["order_id"].nunique()
    spend = sales.groupby("customer_id", observed=True)["amount"].sum()
    got = features.set_index("customer_id")
    assert got["frequency"].to_dict() == {str(k): v for k, v in orders.items()}
    assert np.allclose(got.loc[spend.index.astype(str), "monetary"], spend.to_numpy())
    last = bought.groupby("customer_id", observed=True)["ts"].max()
    expected = (sales["ts"].max().normalize() - last.dt.normalize()).dt.days
    assert (got.loc[expected.index.astype(str), "recency_days"].to_numpy() == expected.to_numpy()).all()
    for share in ("amount_share", "order_share"):
        assert np.allclose(category.groupby("customer_id")[share].sum(), 1.0)


def test_planted_groups_are_recovered(shop):
    _, features, category = shop
    planted = truth(SEED)
    result = segment_customers(features, category, seed=0)
    assert result.ok and 2 <= result.k <= 8
    customers = result.customers
    group = customers["customer_id"].map(planted.customer_group)
    ari = adjusted_rand_score(group, customers["segment"])
    assert ari >= 0.8, f"adjusted Rand index {ari:.3f}"
    # the biggest spenders' segment is mostly the group planted as spending the most
    top = result.profile["segment"].iloc[0]
    assert group[customers["segment"] == top].mode()[0] == planted.group_spend_rank[0]
    names = result.profile["segment"]
    assert names.is_unique and len(names) == result.k
    assert set(result.silhouette["k"]) <= set(range(2, 9))
    assert {"customers", "share", "avg_spend", "avg_orders", "avg_recency_days", "top_category"} <= set(
        result.profile.columns)
    assert result.profile["customers"].sum() == len(features)
    assert result.profile["share"].sum() == pytest.approx(1.0, abs=1e-3)


def test_rfm_groups(shop):
    _, features, category = shop
    result = rfm(features, category)
    assert result.ok
    scores = result.customers
    assert scores[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    assert set(scores["segment"]) <= set(RFM_SEGMENTS)
    assert {"Champions", "At risk", "Lost"} <= set(scores["segment"])
    champions = scores[scores["segment"] == "Champions"]
    lost = scores[scores["segment"] == "Lost"]
    assert champions["monetary"].median() > lost["monetary"].median()
    assert champions["recency_days"].median() < lost["recency_days"].median()
    # the most recent customer has the top recency score
    assert scores.loc[scores["recency_days"].idxmin(), "r_score"] == 5


def _features(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "recency_days": rng.integers(0, 300, n),
                         "frequency": rng.integers(1, 20, n), "monetary": rng.uniform(10, 900, n),
                         "aov": rng.uniform(10, 90, n), "tenure_days": rng.integers(300, 700, n)})


@pytest.mark.parametrize("frame", [None, pd.DataFrame(), pd.DataFrame({"recency_days": [1]}), _features(1)])
def test_too_little_data_is_skipped_with_a_reason(frame):
    for result in (rfm(frame), segment_customers(frame)):
        assert not result.ok and result.customers.empty
        assert "customer" in result.skipped


def test_identical_customers_do_not_split():
    frame = _features(30).assign(recency_days=5, frequency=3, monetary=100.0, aov=33.3, tenure_days=200)
    result = segment_customers(frame)
    assert not result.ok and "alike" in result.skipped
    assert rfm(frame).ok  # ranks tie, scores still valid


def test_small_shop_still_segments():
    result = segment_customers(_features(12), seed=1)
    assert result.ok and result.customers["segment"].notna().all()
    assert result.profile["segment"].is_unique
