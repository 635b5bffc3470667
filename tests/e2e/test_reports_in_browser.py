"""The Reports page in a real browser against the local stack: a report made from the page is followed until it
is ready, opens in the sandboxed frame and downloads as a PDF; schedules are added, refused with the API's words,
changed and deleted; alert settings survive a reload; a viewer sees everything but can change nothing; the public
unsubscribe page acts only when its button is pressed."""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.portal import (
    DEMO_EMAIL,
    SCREENSHOTS,
    VIEWPORTS,
    Console,
    axe_violations,
    call,
    open_signed_in,
    screenshots,
    settle,
)
from tests.e2e.test_settings_in_browser import invited_member

pytestmark = pytest.mark.e2e

SECTIONS = ["kpis", "products", "insights"]
# A title a user could type: markup and an ampersand must come back as the same text, never as elements.
TITLE = 'Bikes & <i data-injected="1">co</i> — März report'
# What Chromium logs for an API answer of 400 or 404: the page shows the API's message, which the tests check.
REFUSED = re.compile(r"Failed to load resource: the server responded with a status of (400|404)")


def open_reports(page: Any, stack: Any, tokens: dict[str, Any], path: str = "reports.html") -> Console:
    console = open_signed_in(page, stack, path, tokens)
    settle(page)
    return console


def only_refusals_logged(console: Console, expected: int) -> None:
    """The console holds exactly the `expected` logs of refused API calls the test caused, and nothing else."""
    refused = [text for text in console.errors if REFUSED.search(text)]
    assert len(refused) == expected, console.errors
    assert len(console.errors) == expected, console.errors


def choose_sections(page: Any, scope: str, wanted: list[str]) -> None:
    for box in page.locator(f"{scope} input[name='sections']").all():
        box.set_checked(box.get_attribute("value") in wanted)


def test_a_report_made_on_the_page_opens_and_downloads(page, stack, demo_owner):
    token = demo_owner["access_token"]
    console = open_reports(page, stack, demo_owner)
    assert page.input_value("#period-preset") == "last_30_days"
    assert len(page.locator("#make-sections input:checked").all()) == 9  # every section to begin with

    choose_sections(page, "#make-sections", SECTIONS)
    page.fill("#report-title", TITLE)
    page.fill("#filter-category", "bik")  # Explore's autocomplete, shared
    page.wait_for_selector("#filter-category ~ [role='listbox'] li[role='option']:not([aria-disabled])")
    page.keyboard.press("Enter")
    page.wait_for_selector("#report-filters .chip:has-text('Bikes')")
    page.click("#make-report")

    item = page.locator("#report-list .report-item").first
    item.locator("progress").wait_for()  # on top at once, with its progress bar, while the worker builds it
    assert item.get_attribute("data-status") in ("queued", "running")
    page.wait_for_selector("#report-list .report-item:first-child[data-status='ready']", timeout=90_000)
    assert "is ready" in page.text_content("#reports-status")
    assert item.locator(".report-title").inner_text() == TITLE
    assert item.locator("progress").count() == 0

    newest = call(stack, "GET", "/reports?limit=1", token=token)["reports"][0]
    assert newest["title"] == TITLE and newest["status"] == "ready"
    assert newest["request"]["sections"] == SECTIONS
    assert newest["request"]["period"] == {"preset": "last_30_days"}
    assert newest["request"]["filters"] == [{"field": "category", "op": "in", "values": ["Bikes"]}]
    text = item.inner_text()
    assert "Last 30 days" in text and "Category: Bikes" in text and "3 sections" in text and DEMO_EMAIL in text
    assert [li.inner_text() for li in item.locator(".headlines li").all()] == newest["headlines"]

    item.locator("[data-action='open']").click()
    page.wait_for_selector("#viewer:not([hidden])")
    assert page.get_attribute("#viewer-frame", "sandbox") == ""  # no scripts, no same origin
    assert page.evaluate("document.activeElement.id") == "viewer-title"
    report = page.frame_locator("#viewer-frame")
    report.locator("text=Key figures").first.wait_for()
    body = report.locator("body").inner_text()
    assert newest["headlines"][0] in " ".join(body.split())
    assert report.locator("[data-injected]").count() == 0 and TITLE in body
    assert page.evaluate("document.querySelector('#viewer-frame').getBoundingClientRect().height") >= 380
    screenshots(page, "reports-viewer")
    # The full-page shots above leave the off-screen frame unpainted; the panel on its own shows the report.
    for size, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.locator("#viewer").screenshot(path=str(SCREENSHOTS / f"reports-viewer-panel-{size}.png"))
    page.set_viewport_size({"width": 1366, "height": 900})

    with page.expect_download() as download:
        item.locator("[data-action='pdf']").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) == newest["pdf_bytes"]
    assert download.value.suggested_filename.endswith(".pdf")

    page.click("#viewer-close")
    assert page.is_hidden("#viewer")
    assert page.evaluate("document.activeElement.dataset.action") == "open"  # back where the reader was
    assert axe_violations(page) == []
    screenshots(page, "reports")
    console.assert_clean()


