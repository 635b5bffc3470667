"""Currencies: the symbols people type into price columns, and amounts as sentences show them ("€1,234").

Ingestion reads symbols into ISO codes (``CURRENCY_SYMBOLS``); analytics writes amounts back with :func:`money`,
given the company's one currency, or as a bare number when the currency is unknown or several are mixed.
"""
from __future__ import annotations

import math

CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF"}
SYMBOL_OF = {code: symbol for symbol, code in CURRENCY_SYMBOLS.items() if len(symbol) == 1}


def money(value: float, currency: str | None = None, digits: int = 0) -> str:
    """``€1,234`` for a code with a symbol, ``1,234 SEK`` for other codes, ``1,234`` without one."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    rounded = round(float(value), digits)
    text = f"{abs(rounded):,.{digits}f}"
    if currency in SYMBOL_OF:
        text = SYMBOL_OF[currency] + text
    elif currency:
        text = f"{text} {currency}"
    return f"-{text}" if rounded < 0 else text
