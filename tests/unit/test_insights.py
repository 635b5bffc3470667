"""Insights: the most important findings, in sentences, each pointing at its artifact and ranked by score."""
from __future__ import annotations

import numpy as np
import pandas as pd

from chalicelib.analytics.insights import INSIGHT_COLUMNS, change_drivers, generate

CURRENT = (pd.Timestamp("2025-06-01"), pd.Timestamp("2025-07-01"))
PREVIOUS = (pd.Timestamp("2025-05-02"), pd.Timestamp("2025-06-01"))


def _breakdown() -> pd.DataFrame:
    rows = []
    for day in pd.date_range("2025-05-02", "2025-06-30"):
        now = day >= CURRENT[0]
        for dimension, value, revenue in (("category", "Bikes", 200 if now else 100), ("category", "Apparel", 50),
                                          ("region", "North", 180 if now else 90), ("region", "South", 70 if now
                                                                                     else 60)):
            rows.append({"date": day, "dimension": dimension, "value": value, "revenue": float(revenue)})
    return pd.DataFrame(rows)


def _kpis(change: float = 0.12) -> tuple[pd.DataFrame, dict]:
    frame = pd.DataFrame([{"kpi": "revenue", "label": "Revenue", "value": 112_000.0 * (1 + change) / 1.12,
                           "previous": 100_000.0, "change_vs_previous": change, "last_year": None,
                           "change_vs_last_year": np.nan}])
    drivers = change_drivers(_breakdown(), CURRENT, PREVIOUS)
    return frame, {"period_days": 30, "drivers": drivers.to_dict("records"), "pareto_share": 0.7}


def _results() -> dict:
    profile = pd.DataFrame({"segment": ["High Spenders", "Regulars", "Lapsed"], "customers": [50, 300, 150],
                            "share": [0.1, 0.6, 0.3], "total_spend": [60_000.0, 30_000.0, 10_000.0],
                            "top_category": ["Bikes", "Apparel", None]})
    rules = pd.DataFrame({"lift": [20.0, 6.0], "support": [0.001, 0.05], "baskets": [3, 400],
                          "rule": ["Customers who buy A and B also buy C 20.0× more often than average",
                                   "Customers who buy Road Bike also buy Helmet 6.0× more often than average"]})
    return {
        "kpis": _kpis(),
        "segments": (pd.DataFrame({"customer_id": ["c1"]}), {"profile": profile.to_dict("records")}),
        "basket_rules": (rules, {}),
        "churn": (pd.DataFrame({"customer_id": ["c1"]}),
                  {"high_risk_active": 40, "active_customers": 400, "revenue_at_risk": 12_345.0,
                   "best_model": "Random forest", "roc_auc": 0.81}),
        "forecast": (pd.DataFrame({"forecast": [1.0]}),
                     {"change_vs_recent": -0.05, "horizon": 12, "unit": "week", "forecast_total": 95_000.0,
                      "recent_total": 100_000.0, "accuracy": "Theta was the most accurate on your past data."}),
        "forecast_accuracy": (pd.DataFrame(), {"message": "The last forecast was off by 6% on average."}),
        "decomposition": (pd.DataFrame(), {"weekday_pattern": [{"weekday": "Saturday", "effect": 0.4},
                                                               {"weekday": "Sunday", "effect": -0.25}]}),
    }


def test_change_drivers_rank_what_moved_with_the_total() -> None:
    drivers = change_drivers(_breakdown(), CURRENT, PREVIOUS)
    category = drivers[drivers["dimension"] == "category"].reset_index(drop=True)
    assert category.loc[0, "value"] == "Bikes" and category.loc[0, "change"] == 30 * 100
    assert category.loc[0, "share_of_change"] == 1.0 and category.loc[1, "change"] == 0
    region = drivers[drivers["dimension"] == "region"].reset_index(drop=True)
    assert list(region["value"]) == ["North", "South"]
    assert np.isclose(region["share_of_change"].sum(), 1.0) and region.loc[0, "change_pct"] == 1.0


