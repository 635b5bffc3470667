"""A person uploads a sales file on the Data page, checks its columns and reads the quality report — in a real
browser against the local stack; a viewer sees the data but not the upload form."""
from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.portal import call

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PASSWORD = "Str0ng-Enough-Pass!"
HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
ITEMS = [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "2.55"), ("71053", "WHITE METAL LANTERN", "3.39"),
         ("22633", "HAND WARMER UNION JACK", "1.85"), ("84879", "ASSORTED COLOUR BIRD ORNAMENT", "1.69"),
         ("22961", "JAM MAKING SET PRINTED", "1.45"), ("22139", "RETROSPOT TEA SET CERAMIC", "4.25")]
BAD_DATE_ROW = 17  # 0-based among the data rows


def online_retail_csv(path: Path, rows: int = 30) -> Path:
    """An Online-Retail-style export: day-first dates, one line per order line, one row with an unreadable date."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for i in range(rows):
            code, description, price = ITEMS[i % len(ITEMS)]
            when = "not a date" if i == BAD_DATE_ROW else f"{i % 28 + 1:02d}/12/2023 {8 + i % 10:02d}:{i * 7 % 60:02d}"
            writer.writerow([536365 + i // 2, code, description, 1 + i % 6, when, price, 17850 + i % 7,
                             "France" if i % 4 == 0 else "United Kingdom"])
    return path


def register(stack: Any, email: str, **extra: str) -> str:
    """Sign up and confirm through the API (the local Cognito takes any code); returns an access token."""
    call(stack, "POST", "/auth/signup", {"name": "Uma Uploader", "email": email, "password": PASSWORD, **extra})
    call(stack, "POST", "/auth/confirm", {"email": email, "code": "123456"})
    return call(stack, "POST", "/auth/login", {"email": email, "password": PASSWORD})["access_token"]


def log_in_to_data_page(page: Any, stack: Any, email: str) -> None:
    page.goto(f"{stack.portal}/index.html")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url("**/overview.html*")
    page.click(".topbar-nav a[href='data.html']")
    page.wait_for_url("**/data.html*")
    page.wait_for_selector("#data:not([hidden])")


def test_upload_check_columns_and_read_the_quality_report(page, stack, tmp_path):
    email = f"uploader-{uuid.uuid4().hex[:8]}@shop.example"
    register(stack, email, company="Uma's Gifts")
    log_in_to_data_page(page, stack, email)
    page.wait_for_selector("#datasets-empty:not([hidden])")  # a new company starts empty and is told how to begin
    assert page.is_visible("#upload-card")
    assert "/templates/transactions.csv" in page.get_attribute("#template-link", "href")

    dropped = page.evaluate_handle("""() => {
        const files = new DataTransfer();
        files.items.add(new File(["a,b\\n1,2\\n"], "dropped.csv", { type: "text/csv" }));
        return files;
    }""")
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": dropped})
    assert page.text_content("#file-chosen").startswith("dropped.csv")  # dropping a file is choosing it

    page.select_option("#dataset", "transactions")
    page.set_input_files("#file", str(online_retail_csv(tmp_path / "online_retail.csv")))
    page.click("#upload")
    page.wait_for_selector('#upload-progress[value="100"]')
    assert page.text_content("#upload-percent").strip() == "100 %"

    page.wait_for_selector("#mapping-section:not([hidden])", timeout=30_000)
    assert page.input_value("#mapping select[name='ts']") == "InvoiceDate"
    assert page.input_value("#mapping select[name='order_id']") == "InvoiceNo"
    assert page.locator("#preview tbody tr").count() == 5
    assert page.locator("#preview thead th").count() == len(HEADER)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "data-mapping.png"), full_page=True)

    page.click("#confirm-mapping")
    page.wait_for_selector("#quality:not([hidden]), #upload-failure:not([hidden])", timeout=60_000)
    assert page.is_hidden("#upload-failure"), page.text_content("#upload-failure")
    assert page.text_content("[data-figure='rows_read'] dd").strip() == "30"
    assert page.text_content("[data-figure='rows_accepted'] dd").strip() == "29"
    assert page.text_content("[data-figure='rows_rejected'] dd").strip() == "1"
    assert page.text_content("#quality-headline").strip()
    assert page.get_attribute("#quality-score", "data-grade") in ("good", "fair", "poor")
    assert page.locator("#quality-issues li").count() >= 1
    assert page.is_visible("#rejects-link")
    page.wait_for_selector("#uploads li[data-status='loaded']")
    page.wait_for_selector("#datasets tr[data-dataset='transactions']")
    assert "29" in page.text_content("#datasets tr[data-dataset='transactions']")
    page.screenshot(path=str(SCREENSHOTS / "data-report.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#rejects-link")
    rejects = Path(download.value.path()).read_text()
    assert rejects.splitlines()[0].startswith("row,column,value,reason")
    assert "not a date" in rejects


def test_viewers_see_the_data_but_not_the_upload_form(page, stack):
    owner = register(stack, f"owner-{uuid.uuid4().hex[:8]}@shop.example", company="Vera's Vases")
    email = f"viewer-{uuid.uuid4().hex[:8]}@shop.example"
    invitation = call(stack, "POST", "/invitations", {"email": email, "role": "viewer"}, token=owner)
    register(stack, email, invitation=invitation["token"])
    log_in_to_data_page(page, stack, email)
    page.wait_for_selector("#datasets-empty:not([hidden])")
    assert "owner, admin or analyst" in page.text_content("#datasets-empty")
    assert page.is_visible("#uploads")
    assert page.is_hidden("#upload-card")
    assert page.locator("#file").count() == 1 and page.is_hidden("#file")
