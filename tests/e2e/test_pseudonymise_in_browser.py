"""The privacy option of the Data page: customer ids are pseudonymised in the browser before the file is sent —
SalesLens stores only the pseudonyms, which are exactly the documented PBKDF2 + HMAC-SHA256 scheme (docs/privacy.md),
the same passphrase gives the same pseudonyms on the next upload, and the look-up form finds a customer's code."""
from __future__ import annotations

import hashlib
import hmac
import urllib.parse
import uuid
from pathlib import Path

import pytest

from tests.e2e.portal import axe_violations, call, log_in, open_signed_in, screenshots
from tests.e2e.test_upload_in_browser import PASSWORD, online_retail_csv, register

pytestmark = pytest.mark.e2e

PASSPHRASE = "seven lanterns by the harbour"
PICKED = "#customer-column option:checked:not([value=''])"  # (wait_for_function would need 'unsafe-eval')
RAW_IDS = [str(17850 + i) for i in range(7)]  # the ids online_retail_csv writes in its CustomerID column


def expected_pseudonym(tenant_id: str, raw: str) -> str:
    """The scheme of docs/privacy.md, computed independently of the browser."""
    key = hashlib.pbkdf2_hmac("sha256", PASSPHRASE.encode(), f"saleslens:{tenant_id}".encode(), 310_000)
    return "c_" + hmac.new(key, raw.strip().encode(), hashlib.sha256).hexdigest()[:24]


def customer_values(stack, token: str, q: str) -> list[str]:
    query = urllib.parse.urlencode({"dimension": "customer", "q": q, "limit": 20})
    return [v["value"] for v in call(stack, "GET", f"/explore/values?{query}", token=token)["values"]]


def upload_pseudonymised(page, path: Path) -> str:
    """Upload `path` with the option on (passphrase already typed); the text of the outcome line."""
    page.set_input_files("#file", str(path))
    page.wait_for_selector(PICKED, state="attached")
    page.click("#upload")
    page.wait_for_selector("#pseudonymise-result:not([hidden])", timeout=30_000)
    page.wait_for_selector('#upload-progress[value="100"]')
    page.wait_for_selector(f"#panel-title:text-is('{path.name}')")
    page.wait_for_selector("#mapping-section:not([hidden])", timeout=30_000)
    return page.text_content("#pseudonymise-result")


def preview_column(page, name: str) -> list[str]:
    headers = [h.strip() for h in page.locator("#preview thead th").all_text_contents()]
    at = next(i for i, h in enumerate(headers) if h.startswith(name)) + 1
    return [c.strip() for c in page.locator(f"#preview tbody tr td:nth-child({at})").all_text_contents()]


def test_customer_ids_are_pseudonymised_in_the_browser(page, stack, tmp_path):
    email = f"private-{uuid.uuid4().hex[:8]}@shop.example"
    token = register(stack, email, company="Pia's Private Prints")
    tenant_id = call(stack, "GET", "/me", token=token)["tenant"]["tenant_id"]
    wanted = {raw: expected_pseudonym(tenant_id, raw) for raw in RAW_IDS}
    console = open_signed_in(page, stack, "data.html", log_in(stack, email, PASSWORD))
    page.wait_for_selector("#upload-card:not([hidden])")

    page.select_option("#dataset", "products")
    assert page.is_hidden("#privacy")  # products have no customer ids
    page.select_option("#dataset", "transactions")
    page.check("#pseudonymise")
    page.set_input_files("#file", str(online_retail_csv(tmp_path / "online_retail.csv")))
    page.fill("#passphrase", "too short")
    assert page.get_attribute("#passphrase-strength", "data-level") == "short"
    page.fill("#passphrase", PASSPHRASE)
    page.check("#remember-passphrase")
    page.wait_for_selector(PICKED, state="attached")
    assert page.eval_on_selector("#customer-column", "s => s.selectedOptions[0].text") == "CustomerID"
    page.click("#passphrase-toggle")
    assert page.get_attribute("#passphrase", "type") == "text"
    page.click("#passphrase-toggle")
    page.click(".tradeoffs summary")
    page.wait_for_selector("#summary-loading", state="hidden")  # the page is complete (no "Counting your rows…")
    assert axe_violations(page) == []
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar then stays at the top of the full-page shots
    screenshots(page, "data-pseudonymise")

    outcome = upload_pseudonymised(page, tmp_path / "online_retail.csv")
    assert "30 customer ids (7 customers)" in outcome
    assert page.input_value("#mapping select[name='customer_id']") == "CustomerID"
    first_rows = [wanted[str(17850 + i)] for i in range(5)]  # the preview shows the file's first 5 rows
    assert preview_column(page, "CustomerID") == first_rows
    page.click("#confirm-mapping")
    page.wait_for_selector("#quality:not([hidden]), #upload-failure:not([hidden])", timeout=60_000)
    assert page.is_hidden("#upload-failure"), page.text_content("#upload-failure")

    # SalesLens holds the pseudonyms of the documented scheme and none of the raw ids
    assert sorted(customer_values(stack, token, "c_")) == sorted(wanted.values())
    assert all(not customer_values(stack, token, raw) for raw in RAW_IDS[:2])

    # the passphrase was remembered for this tab; the next upload gives the same pseudonyms
    assert page.is_checked("#pseudonymise") and page.input_value("#passphrase") == PASSPHRASE
    again = online_retail_csv(tmp_path / "more_sales.csv", rows=12)
    assert "12 customer ids" in upload_pseudonymised(page, again)
    assert preview_column(page, "CustomerID") == first_rows

    # the look-up form shows the code a customer is known by
    page.click("#lookup summary")
    page.fill("#lookup-id", f" {RAW_IDS[3]} ")
    page.fill("#lookup-passphrase", PASSPHRASE)
    page.click("#lookup-submit")
    page.wait_for_selector("#lookup-result:not([hidden])")
    assert page.input_value("#lookup-pseudonym") == wanted[RAW_IDS[3]]
    assert "f.customer=" + wanted[RAW_IDS[3]] in page.get_attribute("#lookup-explore", "href")
    console.assert_clean()
