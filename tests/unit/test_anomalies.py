"""Anomaly detection finds the days planted in the sample data (through daily.sql) and explains them."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from chalicelib.analytics.anomalies import ANOMALY_COLUMNS, detect, explain
from chalicelib.query.aggregates import sql
from chalicelib.samples import retail, truth

ALL_TIME = {"start": None, "end": None}


@pytest.fixture(scope="module", params=[7, 3])
def shop(request):
    """A mid-sized shop (~270 order lines a day): its daily totals, its breakdown and what was planted."""
    sales = pd.concat(list(retail(seed=request.param, target_rows=200_000)), ignore_index=True)
    con = duckdb.connect(":memory:")
    con.register("transactions", sales)
    daily = con.execute(sql("daily"), ALL_TIME).df()
    breakdown = con.execute(sql("daily_by_dimension"), ALL_TIME).df()
    con.close()
    return daily.set_index("date")["revenue"], breakdown, truth(seed=request.param)


def test_planted_anomalies_found_with_precision_and_recall(shop):
    revenue, _, planted = shop
    found = detect(revenue)
    assert list(found.columns) == ANOMALY_COLUMNS
    expected = {pd.Timestamp(a.date): a.direction for a in planted.anomalies}
    hits = [d for d in found["date"] if d in expected]
    precision, recall = len(hits) / max(len(found), 1), len(hits) / len(expected)
    print(f"\nanomalies: precision {precision:.2f}, recall {recall:.2f} ({len(found)} flagged)")
    assert precision >= 0.8 and recall >= 0.8
    for row in found[found["date"].isin(expected)].itertuples():
        assert row.direction == expected[row.date]
        assert row.severity in {"low", "medium", "high"}
        assert (row.actual > row.expected) == (row.direction == "up")
        assert row.description.startswith("Sales on the")


def test_explanation_names_the_promoted_category(shop):
    _, breakdown, planted = shop
    promotions = [a for a in planted.anomalies if a.dimension == "category"]
    result = explain([a.date for a in promotions], breakdown)
    for anomaly in promotions:
        top = result[(result["date"] == pd.Timestamp(anomaly.date)) & (result["dimension"] == "category")]
        assert top.iloc[0]["value"] == anomaly.value
        assert top.iloc[0]["share_of_change"] > 0.5
        assert anomaly.value in top.iloc[0]["description"]


def test_outage_explained_as_a_fall():
    dates = pd.date_range("2024-01-01", periods=70)
    rows = [{"date": d, "dimension": "region", "value": region, "revenue": 100.0 * (0.1 if d == dates[35] else 1)}
            for d in dates for region in ("North", "South")]
    result = explain([dates[35]], pd.DataFrame(rows))
    assert set(result["value"]) == {"North", "South"} and (result["change"] < 0).all()
    assert np.isclose(result["share_of_change"].sum(), 1.0)


def test_short_flat_or_empty_series_give_no_anomalies():
    assert detect(pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2024-01-01", periods=3))).empty
    assert detect(pd.Series(5.0, index=pd.date_range("2024-01-01", periods=60))).empty
    assert explain([pd.Timestamp("2024-01-01")], pd.DataFrame(columns=["date", "dimension", "value", "revenue"])).empty
