"""The preferences model: defaults from the Explore presets, and saved values that no longer fit falling back."""
from __future__ import annotations

from chalicelib.mail import _one_line
from chalicelib.query.explore_model import PRESETS
from chalicelib.tenancy.preferences import DEFAULT_RANGE, OVERVIEW_CARDS, Preferences, from_stored


def test_defaults() -> None:
    prefs = Preferences()
    assert DEFAULT_RANGE == "last_90_days" and DEFAULT_RANGE in PRESETS
    assert [c.card for c in prefs.overview_cards] == list(OVERVIEW_CARDS)
    assert from_stored(None) == prefs


def test_stored_values_no_longer_valid_fall_back_to_their_defaults() -> None:
    stored = {"timezone": "Gone/Zone", "default_range": "last_2_days", "week_start": "sunday", "retired_field": 1,
              "overview_cards": [{"card": "retired_card"}, {"card": "units", "pinned": True}]}
    prefs = from_stored(stored)
    assert prefs.timezone == "UTC" and prefs.default_range == DEFAULT_RANGE
    assert prefs.week_start == "sunday"  # what is still valid is kept
    assert prefs.overview_cards[0].card == "units" and prefs.overview_cards[0].pinned
    assert [c.card for c in prefs.overview_cards[1:]] == [c for c in OVERVIEW_CARDS if c != "units"]


def test_a_subject_is_one_short_line() -> None:
    assert _one_line("[SalesLens idea] from Acme\r\nBcc: everyone@example.com") == (
        "[SalesLens idea] from Acme Bcc: everyone@example.com")
    assert len(_one_line("x" * 500)) == 200
