"""A person signs up, confirms, logs in, sees their company, logs out — in a real browser."""
from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

pytestmark = pytest.mark.e2e


def test_health_and_portal_config_are_served(stack):
    with urllib.request.urlopen(f"{stack.api}/health", timeout=10) as response:
        assert json.load(response)["status"] == "ok"
    with urllib.request.urlopen(f"{stack.portal}/config.json", timeout=10) as response:
        assert json.load(response)["apiUrl"] == stack.api


def test_signup_confirm_login_logout(page, stack):
    email = f"owner-{uuid.uuid4().hex[:8]}@bikes.example"
    page.goto(f"{stack.portal}/signup.html")
    page.fill("#name", "Olivia Owner")
    page.fill("#company", "Olivia's Bikes")
    page.fill("#email", email)
    page.fill("#password", "Str0ng-Enough-Pass!")
    page.click("#signup")
    page.wait_for_url("**/confirm.html*")
    assert page.input_value("#email") == email
    page.fill("#code", "123456")
    page.click("#confirm")
    page.wait_for_url("**/index.html?confirmed=1*")
    assert "confirmed" in page.text_content("#notice").lower()

    page.fill("#email", email)
    page.fill("#password", "Str0ng-Enough-Pass!")
    page.click("#login")
    page.wait_for_url("**/overview.html*")  # a new company lands on the Overview, which says how to begin
    page.wait_for_selector("a[href='data.html']:has-text('Upload')")
    page.click("#topbar-email")
    page.wait_for_url("**/home.html*")
    page.wait_for_selector("#company-name:has-text(\"Olivia's Bikes\")")
    assert page.text_content("#role").strip().lower() == "owner"

    page.click("#logout")
    page.wait_for_url("**/index.html?loggedout=1*")
    page.goto(f"{stack.portal}/home.html")
    page.wait_for_url("**/index.html*")  # no session any more


def test_wrong_password_shows_a_message(page, stack):
    page.goto(f"{stack.portal}/index.html")
    page.fill("#email", "demo@saleslens.example")
    page.fill("#password", "Not-The-Password-1!")
    page.click("#login")
    page.wait_for_selector("text=Wrong email or password")
    assert page.url.endswith("index.html")


def test_demo_login_works(page, stack):
    page.goto(f"{stack.portal}/")
    page.fill("#email", "demo@saleslens.example")
    page.fill("#password", "Demo-Sales-2026!")
    page.click("#login")
    page.wait_for_url("**/overview.html*")
    page.wait_for_selector(".kpi-card")
    page.goto(f"{stack.portal}/data.html")
    revenue = page.locator("#datasets tr[data-dataset='transactions'] td").last
    revenue.wait_for()
    assert revenue.text_content().startswith("€")  # the demo sales are in EUR, and the total says so
