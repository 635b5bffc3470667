"""The Customers page in a real browser against the local stack: RFM groups and segments that add up to the
company's customers, the customers most likely to leave first (filterable, paged, downloadable), the churn models
compared, the cohort retention heatmap — and, for a company whose sales have no customer ids, what to upload."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.portal import axe_violations, call, open_signed_in, screenshots, settle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(stack, demo_owner) -> dict[str, Any]:
    tokens = demo_owner
    token = tokens["access_token"]
    return {"tokens": tokens, "churn": call(stack, "GET", "/results/churn?limit=5000", token=token),
            "rfm": call(stack, "GET", "/results/rfm?limit=1", token=token),
            "results": call(stack, "GET", "/results", token=token),
            "fields": call(stack, "GET", "/explore/fields", token=token)}


def open_customers(page: Any, stack: Any, tokens: dict[str, Any]):
    console = open_signed_in(page, stack, "customers.html", tokens)
    settle(page)
    return console


def percents(page: Any) -> list[int]:
    cells = page.locator("#churn-table tbody tr td:nth-child(3)").all_text_contents()
    return [int(re.sub(r"\D", "", cell)) for cell in cells]


def test_groups_risk_list_models_and_cohorts(page, stack, demo):
    console = open_customers(page, stack, demo["tokens"])
    meta = demo["churn"]["meta"]

    # RFM groups add up to every customer the churn model scored; each links to Explore filtered on it
    assert int(page.get_attribute("#rfm-total", "data-total")) == meta["customers"] == demo["rfm"]["total"]
    page.wait_for_selector("#rfm-treemap svg")
    first_group = page.locator("#rfm-table tbody tr th a").first
    assert "f.rfm_group=" in first_group.get_attribute("href")
    assert page.locator("#segment-cards .segment-card").count() == len(
        call(stack, "GET", "/results/segments?limit=1", token=demo["tokens"]["access_token"])["meta"]["profile"])
    assert "f.segment=" in page.get_attribute("#segment-cards a", "href")

    # the churn list: customers who still buy first, the likeliest to leave at the top, 20 at a time
    active = [row for row in demo["churn"]["rows"] if row["active"]]
    top = max(row["churn_probability"] for row in active)
    shown = percents(page)
    assert len(shown) == 20
    assert shown[0] == round(top * 100) and shown == sorted(shown, reverse=True)
    assert str(meta["high_risk_active"]) in page.text_content("#churn-headline")
    page.click("#churn-more")
    assert page.locator("#churn-table tbody tr").count() == 40

    page.select_option("#risk-filter", "high")
    high = sum(1 for row in demo["churn"]["rows"] if row["risk"] == "high")
    rows = page.locator("#churn-table tbody tr")
    assert rows.count() == min(high, 20) < 40
    assert set(page.locator("#churn-table tbody .pill").all_text_contents()) == {"High"}
    assert f"of {high} customers at high risk" in page.text_content("#churn-status")

    with page.expect_download() as download_info:
        page.click("#churn-csv")
    download = download_info.value
    assert download.suggested_filename == "churn.csv"
    lines = open(download.path(), encoding="utf-8").read().strip().splitlines()
    assert "customer_id" in lines[0] and len(lines) == meta["customers"] + 1

    chosen = page.locator("#churn-models tr[data-chosen='true']")
    assert chosen.count() == 1 and meta["best_model"] in chosen.text_content()
    assert "coin toss" in page.text_content("#churn-models .metric-notes")

    # cohort retention, computed in the page from Explore
    page.wait_for_selector("#cohort-chart svg")
    assert "first purchase" in page.text_content("#cohort-caption")
    seconds = float(page.get_attribute("#cohort-chart", "data-seconds"))
    print(f"cohort heatmap loaded and drawn in {seconds:.2f} s")
    assert seconds < 10

    page.select_option("#risk-filter", "")
    assert axe_violations(page) == []
    screenshots(page, "customers", ready=lambda p: p.wait_for_selector("#cohort-chart svg"))
    console.assert_clean()


def test_without_customer_ids_the_page_says_what_to_upload(page, stack, demo):
    """A company whose sales carry no customer ids (faked answers: the demo has customers): every section says so."""
    reason = "RFM groups need customer ids: none of your sales has one."
    steps = {"rfm", "segments", "churn"}
    summary = {**demo["results"],
               "artifacts": [a for a in demo["results"]["artifacts"] if a["artifact"] not in steps],
               "skipped": [{"step": step, "reason": reason} for step in sorted(steps)]}
    fields = {**demo["fields"], "dimensions": [d for d in demo["fields"]["dimensions"]
                                               if d["name"] not in ("customer", "segment", "rfm_group")]}

    def fulfil(body: Any):
        return lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(body),
                                           headers={"Access-Control-Allow-Origin": "*"})

    page.route(f"{stack.api}/results", fulfil(summary))
    page.route(f"{stack.api}/explore/fields", fulfil(fields))
    console = open_customers(page, stack, demo["tokens"])
    for area in ("#rfm-area", "#segments-area", "#churn-area", "#cohort-area"):
        text = page.text_content(f"{area} .empty-state")
        assert "Upload sales with customer ids to see segments" in text
    assert reason in page.text_content("#rfm-area")
    assert page.is_hidden("#churn-csv")
    assert axe_violations(page) == []
    console.assert_clean()
