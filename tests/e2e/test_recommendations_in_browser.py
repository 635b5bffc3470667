"""The Recommendations & leads page in a real browser: a customer picked in the combobox gets the recommender's
products in rank order with reasons, the lead lists switch by tab and download as CSV — at three screen sizes,
axe-clean, console-clean."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import portal

pytestmark = pytest.mark.e2e

CUSTOMER = "C000001"


@pytest.fixture(scope="module")
def tokens(demo_owner: dict[str, Any]) -> dict[str, Any]:
    return demo_owner


def texts(page: Any, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "nodes => nodes.map(node => node.textContent.trim())")


def test_recommendations_and_leads(page: Any, stack: Any, tokens: dict[str, Any]) -> None:
    token = tokens["access_token"]
    console = portal.open_signed_in(page, stack, "recommendations.html", tokens)
    portal.settle(page)
    assert "Surprise SVD" in page.text_content("#recs-about")

    # pick a customer with the keyboard: the recommender's rows for them, in rank order, with reasons
    page.click("#customer")
    page.keyboard.type(CUSTOMER)
    page.wait_for_selector(f"#customer-field [role=option]:has-text('{CUSTOMER}')")
    assert page.get_attribute("#customer", "aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#customer", "aria-activedescendant")
    page.keyboard.press("Enter")
    page.wait_for_selector("#recs-table")
    recs = portal.call(stack, "GET", "/results/recommendations?limit=5000", token=token)["rows"]
    mine = sorted((row for row in recs if row["customer_id"] == CUSTOMER), key=lambda row: row["rank"])
    assert mine and len(mine) <= 5
    assert page.eval_on_selector_all("#recs-table tbody tr", "rows => rows.map(r => r.dataset.product)") == \
        [row["product_name"] for row in mine]
    assert texts(page, "#recs-table td.reason") == [row["reason"] for row in mine]
    assert page.text_content("#recs-heading") == f"What to offer {CUSTOMER}"
    assert "churn risk" in page.text_content(".churn-line")

    # the lead lists: one tab each, switching changes the table
    leads = portal.call(stack, "GET", "/results/leads?limit=5000", token=token)
    lists = leads["meta"]["lists"]
    assert "No prospects uploaded" in page.text_content("#leads-note")  # the step's reason, as a notice
    tabs = page.locator("[role=tab]")
    assert tabs.count() == len(lists) >= 2
    assert tabs.nth(0).get_attribute("aria-selected") == "true"
    first = texts(page, ".leads-table tbody th")
    expected = [row["customer_id"] for row in leads["rows"]
                if row["kind"] == lists[0]["kind"] and row["target"] == lists[0]["target"]]
    assert first == expected[:25]
    tabs.nth(0).focus()
    page.keyboard.press("ArrowRight")  # the tab list follows the arrow keys
    assert tabs.nth(1).get_attribute("aria-selected") == "true"
    assert page.get_attribute(".leads-table", "data-list") == f"{lists[1]['kind']}:{lists[1]['target']}"
    assert texts(page, ".leads-table tbody th") != first

    # this list as CSV: a header and one line per lead of the list
    with page.expect_download() as download:
        page.click("#download-list")
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(saved)))
    assert table[0][:4] == ["Rank", "Customer", "Score", "Why"]
    assert len(table) - 1 == lists[1]["leads"]
    page.click("#more-leads")
    assert len(texts(page, ".leads-table tbody tr")) == min(50, lists[1]["leads"])

    # every lead, as the API writes it
    with page.expect_download() as download:
        page.click("#download-leads")
    assert len(list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))) - 1 == leads["total"]

    assert portal.axe_violations(page) == []
    page.evaluate("window.scrollTo(0, 0)")
    portal.screenshots(page, "recommendations", ready=portal.settle)
    console.assert_clean()
