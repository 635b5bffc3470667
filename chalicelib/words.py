"""Counts in words for the sentences the analysis writes ("1 test", "36 weeks", "1,095 days")."""
from __future__ import annotations


def count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (regular plurals only: every noun we count takes an s)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
