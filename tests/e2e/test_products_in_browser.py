"""The Products page in a real browser: the best sellers match POST /explore, the basket rules sort and filter,
and "frequently bought together" finds what goes with a tent — at three screen sizes, axe-clean, console-clean."""
from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import portal

pytestmark = pytest.mark.e2e

MEASURES = ["revenue", "units", "orders", "return_rate"]


@pytest.fixture(scope="module")
def tokens(demo_owner: dict[str, Any]) -> dict[str, Any]:
    return demo_owner


def cells(page: Any, selector: str, attribute: str | None = None) -> list[str]:
    script = (f"nodes => nodes.map(node => node.getAttribute({attribute!r}))" if attribute
              else "nodes => nodes.map(node => node.textContent.trim())")
    return page.eval_on_selector_all(selector, script)


def test_products_page(page: Any, stack: Any, tokens: dict[str, Any]) -> None:
    token = tokens["access_token"]
    console = portal.open_signed_in(page, stack, "products.html", tokens)
    portal.settle(page)

    # the best sellers are what POST /explore answers for the same question
    range_ = portal.call(stack, "GET", "/me/preferences", token=token).get("default_range", "last_90_days")
    assert page.input_value("#range") == range_
    body = {"measures": MEASURES, "dimensions": ["product"], "date": {"preset": range_},
            "compare": {"mode": "previous_period"}, "sort": [{"field": "revenue", "direction": "desc"}],
            "limit": 20, "other": True}
    answer = portal.call(stack, "POST", "/explore", body, token=token)
    expected = [row["product"].replace("(everything else)", "Everything else") for row in answer["rows"]]
    table = "#top-products .ranking-table"
    assert cells(page, f"{table} tbody th") == expected
    shown_revenue = [float(v) for v in cells(page, f"{table} td[data-measure=revenue]", "data-value")]
    assert shown_revenue == pytest.approx([row["revenue"] for row in answer["rows"]])
    assert len(cells(page, "#top-categories .ranking-table tbody tr")) >= 2
    assert "explore.html?" in page.get_attribute(f"{table} tbody th a", "href")
    assert "of revenue comes from the top" in page.text_content("#pareto")

    # basket rules: sorted by lift, the strongest first; the minimum lift narrows the table
    rules = portal.call(stack, "GET", "/results/basket_rules?limit=500", token=token)["rows"]
    page.click("#rules-table [data-sort=confidence]")
    assert page.get_attribute("#rules-table th:has([data-sort=confidence])", "aria-sort") == "descending"
    page.click("#rules-table [data-sort=lift]")
    assert page.get_attribute("#rules-table th:has([data-sort=lift])", "aria-sort") == "descending"
    lifts = [float(v) for v in cells(page, "#rules-table td[data-key=lift]", "data-value")]
    assert lifts[0] == max(rule["lift"] for rule in rules)
    assert lifts == sorted(lifts, reverse=True) and len(lifts) == min(25, len(rules))
    threshold = sorted(rule["lift"] for rule in rules)[len(rules) // 2]
    page.fill("#rule-min-lift", str(threshold))
    narrowed = [float(v) for v in cells(page, "#rules-table td[data-key=lift]", "data-value")]
    wanted = [rule for rule in rules if rule["lift"] >= threshold]
    assert len(narrowed) == min(25, len(wanted)) < len(rules) and min(narrowed) >= threshold
    assert f"of {len(wanted)}" in page.text_content(".rule-status")
    page.fill("#rule-min-lift", "")

    # frequently bought together, picked with the keyboard from the autocomplete
    page.click("#together-product")
    page.keyboard.type("Tent Cla")
    page.wait_for_selector("#together [role=option]:has-text('Tent Classic')")
    assert page.get_attribute("#together-product", "aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector(".together-list")
    together = page.text_content(".together-list")
    assert "Bought with Tent Classic: Sleeping Bag Aero" in together and "more often than chance" in together

    assert portal.axe_violations(page) == []
    page.evaluate("window.scrollTo(0, 0)")
    portal.screenshots(page, "products", ready=portal.settle)
    console.assert_clean()
