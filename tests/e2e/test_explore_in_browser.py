"""Explore in a real browser against the local stack: the table equals the API's answer, a bar click and the
table's links drill down to the order lines with breadcrumbs back, a bookmarked URL restores the same view, the
comparison adds columns, the CSV has the table's rows, a filter chip narrows the answer, time buckets open the
next finer period, and the API's message shows by the controls."""
from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.portal import axe_violations, call, open_signed_in, screenshots, settle

pytestmark = pytest.mark.e2e

START = "m=revenue&d=category&range=all&view=bar"
TOP = {"limit": 20, "other": True}
TABLE_JS = """() => [...document.querySelectorAll('.answer-table tbody tr')].map(
    tr => [...tr.querySelectorAll('th, td')].map(cell => cell.dataset.value))"""
ROWS_JS = """column => [...document.querySelectorAll(`.rows-table td[data-column="${column}"]`)]
    .map(td => td.textContent)"""
CRUMBS_JS = "() => [...document.querySelectorAll('nav.breadcrumbs ol li')].map(li => li.textContent.trim())"
# where ECharts drew a data point ([value, name] in a horizontal bar chart, [name, value] in a vertical one),
# asked of the page's own chart instance
PIXEL_JS = """async point => {
    const echarts = await import('/vendor/echarts.esm.min.js');
    const chart = echarts.getInstanceByDom(document.querySelector('#chart'));
    return chart.convertToPixel({seriesIndex: 0}, point);
}"""


@pytest.fixture(scope="module")
def owner(demo_owner: dict[str, Any]) -> dict[str, Any]:
    return demo_owner


def open_explore(page: Any, stack: Any, tokens: dict[str, Any], query: str) -> Any:
    console = open_signed_in(page, stack, f"explore.html?{query}", tokens)
    settle(page)
    return console


def ask(stack: Any, token: str, **body: Any) -> dict[str, Any]:
    return call(stack, "POST", "/explore", {"date": {"preset": "all"}, "filters": [], **body}, token=token)


def as_table(answer: dict[str, Any], columns: list[str]) -> list[list[Any]]:
    """The API's rows as the page's table should hold them: the first column's value, then the numbers."""
    return [[row[name] if i == 0 else pytest.approx(row[name]) for i, name in enumerate(columns)]
            for row in answer["rows"]]


def shown_table(page: Any) -> list[list[Any]]:
    """The table's raw values (data-value) row by row: the value, then its numbers."""
    return [[cells[0], *[float(cell) if cell else None for cell in cells[1:]]] for cells in page.evaluate(TABLE_JS)]


def top_screenshots(page: Any, name: str) -> None:
    page.evaluate("() => window.scrollTo(0, 0)")  # the sticky top bar stays at the top of a full-page shot
    screenshots(page, name)


def wait_title(page: Any, text: str) -> None:
    page.wait_for_function("text => document.querySelector('#answer-title').textContent === text", arg=text)
    settle(page)