def test_a_schedule_is_refused_in_the_apis_words_then_saved_changed_and_deleted(page, stack, demo_owner):
    token = demo_owner["access_token"]
    console = open_reports(page, stack, demo_owner)
    name = f"Monday numbers {uuid.uuid4().hex[:6]}"
    page.click("#schedule-add")
    assert page.evaluate("document.activeElement.id") == "schedule-name"
    assert page.is_checked(f"#schedule-recipients input[value='{DEMO_EMAIL}']")  # the one asking, to begin with
    page.fill("#schedule-name", name)
    page.check("#schedule-weekly")
    page.select_option("#schedule-weekday", "0")
    page.select_option("#schedule-hour", "8")
    choose_sections(page, "#schedule-sections", SECTIONS)

    page.fill("#schedule-timezone", "Europe/Berln")
    page.click("#schedule-save")
    page.wait_for_selector("#schedule-timezone[aria-invalid='true']")
    assert "'Europe/Berln' is not a time zone; use an IANA name such as Europe/Berlin." in \
        page.text_content("#schedule-timezone-error")
    assert "is not a time zone" in page.text_content("#schedule-form .form-error")

    page.fill("#schedule-timezone", "Europe/Berlin")
    page.uncheck(f"#schedule-recipients input[value='{DEMO_EMAIL}']")
    page.click("#schedule-save")
    page.wait_for_selector("#schedule-recipients-group-error")
    assert page.is_hidden("#schedule-timezone-error")  # the earlier message went with the earlier attempt
    assert page.text_content("#schedule-recipients-group-error").strip()
    assert page.get_attribute("#schedule-recipients-group", "aria-invalid") == "true"
    assert axe_violations(page) == []  # also with the messages shown
    screenshots(page, "reports-schedule-form")

    page.check(f"#schedule-recipients input[value='{DEMO_EMAIL}']")
    page.click("#schedule-save")
    page.wait_for_selector("#schedule-form", state="hidden")
    row = page.locator("#schedule-table tbody tr", has_text=name)
    row.wait_for()
    saved = next(s for s in call(stack, "GET", "/report-schedules", token=token)["schedules"] if s["name"] == name)
    assert saved["when"] == "Every Monday at 08:00 (Europe/Berlin)"
    assert (saved["recipients"], saved["sections"], saved["enabled"]) == ([DEMO_EMAIL], SECTIONS, True)
    assert saved["when"] in row.inner_text() and DEMO_EMAIL in row.inner_text()
    assert page.text_content("#schedules-status") == f"Schedule “{name}” saved: {saved['when']}."

    row.locator("[data-action='edit']").click()
    assert page.input_value("#schedule-name") == name and page.input_value("#schedule-timezone") == "Europe/Berlin"
    page.check("#schedule-monthly")
    assert page.is_hidden("#weekday-field") and page.is_visible("#day-field")
    page.select_option("#schedule-day", "last")
    page.uncheck("#schedule-enabled")
    page.click("#schedule-save")
    page.wait_for_selector("#schedule-form", state="hidden")
    changed = call(stack, "GET", "/report-schedules", token=token)["schedules"]
    changed = next(s for s in changed if s["schedule_id"] == saved["schedule_id"])
    assert (changed["frequency"], changed["day"], changed["enabled"]) == ("monthly", -1, False)
    page.wait_for_selector(f"#schedule-table tbody tr:has-text('{changed['when']}')")
    assert "Paused" in row.inner_text()
    screenshots(page, "reports-schedules")

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("[data-action='delete']").click()
    row.wait_for(state="detached")
    assert all(s["schedule_id"] != saved["schedule_id"]
               for s in call(stack, "GET", "/report-schedules", token=token)["schedules"])
    only_refusals_logged(console, 2)


