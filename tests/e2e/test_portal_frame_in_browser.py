"""The frame every signed-in page shares: navigation that collapses on a phone, global search that jumps to
the filtered Explore view by keyboard, and the preferences-driven formats."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.portal import Console, axe_violations, open_signed_in, screenshots, settle

pytestmark = pytest.mark.e2e

RESULTS = ".topbar-search [role='listbox']"
PAGES = ["overview.html", "explore.html", "forecasts.html", "customers.html", "products.html",
         "recommendations.html", "reports.html", "data.html", "settings.html"]


@pytest.fixture(scope="module")
def tokens(demo_owner):
    return demo_owner


def test_every_page_is_one_click_away_and_marks_where_you_are(page, stack, tokens):
    console = open_signed_in(page, stack, "data.html", tokens)
    settle(page)
    links = page.locator("#main-nav a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == PAGES
    assert page.get_attribute("#main-nav a[aria-current='page']", "href") == "data.html"
    console.assert_clean()


def test_on_a_phone_the_navigation_is_a_menu(page, stack, tokens):
    page.set_viewport_size({"width": 390, "height": 844})
    console = open_signed_in(page, stack, "data.html", tokens)
    settle(page)
    assert page.is_hidden("#main-nav")
    page.focus(".nav-toggle")
    page.keyboard.press("Enter")
    assert page.get_attribute(".nav-toggle", "aria-expanded") == "true"
    assert page.is_visible("#main-nav a[href='products.html']")
    page.keyboard.press("Enter")
    assert page.is_hidden("#main-nav")
    console.assert_clean()


def test_global_search_jumps_to_explore_filtered_on_the_match(page, stack, tokens):
    console = open_signed_in(page, stack, "data.html", tokens)
    settle(page)
    page.focus("#global-search")
    page.keyboard.type("tent cla")
    page.wait_for_selector(f"{RESULTS} li[role='option']:not([aria-disabled])")
    assert page.get_attribute("#global-search", "aria-expanded") == "true"
    first = page.text_content(f"{RESULTS} li")
    assert "Tent Classic" in first and "Product" in first
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#global-search", "aria-activedescendant").endswith("-option-0")
    page.keyboard.press("Enter")
    page.wait_for_url("**/explore.html?**")
    params = parse_qs(urlparse(page.url).query)
    assert params["f.product"] == ["Tent Classic"]
    console.assert_clean()


def test_search_says_when_nothing_matches(page, stack, tokens):
    open_signed_in(page, stack, "data.html", tokens)
    settle(page)
    page.fill("#global-search", "zzzz-no-such-thing")
    page.wait_for_selector(f"{RESULTS} li[aria-disabled='true']")
    assert "Nothing matches" in page.text_content(RESULTS)
    page.keyboard.press("Escape")
    assert page.is_hidden(RESULTS)


@pytest.mark.parametrize("path", ["index.html", "signup.html", "confirm.html?email=a%40b.example", "forgot.html"])
def test_the_public_pages_pass_axe(page, stack, path):
    console = Console(page)
    page.goto(f"{stack.portal}/{path}")
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []
    console.assert_clean()


def test_the_account_page_passes_axe_at_every_size(page, stack, tokens):
    console = open_signed_in(page, stack, "home.html", tokens)
    settle(page)
    page.wait_for_selector("#account:not([hidden])")
    assert axe_violations(page) == []
    screenshots(page, "account")
    console.assert_clean()
