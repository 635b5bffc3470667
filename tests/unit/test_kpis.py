"""KPI cards: values, changes against the previous period and last year, sparklines and the Pareto share."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chalicelib.analytics.kpis import KPI_COLUMNS, compute, pareto_share, windows


def _daily(days: int = 800, visits: bool = False) -> pd.DataFrame:
    """Revenue 100 a day in the first year and 150 after; 10 orders, 25 units, 8 buyers (2 new) a day."""
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    frame = pd.DataFrame({"date": dates, "revenue": np.where(dates < "2024-01-01", 100.0, 150.0), "orders": 10,
                          "units": 25, "customers": 8, "new_customers": 2, "returning_customers": 6,
                          "returns": 5.0})
    if visits:
        frame["visits"] = 200
    return frame


def test_windows_for_last_n_days_and_for_a_month():
    spans = windows(pd.Timestamp("2024-03-31"), period_days=30)
    assert spans["current"] == (pd.Timestamp("2024-03-02"), pd.Timestamp("2024-04-01"))
    assert spans["previous"] == (pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-02"))
    assert spans["last_year"] == (pd.Timestamp("2023-03-02"), pd.Timestamp("2023-04-01"))
    month = windows(None, month="2024-03")
    assert month["current"] == (pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01"))
    assert month["previous"] == (pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01"))


def test_values_and_changes():
    report = compute(_daily(), end="2024-03-31", period_days=30)
    table = report.kpis.set_index("kpi")
    assert list(report.kpis.columns) == KPI_COLUMNS
    assert table.loc["revenue", "value"] == 4500 and table.loc["orders", "value"] == 300
    assert table.loc["aov", "value"] == 15 and table.loc["units_per_order", "value"] == 2.5
    assert table.loc["revenue", "change_vs_previous"] == 0
    assert table.loc["revenue", "change_vs_last_year"] == pytest.approx(0.5)
    assert table.loc["repeat_rate", "value"] == pytest.approx(0.75)
    assert table.loc["new_customers", "value"] == 60
    assert table.loc["return_rate", "value"] == pytest.approx(5 / 150)
    assert "conversion_rate" not in table.index
    assert table.loc["customers", "label"].startswith("Buying customers")  # approximate without window counts
    assert "up 50% on a year earlier" in report.summary


def test_exact_customers_from_window_counts_and_conversion():
    counts = pd.DataFrame({"customers": [120, 100, 90], "new_customers": [30, 25, 40],
                           "repeat_customers": [90, 70, 50]}, index=["current", "previous", "last_year"])
    report = compute(_daily(visits=True), end="2024-03-31", window_customers=counts)
    table = report.kpis.set_index("kpi")
    assert table.loc["customers", "label"] == "Unique customers"
    assert table.loc["customers", "change_vs_previous"] == pytest.approx(0.2)
    assert table.loc["revenue_per_customer", "value"] == pytest.approx(4500 / 120)
    assert table.loc["repeat_rate", "value"] == pytest.approx(0.75)
    assert table.loc["conversion_rate", "value"] == pytest.approx(10 / 200)


def test_calendar_month_and_missing_history():
    report = compute(_daily(days=90), month="2023-03")
    table = report.kpis.set_index("kpi")
    assert table.loc["revenue", "value"] == 3100
    assert np.isnan(table.loc["revenue", "change_vs_last_year"])  # no data a year earlier
    assert table.loc["revenue", "last_year"] is None or pd.isna(table.loc["revenue", "last_year"])
    assert "in March 2023" in report.summary and "year" not in report.summary


def test_sparkline_series_fills_missing_days():
    daily = _daily(days=60).drop(index=[50, 51])
    report = compute(daily, period_days=14)
    series = report.series
    assert len(series) == 14 and series["date"].is_monotonic_increasing
    assert (series.loc[series["date"] == daily["date"].max() - pd.Timedelta(days=8), "revenue"] == 0).all()
    assert series["aov"].isna().sum() == 2


def test_pareto_share_and_top_products():
    products = pd.DataFrame({"product_id": [f"p{i}" for i in range(10)],
                             "revenue": [500, 300, 50, 50, 40, 30, 20, 10, 0, -5]})
    assert pareto_share(products) == pytest.approx(800 / 1000)  # top 2 of the 8 that sold
    report = compute(_daily(days=40), products=products, top_n=3)
    assert report.pareto_share == pytest.approx(0.8)
    assert report.top_products["product_id"].tolist() == ["p0", "p1", "p2"]
    assert pareto_share(pd.DataFrame({"revenue": [0.0]})) is None


def test_no_sales_is_a_clear_error():
    with pytest.raises(ValueError, match="no sales"):
        compute(_daily(days=0))