def test_findings_are_sentences_ranked_by_score_and_point_at_their_artifacts() -> None:
    frame = generate(_results())
    assert list(frame.columns) == INSIGHT_COLUMNS
    assert 5 <= len(frame) <= 10
    assert list(frame["rank"]) == list(range(1, len(frame) + 1))
    assert frame["score"].is_monotonic_decreasing
    by_kind = frame.set_index("kind")
    assert by_kind.loc["revenue_change", "text"] == ("Revenue rose 12% vs the previous 30 days (112,000 against "
                                                     "100,000), mostly from Bikes in the North region.")
    assert by_kind.loc["revenue_change", "artifact"] == "kpis"
    assert by_kind.loc["segment", "text"].startswith("High Spenders are 10% of customers but bring 60% of revenue")
    assert "The largest group is Regulars" in by_kind.loc["segment", "text"]
    assert by_kind.loc["churn", "text"].startswith("40 active customers are at high risk of leaving")
    assert "12,345" in by_kind.loc["churn", "text"]
    forecast = by_kind.loc["forecast", "text"]
    assert forecast.startswith("Sales are forecast to fall 5% over the next 12 weeks")
    assert "Theta was the most accurate" in forecast and "off by 6%" in forecast
    assert "Road Bike" in by_kind.loc["basket_rule", "text"]  # well-supported beats a rare triple
    assert by_kind.loc["seasonality", "text"].startswith("Saturday is your busiest day (+40%")
    assert set(frame["artifact"]) <= set(_results())


def test_a_bigger_move_ranks_higher_and_limit_keeps_the_best() -> None:
    calm, stormy = _results(), _results()
    calm["kpis"], stormy["kpis"] = _kpis(0.01), _kpis(-0.3)
    calm_rank = generate(calm).set_index("kind").loc["revenue_change", "rank"]
    stormy_rank = generate(stormy).set_index("kind").loc["revenue_change", "rank"]
    assert stormy_rank < calm_rank
    assert generate(stormy).set_index("kind").loc["revenue_change", "text"].startswith("Revenue fell 30%")
    top = generate(stormy, limit=3)
    assert len(top) == 3 and list(top["kind"]) == list(generate(stormy)["kind"].head(3))


def test_missing_and_empty_artifacts_give_no_findings() -> None:
    assert generate({}).empty and list(generate({}).columns) == INSIGHT_COLUMNS
    empty = {name: (pd.DataFrame(), {}) for name in ("kpis", "anomalies", "forecast", "churn", "basket_rules",
                                                       "leads", "segments", "rfm", "recommendations")}
    assert generate(empty).empty


def test_anomalies_and_leads_name_what_to_act_on() -> None:
    anomalies = pd.DataFrame({"date": pd.to_datetime(["2025-03-02", "2025-06-20"]), "z_score": [12.0, 5.0],
                              "description": ["Old spike.", "Sales on Fri 20 Jun 2025 were 40,000, 30,000 above."],
                              "top_value": ["Camping", "Bikes"], "top_dimension": ["category", "category"],
                              "top_share": [0.5, 0.8]})
    leads = pd.DataFrame({"kind": ["cross_sell"] * 3 + ["cross_sell"], "target": ["Bikes"] * 3 + ["Camping"],
                          "rank": [1, 2, 3, 1], "customer_id": ["c9", "c4", "c7", "c1"], "prospect_id": None,
                          "reason": "Buys like Bikes buyers"})
    results = {"anomalies": (anomalies, {"last_day": "2025-06-30"}),
               "leads": (leads, {"quality": {"cross_sell: Bikes AUC": 0.82, "cross_sell: Camping AUC": 0.6}})}
    by_kind = generate(results).set_index("kind")
    anomaly = by_kind.loc["anomaly", "text"]
    assert anomaly.startswith("Sales on Fri 20 Jun 2025")  # the recent one, not the bigger one months ago
    assert "Bikes (category) made 80% of the difference" in anomaly and "2 unusual days" in anomaly
    assert by_kind.loc["cross_sell", "text"].startswith("Cross-sell Bikes: 3 customers")
    assert by_kind.loc["cross_sell", "text"].endswith("start with c9, c4, c7.")
