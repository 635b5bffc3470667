"""Settings in a real browser against the local stack: formats saved once show on every page, the Overview's card
layout survives a reload, feedback reaches the team's list and SES's outbox; a viewer sees no team feedback.

Preferences are per member, so each test works as a fresh member invited into the demo company: the demo owner's
own preferences (which other tests read) never change."""
from __future__ import annotations

import json
import re
import urllib.request
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.portal import (
    Console,
    axe_violations,
    call,
    log_in,
    open_signed_in,
    screenshots,
    settle,
    wait_for_analysis,
)

pytestmark = pytest.mark.e2e

WEB = Path(__file__).resolve().parents[2] / "web"
PASSWORD = "Str0ng-Enough-Pass!"
DEFAULT_CARDS = ["revenue", "orders", "aov", "customers", "repeat_rate", "conversion", "new_customers", "units",
                 "return_rate"]
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
WRITTEN_OUT_DATE = re.compile(rf"\b(\d{{1,2}} ({MONTHS})\w* \d{{4}}|({MONTHS})\w* \d{{1,2}}, \d{{4}})\b")

# The page's text without the insight sentences, which the analysis job writes (dates and all) in English.
PORTAL_TEXT = """() => {
    const copy = document.querySelector("#page").cloneNode(true);
    for (const node of copy.querySelectorAll("#insights")) node.remove();
    document.body.append(copy);
    const text = copy.innerText;
    copy.remove();
    return text;
}"""


def invited_member(stack: Any, role: str) -> dict[str, Any]:
    """A new member of the demo company with `role`, signed in (tokens from POST /auth/login)."""
    owner = log_in(stack)["access_token"]
    email = f"settings-{role}-{uuid.uuid4().hex[:8]}@demo-outdoor.example"
    invitation = call(stack, "POST", "/invitations", {"email": email, "role": role}, token=owner)
    call(stack, "POST", "/auth/signup", {"name": f"Sam {role.title()}", "email": email, "password": PASSWORD,
                                         "invitation": invitation["token"]})
    call(stack, "POST", "/auth/confirm", {"email": email, "code": "123456"})
    return {**log_in(stack, email, PASSWORD), "email": email}


def open_settings(page: Any, stack: Any, path: str, member: dict[str, Any]) -> Console:
    console = open_signed_in(page, stack, path, member)
    settle(page)
    return console


def card_rows(page: Any) -> list[tuple[str, bool, bool]]:
    return [(card, hidden == "true", pinned == "true") for card, hidden, pinned in page.eval_on_selector_all(
        "#card-list li", "rows => rows.map(r => [r.dataset.card, r.dataset.hidden, r.dataset.pinned])")]


def sent_mail(stack: Any) -> list[dict[str, Any]]:
    """The messages moto's SES has "sent": the moto server lists its models at /moto-api/data.json."""
    args = stack.process.args
    moto = f"http://127.0.0.1:{args[args.index('--moto-port') + 1]}"
    with urllib.request.urlopen(f"{moto}/moto-api/data.json", timeout=30) as response:
        return json.loads(response.read())["ses"]["Message"]


def test_formats_saved_once_show_on_every_page(page, stack):
    member = invited_member(stack, "admin")
    console = open_settings(page, stack, "settings.html", member)
    assert page.is_checked("#date-format-long") and page.input_value("#timezone") == "UTC"
    assert page.text_content("label[for='currency-display-code'] .example").replace("\xa0", " ") == "EUR 1,234"

    page.check("#date-format-iso")
    page.select_option("#number_locale", "de-DE")
    page.check("#currency-display-code")
    page.check("input[name='week_start'][value='sunday']")
    today = datetime.now(UTC).date().isoformat()
    assert f"Now: {today}" in page.text_content("#preview")  # the preview follows the form before saving
    assert "1.234.567,89" in page.text_content("#preview")
    page.click("#save-prefs")
    page.wait_for_selector("#prefs-saved:not([hidden])")
    saved = call(stack, "GET", "/me/preferences", token=member["access_token"])
    assert (saved["date_format"], saved["number_locale"], saved["currency_display"]) == ("iso", "de-DE", "code")
    assert saved["week_start"] == "sunday"

    page.reload()
    settle(page)
    assert page.is_checked("#date-format-iso") and page.input_value("#number_locale") == "de-DE"

    page.goto(f"{stack.portal}/data.html")
    page.wait_for_selector("#datasets tr[data-dataset='transactions']")
    sales = page.text_content("#datasets tr[data-dataset='transactions']")
    assert "2024-01-01 – 2025-12-30" in sales
    assert re.search(r"\d\.\d{3}", sales) and "EUR" in sales  # German thousands separator, currency by its code

    wait_for_analysis(stack, member["access_token"])  # the Overview reads the analysis' results
    for other in ("overview.html", "explore.html"):
        if (WEB / other).exists():
            page.goto(f"{stack.portal}/{other}")
            settle(page)
            text = page.evaluate(PORTAL_TEXT)
            assert re.search(r"\b20\d\d-\d\d-\d\d\b", text), f"{other} shows no ISO date: {text[:400]}"
            assert not WRITTEN_OUT_DATE.search(text), f"{other} shows a date not in ISO form: {text[:400]}"
    weeks = page.locator(".answer-table tbody th").all_inner_texts()  # Explore opens on revenue by week
    assert weeks and {date.fromisoformat(re.search(r"\d{4}-\d\d-\d\d", w)[0]).weekday() for w in weeks} == {6}
    console.assert_clean()


