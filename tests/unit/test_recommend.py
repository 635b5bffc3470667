"""Recommendations: the chosen model beats best sellers on planted tastes, never repeats a purchase, explains
itself with real product names, and falls back to best sellers for customers it does not know."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from chalicelib.analytics import recommend as rec
from chalicelib.analytics.purchases import PurchaseMatrix, clean_interactions, purchase_ratings
from chalicelib.analytics.recommenders import (
    COOCCURRENCE,
    KNN_NAME,
    POPULARITY,
    SVD_NAME,
    CoOccurrence,
    KNNModel,
    SVDModel,
)
from chalicelib.query.aggregates import sql
from chalicelib.samples.generator import retail

SEED = 7


@pytest.fixture(scope="module")
def shop():
    # 200 products, so each customer has bought a minority of them and taste matters
    sales = pd.concat(list(retail(SEED, products=200)), ignore_index=True)
    con = duckdb.connect()
    con.register("transactions", sales)
    interactions = con.execute(sql("interactions"), {"as_of": None}).df()
    catalogue = con.execute(sql("product_catalogue")).df()
    return interactions, catalogue


@pytest.fixture(scope="module")
def result(shop):
    interactions, catalogue = shop
    return rec.recommend(interactions, catalogue, seed=0)


def test_chosen_model_beats_popularity(result):
    assert result.ok, result.skipped
    table = result.evaluation.set_index("model")
    assert set(table.index) == {POPULARITY, COOCCURRENCE, SVD_NAME, KNN_NAME}
    assert {"hit_rate", "precision", "ndcg"} <= set(table.columns)
    assert result.model == table["hit_rate"].idxmax()
    assert result.model != POPULARITY
    assert table.loc[result.model, "hit_rate"] > table.loc[POPULARITY, "hit_rate"] + 0.03
    assert table.loc[result.model, "ndcg"] > table.loc[POPULARITY, "ndcg"]


def test_never_recommends_what_was_bought(shop, result):
    interactions, _ = shop
    items = result.items
    owned = set(zip(interactions["customer_id"].astype(str), interactions["product_id"].astype(str)))
    assert not any(pair in owned for pair in zip(items["customer_id"], items["product_id"]))
    per_customer = items.groupby("customer_id")
    assert per_customer.size().max() == 10 and items["customer_id"].nunique() == interactions["customer_id"].nunique()
    assert (per_customer["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    assert not items.duplicated(["customer_id", "product_id"]).any()


def test_explanations_name_real_products(shop, result):
    _, catalogue = shop
    names = set(catalogue["product_name"])
    items = result.items
    assert items["reason"].str.len().gt(0).all()
    co_bought = items[items["reason"].str.startswith("Customers who bought")]
    assert len(co_bought) > len(items) / 2
    for reason in co_bought["reason"].head(200):
        mentioned = reason.removeprefix("Customers who bought ").removesuffix(" also bought this")
        assert all(part in names for part in mentioned.split(" and ")), reason
    assert set(items["product_name"]) <= names


def test_unknown_customer_gets_best_sellers_with_a_reason(shop):
    interactions, catalogue = shop
    out = rec.recommend(interactions, catalogue, customers=["C000001", "NOBODY", "NEWBIE"],
                        favourite_categories={"NEWBIE": "Camping"}, seed=0).items
    nobody = out[out["customer_id"] == "NOBODY"]
    assert len(nobody) == 10 and (nobody["reason"] == "One of our best sellers").all()
    newbie = out[out["customer_id"] == "NEWBIE"]
    assert (newbie["category"] == "Camping").all() and newbie["reason"].str.contains("Camping").all()
    assert nobody["score"].is_monotonic_decreasing
    assert (out.loc[out["customer_id"] == "C000001", "model"] != "Popularity (new customer)").all()


def test_svd_scores_are_surprises_own_predictions(shop):
    interactions, _ = shop
    small = interactions[interactions["customer_id"].isin(interactions["customer_id"].unique()[:60])]
    matrix = PurchaseMatrix(clean_interactions(small))
    model = SVDModel(rec.MAX_RATINGS).fit(matrix, seed=0)
    rows = np.arange(5)
    scores = model.score(matrix, rows)
    for r in rows:
        for j in (0, 3, 7):
            expected = model.algo_.predict(matrix.customers[r], matrix.products[j], clip=False).est
            assert scores[r, j] == pytest.approx(expected)


def test_ratings_are_log_scaled_into_one_to_five():
    frame = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "product_id": ["x", "y", "x", "z"],
                          "orders": [1, 3, 40, 2]})
    ratings = purchase_ratings(frame)["rating"]
    assert ratings.between(1, 5).all() and ratings.iloc[0] == 1 and ratings.iloc[2] == 5
    assert ratings.iloc[0] < ratings.iloc[3] < ratings.iloc[1] < ratings.iloc[2]


DAY = pd.Timestamp("2024-01-01")


@pytest.mark.parametrize("frame", [
    None,
    pd.DataFrame(),
    pd.DataFrame({"product_id": ["p"], "orders": [1]}),
    pd.DataFrame({"customer_id": ["c"], "product_id": ["p"], "orders": [1], "last_ts": [DAY]}),
    pd.DataFrame({"customer_id": list("abcdef"), "product_id": "p", "orders": 1, "last_ts": DAY}),
])
def test_degenerate_inputs_are_skipped_with_a_reason(frame):
    result = rec.recommend(frame)
    assert not result.ok and result.items.empty and result.skipped


def test_tiny_shop_recommends_without_a_comparison():
    frame = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"], "product_id": ["x", "y", "x", "z", "y"],
                          "orders": 1, "last_ts": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-05",
                                                                  "2024-03-01", "2024-01-09"])})
    result = rec.recommend(frame)
    assert result.ok and result.evaluation.empty and "Using" in result.note
    assert set(result.items.loc[result.items["customer_id"] == "c", "product_id"]) <= {"x", "z"}


def test_customers_outside_the_surprise_sample_get_the_co_occurrence_list(shop):
    interactions, catalogue = shop
    matrix = PurchaseMatrix(clean_interactions(interactions))
    model = SVDModel(max_ratings=3_000).fit(matrix, seed=0)
    assert model.known_.any() and not model.known_.all()
    backup = CoOccurrence().fit(matrix, seed=0)
    info = rec._catalogue(catalogue, matrix.products)
    rows = np.arange(40)
    out = rec._rank(model, backup, matrix, rows, 5, info, rec._Explainer(matrix, info, model.name))
    outside = out["model"].str.contains("outside the Surprise SVD sample")
    assert outside.any() and (~outside).any()
    assert set(out.loc[outside, "customer_id"]) == set(matrix.customers[rows][~model.known_[rows]])


def test_knn_scores_all_products_exactly_as_surprise_estimates_each_pair(shop):
    interactions, _ = shop
    matrix = PurchaseMatrix(clean_interactions(interactions))
    model = KNNModel(max_ratings=20_000).fit(matrix, seed=0)
    rows = np.arange(0, len(matrix.customers), 50)
    scores = model.score(matrix, rows)
    items = model._inner_items(matrix)
    checked = 0
    for r, row in enumerate(rows):
        user = model._inner_user(matrix.customers[row])
        if user < 0:
            assert np.isneginf(scores[r]).all()
            continue
        for j in np.flatnonzero(items >= 0)[::7]:
            estimate = model.algo_.estimate(user, int(items[j]))
            assert scores[r, j] == pytest.approx(estimate[0] if isinstance(estimate, tuple) else estimate, abs=1e-9)
            checked += 1
    assert checked > 100


def test_large_catalogues_take_the_sparse_path_with_the_same_answers(shop, monkeypatch):
    interactions, catalogue = shop
    few = interactions[interactions["customer_id"].isin(interactions["customer_id"].unique()[:120])]
    dense = rec.recommend(few, catalogue, seed=0)
    monkeypatch.setattr(rec, "DENSE_CELLS", 100)  # as if the catalogue were too big for dense matrices
    sparse_ = rec.recommend(few, catalogue, seed=0)
    pd.testing.assert_frame_equal(dense.items, sparse_.items, check_exact=False, atol=1e-6)
    assert dense.model == sparse_.model
