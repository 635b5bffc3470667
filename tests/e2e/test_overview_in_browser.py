"""The Overview in a real browser against the local stack: the demo company's key figures equal the Explore API's
answers (values and both comparisons), the trend shows history, forecast bands and unusual days, insights link to
their pages, the period picker drives the URL and the cards, saved card choices apply, and a company without sales
sees one friendly pointer to the Data page."""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.e2e.portal import axe_violations, call, log_in, open_signed_in, screenshots, settle

pytestmark = pytest.mark.e2e

PAGES = {"overview.html", "explore.html", "forecasts.html", "customers.html", "products.html",
         "recommendations.html", "data.html", "settings.html"}
DEFAULT_CARDS = ["revenue", "orders", "aov", "customers", "repeat_rate", "conversion"]
PASSWORD = "Str0ng-Enough-Pass!"
CARDS_JS = """cards => cards.map(card => ({
    measure: card.dataset.measure, value: card.dataset.value, pinned: card.dataset.pinned === "true",
    text: card.querySelector(".kpi-value").textContent, pin: card.querySelector(".kpi-pin")?.textContent || "",
    help: Boolean(card.querySelector(".metric-help .help-button")), link: card.querySelector(".kpi-value").href,
    sparkline: Boolean(card.querySelector(".sparkline svg path")),
    deltas: [...card.querySelectorAll(".kpi-delta")]
        .map(pill => ({mode: pill.dataset.compare, text: pill.textContent})),
}))"""


def open_overview(page: Any, stack: Any, tokens: dict[str, Any], path: str = "overview.html") -> Any:
    console = open_signed_in(page, stack, path, tokens)
    settle(page)
    return console


