"""Amounts in sentences, and the company's currency as the analysis learns it from the data profile."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from chalicelib.money import money
from jobs.facts import Facts


@pytest.mark.parametrize(("value", "currency", "digits", "text"), [
    (1234.4, "EUR", 0, "€1,234"),
    (-1234.6, "USD", 0, "-$1,235"),
    (-0.4, "GBP", 0, "£0"),  # rounds to zero: no minus sign
    (1234.5, "SEK", 2, "1,234.50 SEK"),  # a code without a symbol goes after the number
    (1234.4, None, 0, "1,234"),  # unknown or mixed currencies: just the number
    (math.nan, "EUR", 0, "—"),
    (None, "EUR", 0, "—"),
])
def test_money(value, currency, digits, text) -> None:
    assert money(value, currency, digits) == text


def _profile(currencies: int, currency: str | None) -> pd.DataFrame:
    return pd.DataFrame([{"sales_rows": 10, "currencies": currencies, "currency": currency}])


def test_facts_know_the_currency_only_when_the_sales_use_exactly_one() -> None:
    assert Facts.from_profile(_profile(1, "EUR")).currency == "EUR"
    assert Facts.from_profile(_profile(2, "EUR")).currency is None  # amounts were added across currencies
    assert Facts.from_profile(_profile(0, None)).currency is None
    assert Facts.from_profile(pd.DataFrame([{"sales_rows": 10}])).currency is None  # an older profile


def test_the_data_profile_counts_currencies_and_names_the_most_used() -> None:
    from chalicelib.auth.permissions import TenantContext
    from chalicelib.query.aggregates import sql
    from tests.fakes import FrameEngine

    sales = pd.DataFrame({"ts": pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"]),
                          "product_name": ["Tea"] * 4, "amount": [3.0, 4.0, 5.0, 6.0],
                          "currency": ["USD", "EUR", "USD", None]})
    ctx = TenantContext("t1", "system", "analyst")
    mixed = FrameEngine({"t1": {"transactions": sales}}).query(ctx, sql("data_profile"))
    assert (int(mixed.loc[0, "currencies"]), mixed.loc[0, "currency"]) == (2, "USD")
    assert Facts.from_profile(mixed).currency is None
    one = FrameEngine({"t1": {"transactions": sales.assign(currency="EUR")}}).query(ctx, sql("data_profile"))
    assert Facts.from_profile(one).currency == "EUR"