def test_table_equals_the_api_and_drills_down_to_order_lines(page: Any, stack: Any, owner: dict[str, Any]) -> None:
    token = owner["access_token"]
    console = open_explore(page, stack, owner, START)
    sort = [{"field": "revenue", "direction": "desc"}]
    categories = ask(stack, token, measures=["revenue"], dimensions=["category"], sort=sort, **TOP)
    assert shown_table(page) == as_table(categories, ["category", "revenue"])
    assert page.locator(".answer-table tbody th").first.inner_text() == "Bikes"
    assert page.locator(".chart-caption").inner_text().startswith("Revenue was highest for Bikes")
    assert page.locator("#answer-meta").inner_text().count("order lines") == 1
    assert axe_violations(page) == []
    top_screenshots(page, "explore")

    # a click on the chart's Bikes bar (ECharts' onClick) opens the products of Bikes, once
    bikes = categories["rows"][0]
    entries = page.evaluate("() => history.length")
    x, y = page.evaluate(PIXEL_JS, [bikes["revenue"] / 2, "Bikes"])  # the middle of the Bikes bar
    box = page.locator("#chart").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    wait_title(page, "Revenue by product")
    query = parse_qs(urlparse(page.url).query)
    assert query["d"] == ["product"] and query["f.category"] == ["Bikes"] and query["drill"] == ["Bikes"]
    products = ask(stack, token, measures=["revenue"], dimensions=["product"], sort=sort,
                   filters=[{"field": "category", "op": "in", "values": ["Bikes"]}], **TOP)
    assert shown_table(page) == as_table(products, ["product", "revenue"])
    assert page.evaluate(CRUMBS_JS) == ["All sales", "Bikes"]
    assert page.evaluate("() => history.length") == entries + 1  # the click drilled once
    page.go_back()
    wait_title(page, "Revenue by category")

    # the same path by the table's links, down to the order lines
    page.locator(".answer-table").get_by_role("link", name="Bikes", exact=True).click()
    wait_title(page, "Revenue by product")
    top_product = products["rows"][0]["product"]
    page.locator(".answer-table").get_by_role("link", name=top_product, exact=True).click()
    page.wait_for_selector(".rows-table")
    settle(page)
    assert page.locator("#answer-title").inner_text() == f"Order lines: Bikes, {top_product}"
    assert set(page.evaluate(ROWS_JS, "category")) == {"Bikes"}
    assert set(page.evaluate(ROWS_JS, "product_name")) == {top_product}
    assert page.evaluate(CRUMBS_JS) == ["All sales", "Bikes", top_product, "Order lines"]
    lines = call(stack, "POST", "/explore/rows", {"date": {"preset": "all"}, "limit": 1, "filters": [
        {"field": "category", "op": "in", "values": ["Bikes"]},
        {"field": "product", "op": "in", "values": [top_product]}]}, token=token)
    assert page.locator("#rows-summary").inner_text().startswith("Showing 100 of")
    assert axe_violations(page) == []
    top_screenshots(page, "explore-drilldown")
    page.get_by_role("button", name="Load more").click()
    page.wait_for_function("() => document.querySelectorAll('.rows-table tbody tr').length === 200")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    exported = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert len(exported) == lines["total_rows"] and {row["category"] for row in exported} == {"Bikes"}

    # the first crumb goes back to all categories; Back returns to the order lines
    page.locator("nav.breadcrumbs").get_by_role("link", name="All sales").click()
    wait_title(page, "Revenue by category")
    assert shown_table(page) == as_table(categories, ["category", "revenue"])
    assert page.locator("nav.breadcrumbs").is_hidden()
    page.go_back()
    page.wait_for_selector(".rows-table")
    settle(page)
    assert len(page.evaluate(CRUMBS_JS)) == 4
    console.assert_clean()


def test_bookmark_compare_csv_and_filter_chip(page: Any, stack: Any, owner: dict[str, Any]) -> None:
    console = open_explore(page, stack, owner, START)
    before = {row[0]: row[1] for row in shown_table(page)}

    page.get_by_label("Orders", exact=True).check()
    wait_title(page, "Revenue and orders by category")
    page.get_by_label("Compare with").select_option("previous_year")
    page.wait_for_selector("th:has-text('Revenue, last year')")
    settle(page)
    headers = page.locator(".answer-table thead th").all_inner_texts()
    assert [text.replace("?", "").strip() for text in headers] == [
        "CATEGORY", "REVENUE", "REVENUE, LAST YEAR", "REVENUE CHANGE", "ORDERS", "ORDERS, LAST YEAR", "ORDERS CHANGE"]
    assert "Compared with the same dates last year" in page.locator("#answer-meta").inner_text()

    # a region chip picked from the suggestions narrows every category
    box = page.get_by_label("Region", exact=True)
    box.fill("nor")
    page.get_by_role("option", name="North").click()
    page.wait_for_selector(".chip:has-text('North')")
    settle(page)
    narrowed = {row[0]: row[1] for row in shown_table(page)}
    assert narrowed and all(narrowed[name] < before[name] for name in narrowed)
    assert parse_qs(urlparse(page.url).query)["f.region"] == ["North"]

    # the CSV has the table's rows
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    exported = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert exported[0][:3] == ["Category", "Revenue", "Revenue, last year"]
    table = shown_table(page)
    assert [row[0] for row in exported[1:]] == [row[0] for row in table]
    assert [float(row[1]) for row in exported[1:]] == [row[1] for row in table]

    # the URL is the view: a fresh page shows the same controls, table and chips
    url = page.url
    table_text = page.locator(".answer-table").inner_text()
    fresh = page.context.new_page()
    again = open_explore(fresh, stack, owner, url.split("?", 1)[1])
    assert fresh.locator("#measure-revenue").is_checked() and fresh.locator("#measure-orders").is_checked()
    assert fresh.get_by_label("Compare with").input_value() == "previous_year"
    assert fresh.get_by_label("Break down by").input_value() == "category"
    assert fresh.locator(".chip").all_inner_texts() == page.locator(".chip").all_inner_texts()
    assert fresh.locator(".answer-table").inner_text() == table_text
    assert fresh.locator("#views [aria-pressed=true]").inner_text() == "Bars"
    assert axe_violations(fresh) == []
    again.assert_clean()
    console.assert_clean()