def expected_cards(prefs: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    available = {measure["name"] for measure in fields["measures"]}
    saved = prefs.get("overview_cards") or [{"card": name} for name in DEFAULT_CARDS]
    shown = [item for item in saved if not item.get("hidden") and item["card"] in available]
    return [item["card"] for item in shown if item.get("pinned")] + \
           [item["card"] for item in shown if not item.get("pinned")]


def shown_percent(text: str) -> float:
    match = re.search(r"([+\-\u2212]?)(\d+(?:\.\d+)?)\s*%", text)
    assert match, f"no percentage in {text!r}"
    return (-1 if match.group(1) in "-\u2212" and match.group(1) else 1) * float(match.group(2))


def assert_delta(text: str, row: dict[str, Any], measure: str) -> None:
    change = row.get(f"{measure}_change_pct")
    if change is None:
        assert re.search(r"new|no change|no sales then", text), (measure, text)
        return
    digits = 1 if abs(change) < 0.1 else 0
    shown = shown_percent(text)
    assert abs(shown - change * 100) <= 0.5 * 10 ** -digits + 1e-9, (measure, text, change)
    if round(change * 100, digits):
        assert (shown > 0) == (change > 0), (measure, text, change)


def assert_cards_match_api(page: Any, stack: Any, token: str, range_: str, measures: list[str]) -> None:
    base = {"measures": measures, "date": {"preset": range_}}
    previous = call(stack, "POST", "/explore", {**base, "compare": {"mode": "previous_period"}}, token)["rows"][0]
    last_year = call(stack, "POST", "/explore", {**base, "compare": {"mode": "previous_year"}}, token)["rows"][0]
    cards = page.eval_on_selector_all(".kpi-card", CARDS_JS)
    assert [card["measure"] for card in cards] == measures
    for card in cards:
        measure = card["measure"]
        assert float(card["value"]) == pytest.approx(previous[measure]), measure
        assert re.search(r"\d", card["text"]), card
        assert card["help"] and card["sparkline"], card
        assert "explore.html?" in card["link"] and f"m={measure}" in card["link"] and f"range={range_}" in card["link"]
        deltas = {pill["mode"]: pill["text"] for pill in card["deltas"]}
        assert "vs last year" in deltas["previous_year"]
        assert_delta(deltas["previous_period"], previous, measure)
        assert_delta(deltas["previous_year"], last_year, measure)


def test_overview_shows_cards_trend_and_insights_from_the_api(page, stack, demo_owner):
    tokens = demo_owner
    token = tokens["access_token"]
    prefs = call(stack, "GET", "/me/preferences", token=token)
    fields = call(stack, "GET", "/explore/fields", token=token)
    console = open_overview(page, stack, tokens)

    range_ = prefs["default_range"]
    assert page.input_value("#range") == range_
    measures = expected_cards(prefs, fields)
    assert "conversion" not in measures  # the demo has no traffic data, so no conversion card
    assert_cards_match_api(page, stack, token, range_, measures)
    if range_ == "last_90_days":
        assert "vs previous 90 days" in page.text_content(".kpi-card .kpi-delta[data-compare='previous_period']")
    assert re.search(r"\d{4}", page.text_content("#range-dates"))

    # the trend: history, forecast and both bands drawn; unusual days listed with links into Explore
    assert page.locator("#trend-chart svg path").count() > 10
    legend = page.text_content("#trend-chart svg")
    for name in ("Actual revenue", "Forecast", "80% range", "95% range"):
        assert name in legend
    forecast = call(stack, "GET", "/results/forecast?limit=1", token=token)
    assert forecast["meta"]["accuracy"] in page.text_content("#trend-caption")
    anomalies = call(stack, "GET", "/results/anomalies?limit=50", token=token)
    items = page.locator(".anomaly-list li")
    assert items.count() == min(8, anomalies["total"]) > 0
    first = items.first.locator("a").get_attribute("href")
    day = max(row["date"] for row in anomalies["rows"])[:10]
    assert first.startswith("explore.html?") and "d=category" in first
    assert f"from={day}" in first and f"to={day}" in first

    # insights: sentences, each with a link to a page of the portal
    links = page.eval_on_selector_all("#insights li a", "links => links.map(a => a.getAttribute('href'))")
    assert len(links) >= 5
    for href in links:
        assert href.split("?")[0].split("#")[0] in PAGES, href
    assert page.locator("#insights li").first.locator("p").text_content().strip()

    assert axe_violations(page) == []
    screenshots(page, "overview")
    console.assert_clean()


def test_changing_the_period_updates_the_url_and_the_cards(page, stack, demo_owner):
    tokens = demo_owner
    token = tokens["access_token"]
    prefs = call(stack, "GET", "/me/preferences", token=token)
    fields = call(stack, "GET", "/explore/fields", token=token)
    console = open_overview(page, stack, tokens, "overview.html?range=year_to_date")
    assert page.input_value("#range") == "year_to_date"
    before = page.get_attribute(".kpi-card", "data-value")

    page.select_option("#range", "last_30_days")
    page.wait_for_url(re.compile(r"/overview\.html\?range=last_30_days$"))
    settle(page)
    assert page.get_attribute(".kpi-card", "data-value") != before
    assert_cards_match_api(page, stack, token, "last_30_days", expected_cards(prefs, fields))
    assert "vs previous 30 days" in page.text_content(".kpi-delta[data-compare='previous_period']")
    console.assert_clean()


def test_saved_card_choices_order_pin_and_hide_the_cards(page, stack, demo_owner):
    tokens = demo_owner
    token = tokens["access_token"]
    saved = call(stack, "GET", "/me/preferences", token=token)
    cards = [{"card": "revenue", "hidden": True, "pinned": False},
             {"card": "orders", "hidden": False, "pinned": False},
             {"card": "units", "hidden": False, "pinned": True},
             {"card": "conversion", "hidden": False, "pinned": True},
             {"card": "aov", "hidden": False, "pinned": False}]
    call(stack, "PUT", "/me/preferences", {**saved, "overview_cards": cards}, token)
    try:
        console = open_overview(page, stack, tokens)
        shown = page.eval_on_selector_all(".kpi-card", CARDS_JS)
        names = [card["measure"] for card in shown]
        # pinned first (conversion skipped: no traffic data), hidden revenue left out, then the saved order
        assert names[:3] == ["units", "orders", "aov"]
        assert "revenue" not in names and "conversion" not in names
        assert shown[0]["pinned"] and "Pinned" in shown[0]["pin"]
        assert not any(card["pinned"] for card in shown[1:3])
        assert page.get_attribute("#customise-cards", "href") == "settings.html#cards"
        console.assert_clean()
    finally:
        call(stack, "PUT", "/me/preferences", saved, token)


def test_a_company_without_sales_sees_one_pointer_to_the_data_page(page, stack):
    email = f"overview-{uuid.uuid4().hex[:8]}@shop.example"
    call(stack, "POST", "/auth/signup", {"name": "Nora New", "email": email, "password": PASSWORD,
                                         "company": "Nora's Nursery"})
    call(stack, "POST", "/auth/confirm", {"email": email, "code": "123456"})
    tokens = log_in(stack, email, PASSWORD)
    console = open_overview(page, stack, tokens)

    assert page.is_visible("#no-data .empty-state")
    assert "Upload sales to see your dashboard" in page.text_content("#no-data")
    assert page.get_attribute("#no-data a", "href") == "data.html"
    assert page.is_hidden("#overview") and page.is_hidden("#page-error")
    assert page.locator("[role=alert]:visible").count() == 0
    assert axe_violations(page) == []
    screenshots(page, "overview-empty")
    console.assert_clean()
