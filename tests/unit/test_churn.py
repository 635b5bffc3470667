"""Churn: planted churners get the highest risk, four models are compared fairly, thin data is skipped."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from chalicelib.analytics.churn import METRICS, ChurnCutoffs, churn_cutoffs, churn_risk, compare_models
from chalicelib.query.aggregates import sql
from chalicelib.samples.generator import retail, truth

SEED = 7
WINDOW = 90


@pytest.fixture(scope="module")
def labelled():
    sales = pd.concat(list(retail(SEED)), ignore_index=True)
    con = duckdb.connect()
    con.register("transactions", sales)
    cutoffs = churn_cutoffs(sales["ts"].min(), sales["ts"].max(), WINDOW)
    assert isinstance(cutoffs, ChurnCutoffs)
    rows = {name: con.execute(sql("churn_labels"), {"cutoff": getattr(cutoffs, name), "window_days": WINDOW}).df()
            for name in ("train", "test", "score")}
    return sales, cutoffs, rows


def test_labels_follow_the_window(labelled):
    sales, cutoffs, rows = labelled
    test = rows["test"].set_index("customer_id")
    after = sales[(sales["ts"] > cutoffs.test) & (sales["ts"] <= cutoffs.test + pd.Timedelta(days=WINDOW))
                  & ~sales["is_return"]]
    came_back = set(after["customer_id"].astype(str))
    assert set(test.index[test["churned"] == 0]) == came_back & set(test.index)
    assert bool(test["label_complete"].all()) and not bool(rows["score"]["label_complete"].any())
    assert cutoffs.train < cutoffs.test < cutoffs.score


def test_planted_churners_score_highest(labelled):
    _, _, rows = labelled
    result = churn_risk(rows["train"], rows["test"], rows["score"], seed=0, window_days=WINDOW)
    assert result.ok, result.skipped
    table = result.models
    assert len(table) == 4 and set(METRICS) <= set(table.columns)
    assert set(table["model"]) == {"Logistic regression", "Naive Bayes", "Random forest", "Gradient boosting"}
    assert table[list(METRICS)].notna().all().all()
    assert result.best_model == table.loc[table["roc_auc"].idxmax(), "model"]
    assert table["roc_auc"].max() >= 0.75
    scores = result.scores
    churners = truth(SEED).churners
    auc = roc_auc_score(scores["customer_id"].isin(churners), scores["churn_probability"])
    assert auc >= 0.75, f"AUC on planted churners {auc:.3f}"
    assert scores["churn_probability"].between(0, 1).all()
    top = scores.iloc[0]
    assert top["risk"] == "high" and top["driver_1"]
    assert any(word in top["drivers"] for word in ("no purchase for", "orders fell", "no orders in"))


def _rows(n: int, churned: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "recency_days": rng.integers(0, 200, n),
                         "tenure_days": 300, "orders": rng.integers(1, 9, n), "monetary": 100.0, "aov": 20.0,
                         "returned": 0.0, "distinct_products": 3, "distinct_categories": 2, "orders_recent": 1,
                         "orders_prior": 2, "spend_recent": 10.0, "spend_prior": 20.0, "avg_days_between": 30.0,
                         "churned": churned, "label_complete": True})


@pytest.mark.parametrize(("train", "needle"), [
    (None, "No customers"),
    (_rows(1, np.array([1])), "Only 1 customers"),
    (_rows(100, np.zeros(100, int)), "0 customers left"),
    (_rows(100, np.r_[np.ones(2, int), np.zeros(98, int)]), "2 customers left"),
    (_rows(100, np.ones(100, int)).assign(label_complete=False), "not known yet"),
])
def test_thin_or_one_sided_labels_are_skipped(train, needle):
    good = _rows(100, np.r_[np.ones(30, int), np.zeros(70, int)])
    result = churn_risk(train, good, good)
    assert not result.ok and needle in result.skipped and result.scores.empty
    table, reason = compare_models(good, train)
    assert table.empty and reason


def test_short_history_is_refused():
    reason = churn_cutoffs("2024-01-01", "2024-03-01", 90)
    assert isinstance(reason, str) and "days" in reason