def test_card_layout_survives_a_reload_and_reaches_the_overview(page, stack):
    member = invited_member(stack, "viewer")
    console = open_settings(page, stack, "settings.html#cards", member)
    assert [card for card, _, _ in card_rows(page)] == DEFAULT_CARDS
    assert page.evaluate("document.activeElement.id") == "cards"  # the Overview's "Customise cards" lands here

    page.uncheck("#card-show-units")
    assert page.is_disabled("#card-pin-units")  # a hidden card cannot be pinned
    page.check("#card-pin-aov")
    page.focus("#card-list li[data-card='customers'] .move-up")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # focus stays on the moved card's button
    assert page.text_content("#cards-status") == "Customers moved to position 2 of 9."
    assert page.is_visible("#cards-dirty")
    page.click("#save-cards")
    page.wait_for_selector("#cards-saved:not([hidden])")

    expected = [("revenue", False, False), ("customers", False, False), ("orders", False, False),
                ("aov", False, True), ("repeat_rate", False, False), ("conversion", False, False),
                ("new_customers", False, False), ("units", True, False), ("return_rate", False, False)]
    page.reload()
    settle(page)
    assert card_rows(page) == expected
    saved = call(stack, "GET", "/me/preferences", token=member["access_token"])["overview_cards"]
    assert [(c["card"], c["hidden"], c["pinned"]) for c in saved] == expected

    if (WEB / "overview.html").exists():
        wait_for_analysis(stack, member["access_token"])
        page.goto(f"{stack.portal}/overview.html")
        settle(page)
        measures = {m["name"] for m in call(stack, "GET", "/explore/fields", token=member["access_token"])["measures"]}
        shown = page.eval_on_selector_all(".kpi-card[data-measure]", "cards => cards.map(c => c.dataset.measure)")
        visible = [card for card, hidden, _ in expected if not hidden and card in measures]
        assert shown == ["aov"] + [card for card in visible if card != "aov"]  # pinned first, units left out
        page.goto(f"{stack.portal}/settings.html#cards")
        settle(page)

    page.locator("#card-list li[data-card='return_rate']").drag_to(page.locator("#card-list li[data-card='revenue']"))
    assert card_rows(page)[0][0] == "return_rate"
    page.click("#reset-cards")
    page.wait_for_selector("#cards-saved:not([hidden])")
    assert card_rows(page) == [(card, False, False) for card in DEFAULT_CARDS]

    assert page.is_hidden("#team-feedback")  # reading the team's feedback is for owners and admins
    assert page.is_hidden("#account-links a[href='home.html#audit-section']")
    with pytest.raises(AssertionError, match="answered 403"):
        call(stack, "GET", "/feedback", token=member["access_token"])
    console.assert_clean()


def test_feedback_reaches_the_team_and_support(page, stack):
    member = invited_member(stack, "admin")
    console = open_settings(page, stack, "settings.html", member)

    page.click("#send-feedback")  # an empty message is refused beside the box
    page.wait_for_selector("#feedback-message[aria-invalid='true']")
    assert "Write what you would like to tell us" in page.text_content("#feedback-message-error")

    text = f"Could the forecast page show weekly numbers too? ({uuid.uuid4().hex[:8]})"
    page.select_option("#feedback-kind", "idea")
    page.fill("#feedback-message", text)
    assert page.text_content("#feedback-count") == f"{len(text)} of 4,000 characters"
    page.click("#send-feedback")
    page.wait_for_selector("#feedback-sent:not([hidden])")
    assert page.text_content("#feedback-sent") == "Thanks — sent to the SalesLens team."
    assert page.input_value("#feedback-message") == ""

    row = page.locator("#team-feedback-table tbody tr", has_text=text)
    row.wait_for()
    assert member["email"] in row.text_content() and "Idea" in row.text_content()
    owner = log_in(stack)["access_token"]
    newest = call(stack, "GET", "/feedback?limit=5", token=owner)["feedback"][0]
    assert (newest["message"], newest["kind"], newest["email"], newest["sent"]) == (text, "idea", member["email"], True)
    mail = [m for m in sent_mail(stack) if text in m["body"]]
    assert len(mail) == 1 and mail[0]["subject"].startswith("[SalesLens idea] from ")
    assert member["email"] in mail[0]["body"]

    assert axe_violations(page) == []
    screenshots(page, "settings")
    console.assert_clean()
