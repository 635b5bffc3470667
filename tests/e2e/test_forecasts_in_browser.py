"""The Forecasts page in a real browser against the local stack: a shop owner picks a series and reads where its
sales are heading, which model made the forecast and how sure it is, how the previous forecast did (on a first run,
why there is nothing to check yet), and the trend and seasonal patterns."""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.portal import axe_violations, call, open_signed_in, screenshots, settle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(stack, demo_owner) -> dict[str, Any]:
    tokens = demo_owner
    token = tokens["access_token"]
    return {"tokens": tokens, "forecast": call(stack, "GET", "/results/forecast?limit=5000", token=token),
            "results": call(stack, "GET", "/results", token=token)}


def open_forecasts(page: Any, stack: Any, tokens: dict[str, Any], path: str = "forecasts.html"):
    console = open_signed_in(page, stack, path, tokens)
    settle(page)
    page.wait_for_selector("#forecast-chart svg")
    return console


def test_pick_a_series_and_read_its_forecast(page, stack, demo):
    console = open_forecasts(page, stack, demo["tokens"])
    series = demo["forecast"]["meta"]["series"]
    buttons = page.locator("#series-picker button")
    assert buttons.count() == len(series)
    assert buttons.first.get_attribute("aria-pressed") == "true"

    headline = page.text_content("#forecast-headline")
    assert headline.startswith("Sales are forecast to") and "over the next 12 weeks" in headline
    assert "in the last 12" in headline
    assert series[0]["accuracy"] in page.text_content("#forecast-model")
    chosen = page.locator("#forecast-models tr[data-chosen='true']")
    assert chosen.count() == 1 and series[0]["model_label"] in chosen.text_content()
    assert page.locator("#forecast-models tbody tr").count() > 1
    assert "below 1 = better than repeating last season" in page.text_content("#forecast-models thead")

    other = next(s for s in series if s["dimension"] == "category")
    label_before = page.get_attribute("#forecast-chart", "aria-label")
    page.click(f"#series-picker button[data-series='category:{other['value']}']")
    page.wait_for_selector(f"#forecast-chart[data-series='category:{other['value']}']")
    settle(page)
    assert other["value"] in page.text_content("#forecast-headline")
    assert page.text_content("#forecast-headline") != headline
    assert page.get_attribute("#forecast-chart", "aria-label") != label_before
    assert page.locator("#forecast-models tr[data-chosen='true']").count() == 1
    assert other["model_label"] in page.text_content("#forecast-models tr[data-chosen='true']")
    assert f"series=category%3A{other['value']}" in page.url or f"series=category:{other['value']}" in page.url

    # the decomposition: three stacked charts and the weekday bars
    assert page.locator("#decomposition-charts .chart svg").count() == 3
    assert page.text_content("#decomposition-summary").startswith("The underlying trend")
    assert "Saturday" in page.text_content("#decomposition-area")

    # a first run has no earlier forecast to check: the run's own reason shows
    reason = next(s["reason"] for s in demo["results"]["skipped"] if s["step"] == "forecast_accuracy")
    assert reason in page.text_content("#accuracy-area .skipped")

    assert axe_violations(page) == []
    screenshots(page, "forecasts", ready=lambda p: p.wait_for_selector("#forecast-chart svg"))
    console.assert_clean()


def test_a_later_run_compares_the_previous_forecast_with_what_sold(page, stack, demo):
    """The forecast_accuracy artifact as a later run writes it (faked here: the demo has one run)."""
    rows = [r for r in demo["forecast"]["rows"] if r["dimension"] == "total"][:3]
    table = [{"date": r["date"], "forecast": r["forecast"], "actual": r["forecast"] * 1.1,
              "error": r["forecast"] * 0.1, "error_pct": 0.0909} for r in rows]
    meta = {"compared": 3, "mape": 0.0909, "bias": 0.0909, "within_80": 3, "within_95": 3, "freq": "W",
            "previous_run_id": demo["results"]["run"]["run_id"],
            "message": "The last forecast was off by 9% on average over the 3 period(s) that have happened."}
    summary = {**demo["results"], "artifacts": [*demo["results"]["artifacts"],
                                                {"artifact": "forecast_accuracy", "rows": 3, "bytes": 1}]}

    def fulfil(body: Any):
        return lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(body),
                                           headers={"Access-Control-Allow-Origin": "*"})

    page.route(f"{stack.api}/results", fulfil(summary))
    page.route(f"{stack.api}/results/forecast_accuracy?*", fulfil(
        {"artifact": "forecast_accuracy", "run_id": "r1", "meta": meta, "total": 3, "offset": 0, "limit": 5000,
         "columns": ["date", "forecast", "actual", "error", "error_pct"], "types": {}, "rows": table}))
    console = open_forecasts(page, stack, demo["tokens"])
    page.wait_for_selector("#accuracy-chart svg")
    assert page.text_content("#accuracy-summary") == meta["message"]
    assert page.locator("#accuracy-table tbody tr").count() == 3
    assert "Yes" in page.text_content("#accuracy-table tbody")  # 10 % above the forecast is inside its 80 % range
    assert axe_violations(page) == []
    console.assert_clean()