def test_alert_settings_are_kept_and_a_bad_webhook_is_refused_beside_it(page, stack, demo_owner):
    token = demo_owner["access_token"]
    before = call(stack, "GET", "/alert-settings", token=token)
    try:
        console = open_reports(page, stack, demo_owner)
        assert page.is_hidden("#alerts-readonly") and not page.is_disabled("#alert-severity")
        page.select_option("#alert-severity", "high")
        page.check(f"#alert-recipients input[value='{DEMO_EMAIL}']")
        page.fill("#alert-lookback", "14")
        page.fill("#alert-churn-share", "25")
        page.uncheck("#alert-forecast_miss")
        page.click("#alerts-save")
        page.wait_for_selector("#alerts-saved:not([hidden])")

        page.reload()
        settle(page)
        assert page.input_value("#alert-severity") == "high"
        assert page.is_checked(f"#alert-recipients input[value='{DEMO_EMAIL}']")
        assert page.input_value("#alert-lookback") == "14" and page.input_value("#alert-churn-share") == "25"
        assert not page.is_checked("#alert-forecast_miss") and page.is_checked("#alert-anomalies")
        assert DEMO_EMAIL in page.text_content("#alerts-updated")
        saved = call(stack, "GET", "/alert-settings", token=token)
        assert saved["email_to"] == [DEMO_EMAIL]
        assert (saved["rules"]["min_severity"], saved["rules"]["lookback_days"]) == ("high", 14)
        assert saved["rules"]["churn_jump_share"] == pytest.approx(0.25)

        page.fill("#alert-webhook", "ftp://hooks.example/saleslens")
        page.click("#alerts-save")
        page.wait_for_selector("#alert-webhook[aria-invalid='true']")
        assert "must start with https://" in page.text_content("#alert-webhook-error")
        assert "webhook_url" in page.text_content("#alerts-form .form-error")
        assert call(stack, "GET", "/alert-settings", token=token)["webhook_url"] == ""

        # The local stack lets webhooks go to loopback: the secret SalesLens makes is shown once, then only its end.
        page.fill("#alert-webhook", "http://127.0.0.1:9/saleslens-alerts")
        page.click("#alerts-save")
        page.wait_for_selector("#secret-once:not([hidden])")
        assert "Copy it now; it will not be shown again" in page.text_content("#secret-once")
        secret = page.input_value("#secret-value")
        assert secret and page.evaluate("document.activeElement.id") == "secret-value"
        page.reload()
        settle(page)
        assert page.is_hidden("#secret-once") and secret not in page.content()
        assert page.text_content("#secret-hint-value") == f"…{secret[-4:]}"
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#rotate-secret")
        page.wait_for_selector("#secret-once:not([hidden])")
        rotated = page.input_value("#secret-value")
        assert rotated and rotated != secret
        assert call(stack, "GET", "/alert-settings", token=token)["webhook_secret_hint"] == f"…{rotated[-4:]}"
        only_refusals_logged(console, 1)
    finally:
        call(stack, "PUT", "/alert-settings", {"enabled": before["enabled"], "rules": before["rules"],
                                               "email_to": before["email_to"], "webhook_url": before["webhook_url"]},
             token=token)


def test_a_viewer_reads_everything_and_changes_nothing(page, stack, demo_owner):
    viewer = invited_member(stack, "viewer")
    console = open_reports(page, stack, viewer)
    assert page.is_hidden("#make") and page.is_hidden("#schedule-add")
    assert page.is_hidden(".reports-toc a[href='#make']")
    page.wait_for_selector("#report-list .report-item, #report-list .empty-state")
    assert page.locator("#schedule-table [data-action]").count() == 0
    assert page.is_disabled("#alert-severity") and page.is_visible("#alerts-readonly")
    assert page.is_hidden("#alerts-save")
    assert page.locator("#delivery-list table, #delivery-list .empty-state").count() == 1
    assert axe_violations(page) == []
    console.assert_clean()


def test_the_unsubscribe_page_waits_for_the_button_and_shows_the_apis_answer(page, stack):
    console = Console(page)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.method) if request.url.endswith("/unsubscribe") else None)
    page.goto(f"{stack.portal}/unsubscribe.html?token=not-a-real-token-{uuid.uuid4().hex}")
    page.wait_for_load_state("networkidle")
    assert asked == []  # a mail scanner opening the link changes nothing
    assert axe_violations(page) == []
    screenshots(page, "unsubscribe")

    page.click("#unsubscribe")
    page.wait_for_selector("#unsubscribe-error:not([hidden])")
    assert asked == ["POST"]
    assert "This unsubscribe link is not valid (any more)" in page.text_content("#unsubscribe-error")
    assert page.is_hidden("#unsubscribed")
    only_refusals_logged(console, 1)

    page.goto(f"{stack.portal}/unsubscribe.html")
    assert page.is_disabled("#unsubscribe") and "incomplete" in page.text_content("#what")