def test_time_buckets_open_the_next_finer_period_and_errors_show_by_the_controls(
        page: Any, stack: Any, owner: dict[str, Any]) -> None:
    console = open_explore(page, stack, owner, "m=revenue&d=year&range=all")
    fields = call(stack, "GET", "/explore/fields", token=owner["access_token"])
    last_sale = fields["date_range"]["end"]
    page.locator(".answer-table").get_by_role("link", name="2025", exact=True).click()
    wait_title(page, "Revenue by quarter")
    query = parse_qs(urlparse(page.url).query)
    assert (query["from"], query["to"], query["d"]) == (["2025-01-01"], [last_sale], ["quarter"])
    assert page.get_by_label("From", exact=True).input_value() == "2025-01-01"
    assert page.evaluate(CRUMBS_JS) == ["All sales", "2025"]
    assert [row[0] for row in shown_table(page)] == ["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"]
    assert "partial" not in page.locator(".answer-table").inner_text()  # Q4 lacks only the days after the last sale

    # in a line chart, a click in the empty space above a point opens that period
    x, _ = page.evaluate(PIXEL_JS, ["2025-04-01", 0])
    box = page.locator("#chart").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + 40)
    wait_title(page, "Revenue by month")
    query = parse_qs(urlparse(page.url).query)
    assert (query["from"], query["to"]) == (["2025-04-01"], ["2025-06-30"])
    assert page.evaluate(CRUMBS_JS) == ["All sales", "2025", "Q2 2025"]
    console.assert_clean()

    # a question the API refuses: its message next to the controls, no chart
    page.get_by_label("From", exact=True).fill("2025-12-30")
    page.get_by_label("To", exact=True).fill("2025-01-01")
    error = page.locator("#question-error .form-error")
    error.wait_for()
    assert "backwards" in error.inner_text()
    assert page.locator("#chart").count() == 0


def test_weeks_cut_by_the_dates_are_named_partial_and_left_out_of_highest_and_lowest(
        page: Any, stack: Any, owner: dict[str, Any]) -> None:
    console = open_explore(page, stack, owner, "m=revenue&d=week&from=2025-10-02&to=2025-12-30")
    weeks = ask(stack, owner["access_token"], measures=["revenue"], dimensions=["week"], week_start="monday",
                date={"start": "2025-10-02", "end": "2025-12-30"})["rows"]
    assert (weeks[0]["week"], weeks[-1]["week"]) == ("2025-09-29", "2025-12-29")  # Thursday to Sunday; Mon, Tue
    partial = page.locator(".answer-table tbody th", has_text="(partial)").all_inner_texts()
    assert len(partial) == 2 and "Sep 29" in partial[0] and "Dec 29" in partial[1]
    whole = weeks[1:-1]
    top, bottom = max(whole, key=lambda w: w["revenue"]), min(whole, key=lambda w: w["revenue"])
    name = lambda week: page.locator(f".answer-table tbody th[data-value='{week['week']}']").inner_text()  # noqa: E731
    caption = page.locator(".chart-caption").inner_text()
    assert caption.startswith(f"Revenue was highest for {name(top)} ("), caption
    assert f"lowest for {name(bottom)} (" in caption, caption
    assert "only partly inside these dates" in caption and "left out of highest and lowest" in caption
    console.assert_clean()
